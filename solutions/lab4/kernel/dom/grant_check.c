/*
 * grant_check.c — LAB 4: may this domain use that grant? (labs/lab4/README.md, part 2)
 *
 * Every map_grant_ref and every grant side of a copy comes here with the
 * entry of the granter's table as it reads at that moment (struct
 * grant_entry_v1 {flags, domid, frame}; Xen's xen/include/public/grant_table.h).
 * The answer is one of Xen's statuses; on success, the flags the hypervisor
 * swaps into the entry to say it is in use.
 */
#include "grant_table.h"

int16_t grant_check_access(uint32_t ref, uint32_t nr_entries, struct grant_entry_v1 entry, uint16_t caller,
			   bool readonly, uint16_t *new_flags)
{
	/* A reference past the table names no entry: GNTST_bad_gntref. */
	if (ref >= nr_entries)
		return GNTST_bad_gntref;
	/* The entry must be a live access grant (revoked: type 0) for exactly
	 * this caller; Xen answers both with GNTST_general_error. */
	if ((entry.flags & GTF_type_mask) != GTF_permit_access || entry.domid != caller)
		return GNTST_general_error;
	/* A read-only grant cannot be used for writing. */
	if (!readonly && (entry.flags & GTF_readonly))
		return GNTST_general_error;
	*new_flags = entry.flags | GTF_reading | (readonly ? 0 : GTF_writing);
	return GNTST_okay;
}
