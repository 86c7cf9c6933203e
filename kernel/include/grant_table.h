/**
 * @file grant_table.h
 * @brief Grant tables, Xen's version 1 (kernel/dom/grant_table.c; Xen's xen/include/public/grant_table.h).
 *
 * A domain shares a page of its own with another domain by writing an
 * entry in its *grant table* (struct grant_entry_v1, xen.h): which frame,
 * which domain may use it, read-only or not. The other domain names the
 * entry by its index, the *grant reference*, and asks the hypervisor to
 * map that frame into its own guest-physical memory (GNTTABOP_map_grant_ref)
 * or to copy to or from it (GNTTABOP_copy). While a frame is mapped the
 * hypervisor keeps GTF_reading (and GTF_writing) set in the entry, so the
 * granter cannot revoke it: its compare-and-swap of the flags fails.
 *
 * On Hypatia the table's frames are pages of the granter's own memory (as
 * the shared-info page is): placed with XENMEM_add_to_physmap
 * (XENMAPSPACE_grant_table, idx = frame) or, for frames not placed yet, by
 * GNTTABOP_setup_table at the top of the domain's memory (below the
 * command-line page), their frame numbers returned in its frame list. All
 * of it is plain data in struct grant_table, savable as it is (labs 5-6),
 * except each mapping's @c saved_frame, a host address that a restore
 * rebuilds.
 */
#ifndef HYPATIA_GRANT_TABLE_H
#define HYPATIA_GRANT_TABLE_H

#include "types.h"
#include "xen.h"

struct domain;
struct vcpu;

/** Frames a domain's grant table may have (Xen's default max_grant_frames is 64; 4 x 512 entries here). */
#define GRANT_TABLE_MAX_FRAMES 4
/** Foreign pages a domain may have mapped at once (its maptrack: the handles). */
#define GRANT_MAPTRACK_SIZE 64

/** One grant a domain has mapped (an entry of its maptrack; the index is the handle). */
struct grant_mapping {
	uint8_t in_use;         /**< 1 while mapped */
	uint8_t readonly;       /**< mapped with GNTMAP_readonly */
	uint16_t granter;       /**< the domain whose grant it is */
	grant_ref_t ref;        /**< the grant reference in the granter's table */
	uint64_t gpa;           /**< where it is mapped in this domain (host_addr) */
	uint64_t granted_frame; /**< the granter's guest frame number (the entry's frame at map time) */
	paddr_t saved_frame;    /**< the host frame this domain had at @c gpa, given back on unmap */
};

/** A domain's grant table: where its frames are, and what it has mapped of others'. */
struct grant_table {
	uint32_t nr_frames;                               /**< frames in use (setup_table, add_to_physmap) */
	uint64_t frame_gfn[GRANT_TABLE_MAX_FRAMES];       /**< guest frame number of each frame (0: not placed) */
	struct grant_mapping maptrack[GRANT_MAPTRACK_SIZE]; /**< foreign grants mapped here, by handle */
	bool tlb_flush_due;                               /**< an unmap changed the nested table: flush before the next run */
};

/** GNTTABOP_@p cmd on the @p count structures at guest address @p arg; 0 (each structure has its status) or -XEN_E*. */
int64_t grant_table_op(struct vcpu *vcpu, uint64_t cmd, uint64_t arg, uint64_t count);
/** XENMEM_add_to_physmap(XENMAPSPACE_grant_table): frame @p idx of @p domain's table at guest frame @p gpfn; 0 or -XEN_EINVAL. */
int64_t grant_table_place_frame(struct domain *domain, uint64_t idx, uint64_t gpfn);
/**
 * @p domain is dying: undo every grant it has mapped (its own memory gets
 * its frames back, the granters' entries lose GTF_reading/GTF_writing), so
 * nothing of another domain stays reachable through its tables and its
 * pages can be freed. Idempotent.
 */
void grant_table_release(struct domain *domain);
/**
 * @p domain is being destroyed: grant_table_release(), and every mapping
 * another domain still has of its grants is undone (Xen would keep the page
 * until then; here its frames are about to be freed).
 */
void grant_table_destroy(struct domain *domain);
/** True if guest-physical page @p gpa of @p domain is a grant mapped read-only: the hypervisor must not write it either. */
bool grant_gpa_readonly(const struct domain *domain, uint64_t gpa);
/** True (and cleared) if @p domain's nested table (NPT or EPT) changed a mapping since its last run: its TLB must be flushed. */
bool grant_take_tlb_flush(struct domain *domain);

/**
 * The checks a request to use grant @p ref must pass (LAB 4, kernel/dom/grant_check.c).
 * @p nr_entries is the size of the granter's table; @p entry the entry as
 * it reads now (zero if @p ref is out of range); @p caller the domain asking;
 * @p readonly whether it asks only to read. Returns GNTST_okay and, in
 * @p new_flags, the entry's flags with GTF_reading (and GTF_writing unless
 * @p readonly) added; else the GNTST_* status Xen gives.
 */
int16_t grant_check_access(uint32_t ref, uint32_t nr_entries, struct grant_entry_v1 entry, uint16_t caller,
			   bool readonly, uint16_t *new_flags);

#endif
