/*
 * emulate.c — trap-and-emulate: carry out a privileged instruction for the guest.
 *
 * Popek and Goldberg's recipe: run the guest deprivileged, let every
 * sensitive instruction trap, and make the trap handler do to the *virtual*
 * machine what the instruction would have done to the real one. The decoder
 * (decode.c) says what the instruction is; this file routes each class to
 * the code that gives it meaning. The classes students write live in
 * kernel/pv/emulate_priv.c and kernel/pv/bounce.c.
 */
#include "console.h"
#include "decode.h"
#include "domain.h"
#include "emulate.h"
#include "ioport.h"
#include "mmio.h"
#include "memlayout.h"
#include "pv.h"
#include "shadow.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

#define RFLAGS_DF (1ull << 10)

/* The size of one port access: the even opcodes move a byte, the odd ones
 * the operand size (2 or 4; IN/OUT have no 64-bit form). */
static unsigned port_access_size(const struct insn *insn)
{
	return insn->opcode & 1 ? MIN(insn->operand_size, 4u) : 1;
}

/* Store @size bytes of @value in RAX, as IN does: a 32-bit write zero-extends. */
void emulate_set_accumulator(struct vcpu *v, uint32_t value, unsigned size)
{
	if (size == 4)
		v->regs.rax = value;
	else if (size == 2)
		v->regs.rax = (v->regs.rax & ~0xffffull) | (value & 0xffff);
	else
		v->regs.rax = (v->regs.rax & ~0xffull) | (value & 0xff);
}

/* IN and OUT with an 8-bit immediate port (E4-E7) or the port in DX (EC-EF). */
static enum emulation_result emulate_port_io(struct vcpu *v, const struct insn *insn)
{
	unsigned size = port_access_size(insn);
	uint16_t port = insn->opcode >= 0xec ? (uint16_t)v->regs.rdx : (uint16_t)(uint8_t)insn->imm;
	if (insn->cls == INSN_OUT)
		ioport_write(v->domain, port, size, (uint32_t)v->regs.rax);
	else
		emulate_set_accumulator(v, ioport_read(v->domain, port, size), size);
	return EMULATE_DONE;
}

/* INS/OUTS, with or without REP: RCX elements (masked to the address size)
 * between the port in DX and memory at RDI (INS, ES segment — no base in
 * 64-bit mode) or RSI (OUTS, DS or an override), stepping by the element
 * size, backwards if RFLAGS.DF (SDM Vol. 2B "INS", "OUTS", "REP"). A fault
 * part way leaves RCX/RSI/RDI describing the rest, so the restarted
 * instruction continues where it stopped — as the hardware does. */
enum emulation_result emulate_string_io(struct vcpu *v, uint16_t port, unsigned size, bool in, bool repeat,
				       unsigned address_size, uint64_t base)
{
	uint64_t mask = address_size == 8 ? ~0ull : (1ull << (8 * address_size)) - 1;
	uint64_t *index = in ? &v->regs.rdi : &v->regs.rsi;
	int64_t step = v->regs.rflags & RFLAGS_DF ? -(int64_t)size : (int64_t)size;

	while (!repeat || (v->regs.rcx & mask)) {
		uint64_t address = base + (*index & mask);
		uint32_t value = 0;
		if (in) {
			value = ioport_read(v->domain, port, size);
			if (!pv_write_guest(v, address, &value, size))
				return EMULATE_FAULT;
		} else {
			if (!pv_read_guest(v, address, &value, size, false))
				return EMULATE_FAULT;
			ioport_write(v->domain, port, size, value);
		}
		*index = (*index & ~mask) | ((*index + step) & mask);
		if (!repeat)
			break;
		v->regs.rcx = (v->regs.rcx & ~mask) | ((v->regs.rcx - 1) & mask);
	}
	return EMULATE_DONE;
}

/* LGDT/LIDT (10 bytes: limit, 8-byte base), LLDT/LTR (a selector). The
 * guest's tables are remembered, never loaded: the CPU keeps running on the
 * hypervisor's GDT and IDT. */
