/*
 * grant_check.c — LAB 4: may this domain use that grant? (labs/lab4/README.md, part 2)
 *
 * Every map_grant_ref and every grant side of a copy comes here with the
 * entry of the granter's table as it reads at that moment (struct
 * grant_entry_v1 {flags, domid, frame}; Xen's xen/include/public/grant_table.h).
 * The answer is one of Xen's statuses; on success, the flags the hypervisor
 * swaps into the entry to say it is in use.
 */
#include "console.h"
#include "grant_table.h"

/*
 * LAB 4: decide whether domain @caller may use grant @ref, whose entry
 * reads @entry, for reading only (@readonly) or for writing too.
 * - @ref at or past @nr_entries: GNTST_bad_gntref (@entry is then zero);
 * - the entry's type (flags & GTF_type_mask) is not GTF_permit_access (a
 *   revoked or never-made grant), or its domid is not @caller:
 *   GNTST_general_error — Xen does not tell the two apart;
 * - a write to a GTF_readonly grant: GNTST_general_error;
 * - otherwise GNTST_okay, with *@new_flags = the entry's flags plus
 *   GTF_reading, plus GTF_writing unless @readonly (the caller swaps them
 *   in: while they are set, the granter cannot revoke the grant).
 * Hint: every constant is in guests/include/xen.h, cited to Xen's header.
 */
int16_t grant_check_access(uint32_t ref, uint32_t nr_entries, struct grant_entry_v1 entry, uint16_t caller,
			   bool readonly, uint16_t *new_flags)
{
	(void)ref, (void)nr_entries, (void)entry, (void)caller, (void)readonly, (void)new_flags;
	static bool said; /* once: a guest may retry many times */
	if (!said && (said = true))
		kprintf("[hv] LAB 4: grant_check_access() not implemented (kernel/dom/grant_check.c)\n");
	return GNTST_general_error;
}
