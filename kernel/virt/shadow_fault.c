/*
 * shadow_fault.c — LAB 2 student file: decide whether a page fault is the
 * guest's (true) or the shadow's (hidden).
 */
#include "domain.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"

/*
 * LAB 2: a #PF at gva while the guest ran on the shadow tables, with the
 * hardware's error code hw_error, whose U bit says whether the guest ran in
 * its user mode (the PV backend puts the *virtual* CPL there: its guest
 * really always runs at CPL 3). Walk the guest's tables for the same kind
 * of access (guest_walk, setting A/D; ACCESS_USER if U). If the walk fails
 * it is a true fault: count it
 * (domain->shadow.true_faults), set vcpu->cr2 and inject #PF with the
 * walk's error code. Otherwise it is a hidden fault: count it and
 * shadow_install() the page — writable only if the walk says writable AND
 * the leaf is dirty, so the first write faults again and sets D; pass the
 * walk's user flag along (the U/S split). If policy refuses the mapping,
 * the guest gets a #PF (hw_error without P).
 */
void shadow_page_fault(struct vcpu *vcpu, uint64_t gva, uint32_t hw_error)
{
	(void)gva, (void)hw_error;
	domain_crash(vcpu->domain, "LAB 2: shadow_page_fault() is not implemented (labs/lab2/README.md)");
}
