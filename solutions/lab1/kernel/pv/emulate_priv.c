/*
 * emulate_priv.c — LAB 1 reference solution: control registers, the stores
 * of descriptor-table registers, and MSRs, against the virtual CPU.
 */
#include "cpu.h"
#include "decode.h"
#include "domain.h"
#include "pv.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/* Bits a 64-bit guest may change in CR0 and CR4 without leaving long mode
 * (SDM Vol. 3A §2.5, §9.8.5.4: clearing CR0.PG/PE or CR4.PAE in long mode is #GP). */
#define CR0_FIXED (CR0_PE | CR0_PG)
#define CR0_WRITABLE (CR0_PE | (1ul << 1) | (1ul << 2) | (1ul << 3) | (1ul << 4) | (1ul << 5) | CR0_WP | (1ul << 18) | \
		      (1ul << 29) | (1ul << 30) | CR0_PG)
#define CR4_FIXED CR4_PAE
/* Not SMEP (bit 20) nor SMAP (bit 21): the shadow MMU does not offer them
 * (lab 2's walk lets the guest kernel reach its user pages), and setting
 * a CR4 bit of a feature the CPU lacks is #GP (SDM Vol. 3A §2.5). */
#define CR4_WRITABLE (0x1ul | 0x2ul | 0x4ul | 0x8ul | 0x10ul | CR4_PAE | 0x40ul | CR4_PGE | 0x100ul | 0x200ul | \
		      0x400ul | CR4_UMIP | (1ul << 16) | (1ul << 18))
#define CR0_TS (1ul << 3)

static enum emulation_result general_protection(struct vcpu *v)
{
	vcpu_inject_exception(v, VEC_GP, true, 0);
	return EMULATE_FAULT;
}

/* The register or memory operand of a ModRM instruction, @size bytes. */
static enum emulation_result store_operand(struct vcpu *v, const struct insn *insn, uint64_t value, unsigned size)
{
	if (insn->modrm_mod == 3) {
		uint64_t *reg = vcpu_gpr(v, insn->modrm_rm | ((insn->rex & 1) << 3));
		/* A register destination takes the operand size (SLDT/STR/SMSW r32 zero-extend). */
		unsigned reg_size = insn->operand_size;
		*reg = reg_size == 2 ? (*reg & ~0xffffull) | (value & 0xffff)
				     : reg_size == 4 ? (uint32_t)value : value;
		return EMULATE_DONE;
	}
	return pv_write_guest(v, pv_operand_address(v, insn), &value, size) ? EMULATE_DONE : EMULATE_FAULT;
}

enum emulation_result pv_emulate_control_register(struct vcpu *v, const struct insn *insn)
{
	unsigned cr = insn->modrm_reg | ((insn->rex & 4) << 1);
	uint64_t *reg = vcpu_gpr(v, insn->modrm_rm | ((insn->rex & 1) << 3));
	switch (insn->cls) {
	case INSN_MOV_FROM_CR:
		switch (cr) {
		case 0: *reg = v->cr0; return EMULATE_DONE;
		case 2: *reg = v->cr2; return EMULATE_DONE;
		case 3: *reg = v->cr3; return EMULATE_DONE;
		case 4: *reg = v->cr4; return EMULATE_DONE;
		case 8: *reg = v->cr8; return EMULATE_DONE;
		}
		break;
	case INSN_MOV_TO_CR:
		switch (cr) {
		case 0:
			if ((*reg & ~CR0_WRITABLE) || (*reg & CR0_FIXED) != CR0_FIXED)
				return general_protection(v);
			v->cr0 = *reg | (1ul << 4); /* ET is hardwired to 1 (SDM Vol. 3A §2.5) */
			return EMULATE_DONE;
		case 2:
			v->cr2 = *reg;
			return EMULATE_DONE;
		case 3:
			/* Paging mode "direct": the guest's CR3 is remembered, not used (lab 2 uses it). */
			v->cr3 = *reg;
			return EMULATE_DONE;
		case 4:
			if ((*reg & ~CR4_WRITABLE) || (*reg & CR4_FIXED) != CR4_FIXED)
				return general_protection(v);
			v->cr4 = *reg;
			return EMULATE_DONE;
		case 8:
			if (*reg & ~0xfull)
				return general_protection(v);
			v->cr8 = *reg;
			return EMULATE_DONE;
		}
		break;
	case INSN_CLTS:
		v->cr0 &= ~CR0_TS;
		return EMULATE_DONE;
	case INSN_SMSW:
		return store_operand(v, insn, v->cr0, insn->modrm_mod == 3 ? 8 : 2);
	case INSN_LMSW: {
		/* LMSW loads CR0 bits 0-3 and cannot clear PE (SDM Vol. 2A "LMSW"). */
		uint16_t value;
		if (insn->modrm_mod == 3)
			value = (uint16_t)*vcpu_gpr(v, insn->modrm_rm | ((insn->rex & 1) << 3));
		else if (!pv_read_guest(v, pv_operand_address(v, insn), &value, 2, false))
			return EMULATE_FAULT;
		v->cr0 = (v->cr0 & ~0xeull) | (value & 0xf) | (v->cr0 & CR0_PE);
		return EMULATE_DONE;
	}
	default:
		break;
	}
	/* CR1, CR5-CR7, CR9-CR15 do not exist: #UD (SDM Vol. 2B "MOV—Move to/from Control Registers"). */
	vcpu_inject_exception(v, VEC_UD, false, 0);
	return EMULATE_FAULT;
}