static enum emulation_result emulate_load_descriptor(struct vcpu *v, const struct insn *insn)
{
	if (insn->cls == INSN_LGDT || insn->cls == INSN_LIDT) {
		uint8_t bytes[10];
		if (!pv_read_guest(v, pv_operand_address(v, insn), bytes, sizeof(bytes), false))
			return EMULATE_FAULT;
		struct descriptor_table_register *r = insn->cls == INSN_LGDT ? &v->gdtr : &v->idtr;
		r->limit = (uint16_t)(bytes[0] | bytes[1] << 8);
		r->base = 0;
		for (int i = 0; i < 8; i++)
			r->base |= (uint64_t)bytes[2 + i] << (8 * i);
		return EMULATE_DONE;
	}
	uint16_t selector;
	if (insn->modrm_mod == 3)
		selector = (uint16_t)*vcpu_gpr(v, insn->modrm_rm | ((insn->rex & 1) << 3));
	else if (!pv_read_guest(v, pv_operand_address(v, insn), &selector, 2, false))
		return EMULATE_FAULT;
	if (insn->cls == INSN_LTR && (selector & ~3) == 0) { /* LTR of a null selector: #GP(0) */
		vcpu_inject_exception(v, VEC_GP, true, 0);
		return EMULATE_FAULT;
	}
	*(insn->cls == INSN_LLDT ? &v->ldtr : &v->tr) = selector;
	return EMULATE_DONE;
}

/* A write to CR0, CR3 or CR4 (or CLTS, LMSW) can change what the guest's
 * page tables mean — a new root, WP, PAE...: under shadow paging, switch
 * shadows on a CR3 load (or empty the shadow, as a CR3 load empties a TLB),
 * and empty every shadow on the others. */
static enum emulation_result emulate_control_register_write(struct vcpu *v, const struct insn *insn)
{
	enum emulation_result r = pv_emulate_control_register(v, insn);
	unsigned cr = insn->modrm_reg | ((insn->rex & 4) << 1);
	if (r == EMULATE_DONE && v->domain->paging == PAGING_SHADOW && cr != 2 && cr != 8) {
		if (insn->cls == INSN_MOV_TO_CR && cr == 3)
			shadow_load_cr3(v);
		else
			shadow_flush(v);
	}
	return r;
}

/* WRMSR to EFER may flip NXE, which changes what every guest entry's NX
 * bit means: under shadow paging, empty the shadows as for CR4. */
static enum emulation_result emulate_msr(struct vcpu *v, const struct insn *insn)
{
	uint64_t efer = v->efer;
	enum emulation_result r = pv_emulate_msr(v, insn);
	if (v->efer != efer && v->domain->paging == PAGING_SHADOW)
		shadow_flush(v);
	return r;
}

/* INT n, INT3, INTO, INT1 at CPL 3 reach a DPL-0 gate of the hypervisor's
 * IDT and fault with #GP; deliver them to the guest's own IDT as the
 * software interrupts they are, returning after the instruction. */
static enum emulation_result emulate_software_interrupt(struct vcpu *v, const struct insn *insn)
{
	uint8_t vector = insn->cls == INSN_INT ? (uint8_t)insn->imm : insn->cls == INSN_INT3 ? VEC_BP
						 : insn->cls == INSN_INT1 ? VEC_DB : 4 /* #OF */;
	v->regs.rip += insn->length;
	/* INT1 (ICEBP) is delivered like the #DB it raises: no DPL check (SDM
	 * Vol. 3A §6.12.1.1); INT n, INT3 and INTO are software interrupts. */
	if (!pv_bounce(v, vector, insn->cls == INSN_INT1 ? BOUNCE_EXCEPTION : BOUNCE_SOFTWARE, false, 0)) {
		v->regs.rip -= insn->length;
		vcpu_inject_exception(v, VEC_GP, true, (uint32_t)vector * 8 + 2);
	}
	return EMULATE_BRANCH;
}

/* The guest believes it runs at CPL 0 with SVM and VMX off: their
 * instructions raise #UD there (AMD APM Vol. 3 "VMRUN", SDM Vol. 3C §31.3). */
