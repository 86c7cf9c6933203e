/*
 * shadow_fault.c — LAB 2 reference solution: hidden or true?
 */
#include "domain.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"

void shadow_page_fault(struct vcpu *v, uint64_t gva, uint32_t hw_error)
{
	unsigned access = hw_error & PF_FETCH ? ACCESS_FETCH : hw_error & PF_WRITE ? ACCESS_WRITE : ACCESS_READ;
	if (hw_error & PF_USER) /* the guest's own CPL 3: its user mode */
		access |= ACCESS_USER;
	struct guest_walk_result walk;
	if (!guest_walk(v, gva, access, true, &walk)) {
		if (v->domain->state != DOMAIN_RUNNABLE)
			return;
		v->domain->shadow.true_faults++;
		v->cr2 = gva;
		vcpu_inject_exception(v, VEC_PF, true, walk.error);
		return;
	}
	/* Map writable only once the guest's D bit is set, so that the first
	 * write to a page faults here again and sets it (a write access just
	 * did, in the walk). */
	v->domain->shadow.hidden_faults++;
	if (!shadow_install(v, gva, walk.gpa, walk.writable && walk.dirty, walk.executable, walk.user)) {
		v->domain->shadow.true_faults++;
		v->cr2 = gva;
		vcpu_inject_exception(v, VEC_PF, true, hw_error & ~PF_PRESENT);
	}
}
