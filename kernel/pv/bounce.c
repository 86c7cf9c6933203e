/*
 * bounce.c — LAB 1 student file: deliver exceptions and interrupts to a
 * deprivileged guest through its own IDT, and emulate IRETQ.
 *
 * See labs/lab1/README.md, part 3 "Bouncing exceptions". This file holds
 * only the functions you write; kernel/include/pv.h documents each one and
 * lists the helpers you may use (pv_access_guest, pv_read_guest, pv_write_guest,
 * pv_interrupts_masked, pv_set_virtual_if, vcpu_inject_exception, ...).
 */
#include "decode.h"
#include "domain.h"
#include "pv.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/*
 * LAB 1: deliver @vector to the guest as the CPU would at CPL 0.
 *
 * 1. Read the 16-byte gate at vcpu->idtr.base + 16 * vector (check it lies
 *    within vcpu->idtr.limit; read it with pv_access_guest(), which also
 *    works once lab 2 gives the guest its own page tables). It must be present
 *    and an interrupt (type 0xE) or trap (0xF) gate. Its handler address is
 *    split over bytes 0-1, 6-7 and 8-11 (SDM Vol. 3A Figure 6-8).
 * 2. Push, on the guest's current stack aligned down to 16: SS (PV_GUEST_SS),
 *    RSP, RFLAGS (with IF = the *virtual* IF, IOPL 0), CS (PV_GUEST_CS), RIP,
 *    and the error code if @has_error (SDM Vol. 3A §6.14.2, Figure 6-9).
 * 3. Continue at the handler; an interrupt gate clears the virtual IF.
 * Return false, changing nothing, if the gate or the stack is unusable.
 *
 * LAB 2 (guest user mode, labs/lab2/README.md part 4) extends it. When
 * vcpu->virtual_cpl is 3 the guest runs in its user mode: a software
 * interrupt (kind BOUNCE_SOFTWARE) needs a gate with DPL 3 (bits 5-6 of
 * byte 5), else return false (the caller raises #GP(vector * 8 + 2)); the
 * frame goes on the stack pv_guest_tss_stack(vcpu, 0, &rsp) gives (RSP0 of
 * the guest's TSS) and names the user CS/SS (vcpu->virtual_cs/virtual_ss,
 * which replace PV_GUEST_CS/PV_GUEST_SS in step 2 in every mode); then
 * pv_switch_mode(vcpu, 0, the gate's selector, 0): the guest is back in its
 * kernel, SS null (SDM Vol. 3A §6.14.2). Read the gate and write the frame
 * with ACCESS_READ/ACCESS_WRITE | PV_ACCESS_SUPERVISOR: the CPU's own
 * accesses are supervisor ones, even from user mode. A gate with an IST
 * index (byte 4, bits 0-2) switches to that stack in every mode (§6.14.5).
 */
bool pv_bounce(struct vcpu *vcpu, uint8_t vector, enum bounce_kind kind, bool has_error, uint32_t error)
{
	(void)kind, (void)has_error, (void)error;
	domain_crash(vcpu->domain, "LAB 1: pv_bounce() is not implemented (vector %u; labs/lab1/README.md part 3)",
		     vector);
	return false;
}

/*
 * LAB 1: emulate IRETQ. Pop RIP, CS, RFLAGS, RSP, SS from the guest's stack
 * (pv_read_guest), check CS is PV_GUEST_CS, and restore them; the popped
 * IF becomes the virtual IF. Return EMULATE_BRANCH (RIP was set).
 *
 * LAB 2 (guest user mode): a CS and SS with RPL 3 enter the guest's user
 * mode — pv_switch_mode(vcpu, 3, cs, ss) after restoring the registers. A
 * return to CS 0x08 from user mode, or any other CS, is #GP(selector).
 */
enum emulation_result pv_emulate_iret(struct vcpu *vcpu, const struct insn *insn)
{
	(void)insn;
	domain_crash(vcpu->domain, "LAB 1: pv_emulate_iret() is not implemented (labs/lab1/README.md part 3)");
	return EMULATE_FAULT;
}

/*
 * LAB 1: if the virtual IF allows (pv_interrupts_masked) and no STI shadow
 * is in effect, deliver the highest-priority pending interrupt as an
 * external interrupt: first the PIC's (vpic_pending_vector, then
 * vpic_acknowledge), else the event-channel upcall (evtchn_upcall_pending:
 * the guest's shared-info page says evtchn_upcall_pending) on the vector
 * the guest chose, domain->evtchn.callback_vector. The upcall is
 * level-triggered, as in Xen: do not clear anything, the guest's handler
 * clears evtchn_upcall_pending itself (docs/hypercalls.md, "Event channels").
 */
void pv_deliver_pending_interrupt(struct vcpu *vcpu)
{
	bool pending = vpic_pending_vector(vcpu->domain) >= 0 || evtchn_upcall_pending(vcpu);
	if (pending && !pv_interrupts_masked(vcpu))
		domain_crash(vcpu->domain, "LAB 1: pv_deliver_pending_interrupt() is not implemented: an interrupt "
					   "is pending (labs/lab1/README.md part 3)");
}