static enum emulation_result invalid_opcode(struct vcpu *v)
{
	vcpu_inject_exception(v, VEC_UD, false, 0);
	return EMULATE_FAULT;
}

static enum emulation_result dispatch(struct vcpu *v, const struct insn *insn)
{
	switch (insn->cls) {
	case INSN_IN:
	case INSN_OUT:
		return emulate_port_io(v, insn);
	case INSN_INS:
	case INSN_OUTS: {
		uint64_t base = 0; /* only FS and GS have a base in 64-bit mode; INS always uses ES */
		if (insn->cls == INSN_OUTS && insn->segment_override == SEG_FS)
			base = v->msr.fs_base;
		else if (insn->cls == INSN_OUTS && insn->segment_override == SEG_GS)
			base = v->msr.gs_base;
		return emulate_string_io(v, (uint16_t)v->regs.rdx, port_access_size(insn), insn->cls == INSN_INS,
					 insn->rep || insn->repne, insn->address_size, base);
	}
	case INSN_CLI:
		pv_set_virtual_if(v, false);
		return EMULATE_DONE;
	case INSN_STI:
		/* The instruction after STI runs before any interrupt (SDM Vol. 2B
		 * "STI"): hold interrupts back for exactly one instruction. If one
		 * is waiting, single-step that instruction so it is delivered
		 * right after, as on hardware; if none is, no step is needed. */
		if (pv_interrupts_masked(v)) {
			v->sti_shadow = true;
			v->step_one = vpic_pending_vector(v->domain) >= 0 || evtchn_upcall_pending(v);
		}
		pv_set_virtual_if(v, true);
		return EMULATE_DONE;
	case INSN_HLT:
		if (pv_interrupts_masked(v)) {
			/* Nothing can ever wake it: what a PC does on power-off without ACPI. */
			domain_exit(v->domain, 0);
			return EMULATE_DONE;
		}
		v->halted = true;
		return EMULATE_DONE;
	case INSN_IRET:
		return pv_emulate_iret(v, insn);
	case INSN_INT:
	case INSN_INT3:
	case INSN_INT1:
	case INSN_INTO:
		return emulate_software_interrupt(v, insn);
	case INSN_MOV_FROM_CR:
	case INSN_SMSW:
		return pv_emulate_control_register(v, insn);
	case INSN_MOV_TO_CR:
	case INSN_CLTS:
	case INSN_LMSW:
		return emulate_control_register_write(v, insn);
	case INSN_LGDT:
	case INSN_LIDT:
	case INSN_LLDT:
	case INSN_LTR:
		return emulate_load_descriptor(v, insn);
	case INSN_SGDT:
	case INSN_SIDT:
	case INSN_SLDT:
	case INSN_STR:
		return pv_emulate_store_descriptor(v, insn);
	case INSN_RDMSR:
	case INSN_WRMSR:
		return emulate_msr(v, insn);
	case INSN_SWAPGS: {
		uint64_t gs = v->msr.gs_base;
		v->msr.gs_base = v->msr.kernel_gs_base;
		v->msr.kernel_gs_base = gs;
		return EMULATE_DONE;
	}
	case INSN_INVLPG:
		/* Paging mode "direct": the guest has no mappings of its own to flush. */
		if (v->domain->paging == PAGING_SHADOW)
			shadow_invlpg(v, pv_operand_address(v, insn));
		return EMULATE_DONE;
	case INSN_WBINVD:
	case INSN_INVD:
		return EMULATE_DONE;
	case INSN_VMRUN:
	case INSN_VMMCALL:
	case INSN_VMLOAD:
	case INSN_VMSAVE:
	case INSN_STGI:
	case INSN_CLGI:
	case INSN_SKINIT:
	case INSN_INVLPGA:
	case INSN_VMCALL:
	case INSN_VMLAUNCH:
	case INSN_VMRESUME:
	case INSN_VMXOFF:
	case INSN_VMXON:
	case INSN_VMCLEAR:
	case INSN_VMPTRLD:
	case INSN_VMPTRST:
	case INSN_VMREAD:
	case INSN_VMWRITE:
	case INSN_INVEPT:
	case INSN_INVVPID:
		return invalid_opcode(v);
	default:
		/* Not ours to emulate: the guest gets the exception it raised. */
		vcpu_inject_exception(v, v->exit.vector, v->exit.has_error_code, v->exit.error_code);
		return EMULATE_FAULT;
	}
}

