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
	(void)kind; /* the guest is virtually at CPL 0: every gate's DPL admits INT n */
	uint8_t gate[16];
	uint64_t gate_address = v->idtr.base + 16ull * vector;
	if (16u * vector + 15 > v->idtr.limit || !pv_access_guest(v, gate_address, gate, sizeof(gate), ACCESS_READ))
		return false;
	uint8_t type = gate[5] & 0xf;
	if (!(gate[5] & GATE_PRESENT) || (type != GATE_TYPE_INTERRUPT && type != GATE_TYPE_TRAP))
		return false;
	uint64_t handler = gate[0] | (uint64_t)gate[1] << 8 | (uint64_t)gate[6] << 16 | (uint64_t)gate[7] << 24 |
			   (uint64_t)gate[8] << 32 | (uint64_t)gate[9] << 40 | (uint64_t)gate[10] << 48 |
			   (uint64_t)gate[11] << 56;

	/* The frame of SDM Vol. 3A Figure 6-9, at CPL 0 with no stack switch:
	 * the CPU aligns RSP to 16 and pushes SS, RSP, RFLAGS, CS, RIP and the
	 * error code. RFLAGS shows the *virtual* IF, CS/SS what a CPL-0 kernel
	 * would see. */
	uint64_t flags = (v->regs.rflags & ~(RFLAGS_IF | RFLAGS_IOPL)) | (pv_interrupts_masked(v) ? 0 : RFLAGS_IF);
	uint64_t frame[6];
	unsigned n = 0;
	if (has_error)
		frame[n++] = error;
	frame[n++] = v->regs.rip;
	frame[n++] = PV_GUEST_CS;
	frame[n++] = flags;
	frame[n++] = v->regs.rsp;
	frame[n++] = PV_GUEST_SS;
	uint64_t rsp = (v->regs.rsp & ~0xfull) - n * sizeof(uint64_t);
	if (!pv_access_guest(v, rsp, frame, n * sizeof(uint64_t), ACCESS_WRITE))
		return false;

	v->regs.rsp = rsp;
	v->regs.rip = handler;
	v->regs.rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF);
	if (type == GATE_TYPE_INTERRUPT) /* trap gates leave IF alone (SDM §6.12.1.3) */
		pv_set_virtual_if(v, false);
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
	if ((frame[1] & 0xffff) != PV_GUEST_CS) {
		/* Returning to user mode needs a second address space: lab 2. */
		vcpu_inject_exception(v, VEC_GP, true, (uint32_t)(frame[1] & 0xfffc));
		return EMULATE_FAULT;
	}
	v->regs.rip = frame[0];
	v->regs.rflags = (frame[2] & ~(RFLAGS_IOPL | RFLAGS_NT)) | RFLAGS_IF | 0x2;
	v->regs.rsp = frame[3];
	pv_set_virtual_if(v, frame[2] & RFLAGS_IF);
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
	} else if (v->timer_pending) {
		v->timer_pending = false;
		vector = d->timer_vector;
	} else {
		return;
	}
	if (!pv_bounce(v, (uint8_t)vector, BOUNCE_INTERRUPT, false, 0))
		vcpu_inject_exception(v, VEC_GP, true, (uint32_t)vector * 8 + 2); /* IDT bit set */
}
