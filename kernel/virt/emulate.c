/*
 * emulate.c — trap-and-emulate: carry out a privileged instruction for the guest.
 *
 * Popek and Goldberg's recipe: run the guest deprivileged, let every
 * sensitive instruction trap, and make the trap handler do to the *virtual*
 * machine what the instruction would have done to the real one. The decoder
 * (decode.c) says what the instruction is; this file gives it meaning.
 */
#include "console.h"
#include "decode.h"
#include "domain.h"
#include "emulate.h"
#include "ioport.h"
#include "trap.h"
#include "vcpu.h"

/* Read up to 15 instruction bytes at the guest's RIP. In paging mode
 * "direct" guest-virtual equals guest-physical. Returns how many were read. */
static size_t fetch(struct vcpu *v, uint8_t *bytes)
{
	size_t n = 0;
	while (n < INSN_MAX_LENGTH && domain_read(v->domain, v->regs.rip + n, bytes + n, 1))
		n++;
	return n;
}

/* IN and OUT with an 8-bit immediate port (E4-E7) or the port in DX (EC-EF).
 * The even opcodes move a byte; the odd ones the operand size (2 or 4).
 * IN to EAX zero-extends into RAX, like any 32-bit register write. */
static bool emulate_port_io(struct vcpu *v, const struct insn *insn)
{
	unsigned size = insn->opcode & 1 ? insn->operand_size : 1;
	uint16_t port = insn->opcode >= 0xec ? (uint16_t)v->regs.rdx : (uint16_t)(uint8_t)insn->imm;
	if (insn->cls == INSN_OUT) {
		ioport_write(v->domain, port, size, (uint32_t)v->regs.rax);
		return true;
	}
	uint32_t value = ioport_read(v->domain, port, size);
	if (size == 4)
		v->regs.rax = value;
	else if (size == 2)
		v->regs.rax = (v->regs.rax & ~0xffffull) | (value & 0xffff);
	else
		v->regs.rax = (v->regs.rax & ~0xffull) | (value & 0xff);
	return true;
}

void emulate_privileged(struct vcpu *v)
{
	uint8_t bytes[INSN_MAX_LENGTH];
	struct insn insn;
	size_t n = fetch(v, bytes);
	enum decode_status status = insn_decode(bytes, n, DECODE_MODE_64, &insn);
	if (status != DECODE_OK) {
		domain_crash(v->domain, "%s after #%s: cannot decode the instruction (%s)",
			     trap_vector_name(v->exit.vector), v->exit.vector == VEC_UD ? "UD" : "GP",
			     decode_status_name(status));
		return;
	}
	switch (insn.cls) {
	case INSN_IN:
	case INSN_OUT:
		emulate_port_io(v, &insn);
		break;
	case INSN_CLI:
		v->virtual_if = false;
		break;
	case INSN_STI:
		v->virtual_if = true;
		break;
	case INSN_HLT:
		if (!v->virtual_if) {
			/* Nothing can ever wake it: what a PC does on power-off without ACPI. */
			v->regs.rip += insn.length;
			domain_exit(v->domain, 0);
			return;
		}
		v->halted = true;
		break;
	default:
		domain_crash(v->domain, "privileged instruction '%s' is not emulated (yet)", insn_class_name(insn.cls));
		return;
	}
	v->regs.rip += insn.length;
}