/* Fetch and decode the instruction at the guest's RIP. On failure the guest
 * got the exception it would get (#UD) or was crashed; returns false. */
bool emulate_fetch_and_decode(struct vcpu *v, struct insn *insn)
{
	uint8_t bytes[INSN_MAX_LENGTH];
	/* Fetch up to 15 bytes: what lies on the page of RIP, then what lies on
	 * the next page if that one is mapped (an instruction may straddle). */
	uint64_t rip = v->regs.rip;
	size_t first = MIN((size_t)INSN_MAX_LENGTH, PAGE_SIZE - rip % PAGE_SIZE), n = 0;
	if (pv_access_guest(v, rip, bytes, first, ACCESS_FETCH)) {
		n = first;
		if (n < INSN_MAX_LENGTH && pv_access_guest(v, rip + n, bytes + n, INSN_MAX_LENGTH - n, ACCESS_FETCH))
			n = INSN_MAX_LENGTH;
	}
	enum decode_status status = insn_decode(bytes, n, DECODE_MODE_64, insn);
	if (status == DECODE_OK)
		return true;
	if (status == DECODE_INVALID)
		vcpu_inject_exception(v, VEC_UD, false, 0);
	else
		domain_crash(v->domain, "%s: cannot decode the instruction (%s)", trap_vector_name(v->exit.vector),
			     decode_status_name(status));
	return false;
}

/* Guest user mode (virtual CPL 3, lab 2). There, as on bare metal, the
 * privileged instructions fault: the guest's kernel gets the #GP the CPU
 * raised (CLI, HLT, MOV CR3, port I/O, ...) and nothing is emulated. What is
 * left to emulate is what CPL 3 may do but traps here all the same: INT n
 * (the gate's DPL decides, in pv_bounce), IRETQ, and SGDT/SIDT/SLDT/STR/SMSW
 * unless the guest set CR4.UMIP. SVM/VMX instructions stay #UD: the guest's
 * CPU has neither. */
static bool emulated_in_guest_user_mode(const struct vcpu *v, const struct insn *insn)
{
	switch (insn->cls) {
	case INSN_INT:
	case INSN_INT3:
	case INSN_INT1:
	case INSN_INTO:
	case INSN_IRET:
		return true;
	case INSN_SGDT:
	case INSN_SIDT:
	case INSN_SLDT:
	case INSN_STR:
	case INSN_SMSW:
		return !(v->cr4 & CR4_UMIP);
	case INSN_VMRUN: case INSN_VMMCALL: case INSN_VMLOAD: case INSN_VMSAVE: case INSN_STGI: case INSN_CLGI:
	case INSN_SKINIT: case INSN_INVLPGA: case INSN_VMCALL: case INSN_VMLAUNCH: case INSN_VMRESUME:
	case INSN_VMXOFF: case INSN_VMXON: case INSN_VMCLEAR: case INSN_VMPTRLD: case INSN_VMPTRST:
	case INSN_VMREAD: case INSN_VMWRITE: case INSN_INVEPT: case INSN_INVVPID:
		return true;
	default:
		return false;
	}
}

void emulate_privileged(struct vcpu *v)
{
	struct insn insn;
	if (!emulate_fetch_and_decode(v, &insn))
		return;
	if (v->virtual_cpl == 3 && !emulated_in_guest_user_mode(v, &insn)) {
		vcpu_inject_exception(v, v->exit.vector, v->exit.has_error_code, v->exit.error_code);
		return;
	}
	if (dispatch(v, &insn) == EMULATE_DONE)
		v->regs.rip += insn.length;
}

/* Write @value into GPR @op as an instruction of that operand size would:
 * 8/16-bit writes keep the rest, a 32-bit write zero-extends (SDM Vol. 1 §3.4.1.1). */