enum emulation_result pv_emulate_store_descriptor(struct vcpu *v, const struct insn *insn)
{
	switch (insn->cls) {
	case INSN_SGDT:
	case INSN_SIDT: {
		/* 64-bit mode stores 10 bytes: the limit, then the 8-byte base. */
		const struct descriptor_table_register *r = insn->cls == INSN_SGDT ? &v->gdtr : &v->idtr;
		uint8_t bytes[10];
		bytes[0] = (uint8_t)r->limit;
		bytes[1] = (uint8_t)(r->limit >> 8);
		for (int i = 0; i < 8; i++)
			bytes[2 + i] = (uint8_t)(r->base >> (8 * i));
		return pv_write_guest(v, pv_operand_address(v, insn), bytes, sizeof(bytes)) ? EMULATE_DONE
											     : EMULATE_FAULT;
	}
	case INSN_SLDT:
		return store_operand(v, insn, v->ldtr, 2);
	case INSN_STR:
		return store_operand(v, insn, v->tr, 2);
	default:
		vcpu_inject_exception(v, VEC_UD, false, 0);
		return EMULATE_FAULT;
	}
}

static uint64_t *msr_slot(struct vcpu *v, uint32_t msr)
{
	switch (msr) {
	case 0xc0000081: return &v->msr.star;
	case 0xc0000082: return &v->msr.lstar;
	case 0xc0000083: return &v->msr.cstar;
	case 0xc0000084: return &v->msr.sfmask;
	case MSR_FS_BASE: return &v->msr.fs_base;
	case MSR_GS_BASE: return &v->msr.gs_base;
	case MSR_KERNEL_GS_BASE: return &v->msr.kernel_gs_base;
	}
	return NULL;
}

enum emulation_result pv_emulate_msr(struct vcpu *v, const struct insn *insn)
{
	uint32_t msr = (uint32_t)v->regs.rcx;
	uint64_t value = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
	uint64_t *slot = msr_slot(v, msr);
	bool write = insn->cls == INSN_WRMSR;

	if (slot) {
		if (!write) {
			value = *slot;
		} else {
			bool is_base = msr == MSR_FS_BASE || msr == MSR_GS_BASE || msr == MSR_KERNEL_GS_BASE ||
				       msr == 0xc0000082 || msr == 0xc0000083;
			if (is_base && !is_canonical(value))
				return general_protection(v);
			*slot = value;
		}
	} else if (msr == MSR_EFER) {
		/* Only SCE and NXE may change; LME/LMA must stay (we are in long mode). */
		uint64_t changeable = EFER_SCE | (cpu.nx ? EFER_NXE : 0);
		if (!write)
			value = v->efer;
		else if ((value & ~changeable) != (v->efer & ~changeable))
			return general_protection(v);
		else
			v->efer = value;
	} else if (msr == 0x10) { /* IA32_TIME_STAMP_COUNTER */
		if (write)
			v->msr.tsc_offset = value - rdtsc();
		else
			value = rdtsc() + v->msr.tsc_offset;
	} else if (msr == 0x1b) { /* IA32_APIC_BASE: reads as a PC's BSP with the APIC on */
		if (!write)
			value = v->msr.apic_base;
	} else {
		return general_protection(v);
	}
	if (!write) {
		v->regs.rax = (uint32_t)value;
		v->regs.rdx = value >> 32;
	}
	return EMULATE_DONE;
}
