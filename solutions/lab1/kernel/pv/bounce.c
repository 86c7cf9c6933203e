/*
 * bounce.c — LAB 1 reference solution: delivering exceptions and interrupts
 * to a deprivileged guest through its own IDT, and emulating IRETQ.
 */
#include "decode.h"
#include "domain.h"
#include "memlayout.h"
#include "pv.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

#define GATE_PRESENT 0x80
#define GATE_TYPE_INTERRUPT 0xe
#define GATE_TYPE_TRAP 0xf
#define RFLAGS_IOPL (3ull << 12)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_NT (1ull << 14)
#define RFLAGS_RF (1ull << 16)

bool pv_bounce(struct vcpu *v, uint8_t vector, enum bounce_kind kind, bool has_error, uint32_t error)
{
	/* The gate, read as the CPU reads it: a supervisor access, whatever
	 * mode the guest is in. */
	uint8_t gate[16];
	uint64_t gate_address = v->idtr.base + 16ull * vector;
	if (16u * vector + 15 > v->idtr.limit ||
	    !pv_access_guest(v, gate_address, gate, sizeof(gate), ACCESS_READ | PV_ACCESS_SUPERVISOR))
		return false;
	uint8_t type = gate[5] & 0xf;
	if (!(gate[5] & GATE_PRESENT) || (type != GATE_TYPE_INTERRUPT && type != GATE_TYPE_TRAP))
		return false;
	/* INT n, INT3 and INTO need CPL <= the gate's DPL (SDM Vol. 3A §6.12.1.1):
	 * the guest's user mode may only reach the gates its kernel opened to it. */
	unsigned dpl = (gate[5] >> 5) & 3;
	if (kind == BOUNCE_SOFTWARE && v->virtual_cpl > dpl)
		return false;
	uint64_t handler = gate[0] | (uint64_t)gate[1] << 8 | (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24 |
			   (uint64_t)gate[8] << 32 | (uint64_t)gate[9] << 40 | (uint64_t)gate[10] << 48 |
			   (uint64_t)gate[11] << 56;
	uint16_t handler_cs = (uint16_t)(gate[2] | gate[3] << 8) & ~3;

	/* The stack (SDM Vol. 3A §6.14.4, §6.14.5): an IST gate always switches
	 * to its IST stack; otherwise an event from user mode switches to RSP0
	 * of the guest's TSS, and one in its kernel stays on the current stack. */
	bool from_user = v->virtual_cpl == 3;
	unsigned ist = gate[4] & 7;
	uint64_t rsp = v->regs.rsp;
	if ((ist || from_user) && !pv_guest_tss_stack(v, ist, &rsp))
		return false;

	/* The frame of SDM Vol. 3A Figure 6-9: the CPU aligns RSP to 16 and
	 * pushes SS, RSP, RFLAGS, CS, RIP and the error code. RFLAGS shows the
	 * *virtual* IF; CS and SS are the ones the guest believes it had: its
	 * kernel's (0x08, 0x10) or its user mode's. */
	uint64_t flags = (v->regs.rflags & ~(RFLAGS_IF | RFLAGS_IOPL)) | (pv_interrupts_masked(v) ? 0 : RFLAGS_IF);
	uint64_t frame[6];
	unsigned n = 0;
	if (has_error)
		frame[n++] = error;
	frame[n++] = v->regs.rip;
	frame[n++] = v->virtual_cs;
	frame[n++] = flags;
	frame[n++] = v->regs.rsp;
	frame[n++] = v->virtual_ss;
	rsp = (rsp & ~0xfull) - n * sizeof(uint64_t);
	if (!pv_access_guest(v, rsp, frame, n * sizeof(uint64_t), ACCESS_WRITE | PV_ACCESS_SUPERVISOR))
		return false;

	v->regs.rsp = rsp;
	v->regs.rip = handler;
	v->regs.rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
	if (type == GATE_TYPE_INTERRUPT) /* trap gates leave IF alone (SDM §6.12.1.3) */
		pv_set_virtual_if(v, false);
	/* Now in the guest's kernel; a change of privilege loads SS with a null
	 * selector (SDM Vol. 3A §6.14.2). */
	pv_switch_mode(v, 0, handler_cs, from_user ? 0 : v->virtual_ss);
	v->halted = false;
	return true;
}

enum emulation_result pv_emulate_iret(struct vcpu *v, const struct insn *insn)
{
	uint64_t frame[5]; /* RIP, CS, RFLAGS, RSP, SS */
	if (insn->operand_size != 8) { /* IRETD/IRET in 64-bit mode: not used by 64-bit kernels */
		vcpu_inject_exception(v, VEC_GP, true, 0);
		return EMULATE_FAULT;
	}
	if (!pv_read_guest(v, v->regs.rsp, frame, sizeof(frame), false))
		return EMULATE_FAULT;
	uint16_t cs = (uint16_t)frame[1], ss = (uint16_t)frame[4];
	unsigned rpl = cs & 3;
	/* Back to the guest's kernel (CS 0x08), or out to its user mode (RPL 3
	 * in CS and SS); never up from user mode, and no rings 1-2 (SDM Vol. 2A
	 * "IRET": the return CS's RPL is the new CPL, and must be >= CPL). */
	bool to_kernel = cs == PV_GUEST_CS && v->virtual_cpl == 0;
	bool to_user = rpl == 3 && (ss & 3) == 3;
	if (!to_kernel && !to_user) {
		uint16_t culprit = rpl == 3 ? ss : cs;
		vcpu_inject_exception(v, VEC_GP, true, culprit & 0xfffc);
		return EMULATE_FAULT;
	}
	v->regs.rip = frame[0];
	v->regs.rflags = (frame[2] & ~(RFLAGS_IOPL | RFLAGS_NT)) | RFLAGS_IF | 0x2;
	v->regs.rsp = frame[3];
	pv_set_virtual_if(v, frame[2] & RFLAGS_IF);
	pv_switch_mode(v, to_user ? 3 : 0, cs, ss);
	return EMULATE_BRANCH;
}

void pv_deliver_pending_interrupt(struct vcpu *v)
{
	struct domain *d = v->domain;
	if (v->sti_shadow || pv_interrupts_masked(v))
		return;
	int vector = vpic_pending_vector(d);
	if (vector >= 0) {
		vpic_acknowledge(d);
	} else if (evtchn_upcall_pending(v)) {
		vector = d->evtchn.callback_vector; /* level: the guest's handler clears the pending byte */
	} else {
		return;
	}
	if (!pv_bounce(v, (uint8_t)vector, BOUNCE_INTERRUPT, false, 0))
		vcpu_inject_exception(v, VEC_GP, true, (uint32_t)vector * 8 + 2); /* IDT bit set */
}
