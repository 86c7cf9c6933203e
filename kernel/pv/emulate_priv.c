/*
 * emulate_priv.c — LAB 1 student file: privileged instructions against the
 * virtual CPU: control registers, storing descriptor-table registers, MSRs.
 *
 * See labs/lab1/README.md, part 2 "Emulating privileged instructions".
 * kernel/include/pv.h documents each function; kernel/include/decode.h
 * documents struct insn. Useful helpers: vcpu_gpr(), pv_operand_address(),
 * pv_read_guest(), pv_write_guest(), vcpu_inject_exception().
 */
#include "decode.h"
#include "domain.h"
#include "pv.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/*
 * LAB 1: MOV from/to CR0, CR2, CR3, CR4 and CR8 (insn->cls is
 * INSN_MOV_FROM_CR or INSN_MOV_TO_CR; the CR number is ModRM.reg extended by
 * REX.R, the GPR is ModRM.rm extended by REX.B), CLTS, LMSW and SMSW.
 * Work on vcpu->cr0 ... vcpu->cr8 only. A write that would leave long mode
 * (clearing CR0.PG/PE or CR4.PAE) or set a reserved bit gets #GP(0); a CR
 * that does not exist gets #UD. See SDM Vol. 2B "MOV—Move to/from Control
 * Registers" and Vol. 3A §2.5.
 */
enum emulation_result pv_emulate_control_register(struct vcpu *vcpu, const struct insn *insn)
{
	domain_crash(vcpu->domain, "LAB 1: pv_emulate_control_register() is not implemented (%s; labs/lab1/README.md part 2)",
		     insn_class_name(insn->cls));
	return EMULATE_FAULT;
}

/*
 * LAB 1: SGDT and SIDT store 10 bytes (limit, then the 8-byte base) of the
 * guest's virtual GDTR/IDTR at the memory operand; SLDT and STR store the
 * virtual LDTR/TR selector into a register or 2 bytes of memory. With
 * CR4.UMIP set these trap at CPL 3 (SDM Vol. 3A §2.5); without it they
 * run unnoticed — the lesson of the lab.
 */
enum emulation_result pv_emulate_store_descriptor(struct vcpu *vcpu, const struct insn *insn)
{
	domain_crash(vcpu->domain, "LAB 1: pv_emulate_store_descriptor() is not implemented (%s; labs/lab1/README.md part 2)",
		     insn_class_name(insn->cls));
	return EMULATE_FAULT;
}

/*
 * LAB 1: RDMSR/WRMSR. ECX names the MSR; the value is EDX:EAX. Keep STAR,
 * LSTAR, CSTAR, SFMASK, FS_BASE, GS_BASE and KERNEL_GS_BASE in vcpu->msr
 * (non-canonical bases: #GP(0)); EFER in vcpu->efer (only SCE and NXE may
 * change); IA32_TSC (0x10) through vcpu->msr.tsc_offset; IA32_APIC_BASE
 * (0x1b) reads vcpu->msr.apic_base. Any other MSR: #GP(0), as the hardware
 * does for an MSR that does not exist.
 */
enum emulation_result pv_emulate_msr(struct vcpu *vcpu, const struct insn *insn)
{
	domain_crash(vcpu->domain, "LAB 1: pv_emulate_msr() is not implemented (%s; labs/lab1/README.md part 2)",
		     insn_class_name(insn->cls));
	return EMULATE_FAULT;
}
