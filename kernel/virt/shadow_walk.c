/*
 * shadow_walk.c — LAB 2 student file: walk the guest's page tables.
 *
 * See labs/lab2/README.md. kernel/include/shadow.h documents guest_walk();
 * kernel/include/paging.h has the entry bits (PTE_*), trap.h the #PF error
 * bits (PF_*).
 */
#include "domain.h"
#include "memlayout.h"
#include "paging.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/*
 * LAB 2: walk the guest's 4-level tables from vcpu->cr3 (guest-physical,
 * read them with domain_read()) for gva, as the CPU does at CPL 0 — or at
 * CPL 3 when access has ACCESS_USER (guest user mode):
 * - an entry without P: fail with error = the access bits (W for a write,
 *   U for a user access, I/D for a fetch when EFER.NXE is on);
 * - reserved bits set (above the CPU's physical-address width —
 *   shadow_physical_address_bits() —, NX without EFER.NXE, PS in a PML4E or
 *   PDPTE, bits 20:13 of a 2 MiB PDE): fail with P | RSVD | access bits;
 * - a PDE with PS is a 2 MiB leaf;
 * - permissions accumulate: W on every level (for a supervisor access
 *   checked only if CR0.WP; a user write always needs it), U on every level
 *   (a user access needs it; a supervisor access ignores it: no SMEP/SMAP),
 *   NX on any level forbids fetches; fail with P | access bits;
 * - on success report out->user (U on every level): the shadow needs it;
 * - on success, if set_accessed_dirty, set A in every entry used and D in
 *   the leaf for a write, writing them back into guest memory.
 * A table outside the domain's memory: domain_crash().
 * See SDM Vol. 3A §4.5 (4-level paging), §4.6 (access rights), §4.7
 * (page-fault error codes), §4.8 (accessed and dirty flags).
 */
bool guest_walk(struct vcpu *vcpu, uint64_t gva, unsigned access, bool set_accessed_dirty,
		struct guest_walk_result *out)
{
	(void)gva, (void)access, (void)set_accessed_dirty;
	out->error = 0;
	domain_crash(vcpu->domain, "LAB 2: guest_walk() is not implemented (labs/lab2/README.md)");
	return false;
}