void emulate_write_gpr_operand(struct vcpu *v, const struct insn_operand *op, uint64_t value)
{
	uint64_t *reg = vcpu_gpr(v, op->reg);
	if (op->high_byte)
		*reg = (*reg & ~0xff00ull) | ((value & 0xff) << 8);
	else if (op->size == 1)
		*reg = (*reg & ~0xffull) | (value & 0xff);
	else if (op->size == 2)
		*reg = (*reg & ~0xffffull) | (value & 0xffff);
	else
		*reg = op->size == 4 ? (uint32_t)value : value;
}

uint64_t emulate_read_operand(struct vcpu *v, const struct insn_operand *op)
{
	if (op->kind == OPERAND_IMMEDIATE)
		return (uint64_t)op->imm;
	uint64_t value = *vcpu_gpr(v, op->reg);
	if (op->high_byte)
		return (value >> 8) & 0xff;
	return op->size >= 8 ? value : value & ((1ull << (8 * op->size)) - 1);
}

/* The status flags (SDM Vol. 1 §3.4.3.1): CF bit 0, PF 2, AF 4, ZF 6, SF 7, OF 11. */
#define FLAG_CF (1ull << 0)
#define FLAG_PF (1ull << 2)
#define FLAG_AF (1ull << 4)
#define FLAG_ZF (1ull << 6)
#define FLAG_SF (1ull << 7)
#define FLAG_OF (1ull << 11)

uint64_t emulate_status_flags(uint64_t rflags, enum insn_class cls, unsigned size, uint64_t a, uint64_t b,
			      uint64_t result)
{
	uint64_t mask = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1, sign = 1ull << (8 * size - 1);
	a &= mask, b &= mask, result &= mask;
	if (cls == INSN_BT || cls == INSN_BTS || cls == INSN_BTR || cls == INSN_BTC) {
		/* CF = the bit as it was (a); ZF unchanged; the rest undefined: left as they were. */
		return (rflags & ~FLAG_CF) | (a ? FLAG_CF : 0);
	}
	rflags &= ~(FLAG_CF | FLAG_PF | FLAG_ZF | FLAG_SF | FLAG_OF);
	if (result == 0)
		rflags |= FLAG_ZF;
	if (result & sign)
		rflags |= FLAG_SF;
	if (!(__builtin_popcountll(result & 0xff) & 1)) /* PF: even parity of the low byte */
		rflags |= FLAG_PF;
	if (cls == INSN_CMP || cls == INSN_SUB || cls == INSN_CMPXCHG) {
		/* a - b: CF a borrow, OF a sign overflow, AF a borrow out of bit 3. */
		rflags &= ~FLAG_AF;
		if (a < b)
			rflags |= FLAG_CF;
		if ((a ^ b) & (a ^ result) & sign)
			rflags |= FLAG_OF;
		if ((a ^ b ^ result) & 0x10)
			rflags |= FLAG_AF;
	}
	/* AND, OR, XOR: CF = OF = 0, AF undefined (left as it was). */
	return rflags;
}

bool emulate_mmio(struct vcpu *v, uint64_t gpa)
{
	struct insn insn;
	if (!mmio_claims(v, gpa))
		return false;
	if (!emulate_fetch_and_decode(v, &insn))
		return true;
	/* MOV to or from memory, and MOVZX loads: what drivers use on registers. */
	const struct insn_operand *dst = &insn.operands[0], *src = &insn.operands[1];
	if ((insn.cls == INSN_MOV || insn.cls == INSN_MOVZX) && insn.operand_count == 2) {
		if (dst->kind == OPERAND_MEMORY && insn.cls == INSN_MOV) {
			mmio_write(v, gpa, dst->size, emulate_read_operand(v, src));
			v->regs.rip += insn.length;
			return true;
		}
		if (src->kind == OPERAND_MEMORY && dst->kind == OPERAND_GPR) {
			emulate_write_gpr_operand(v, dst, mmio_read(v, gpa, src->size));
			v->regs.rip += insn.length;
			return true;
		}
	}
	domain_crash(v->domain, "MMIO access at guest-physical 0x%lx by '%s', which the emulator does not handle", gpa,
		     insn_class_name(insn.cls));
	return true;
}
