/**
 * @file emulate.h
 * @brief Emulating the instructions a guest may not execute itself.
 */
#ifndef HYPATIA_EMULATE_H
#define HYPATIA_EMULATE_H

#include "decode.h"
#include "pv.h"

struct vcpu;

/**
 * The guest trapped on a privileged instruction (trap-and-emulate): fetch and
 * decode it at the guest's RIP and carry it out against the virtual CPU and
 * the emulated devices, then step RIP past it. What cannot be emulated
 * becomes the exception the hardware would raise.
 */
void emulate_privileged(struct vcpu *vcpu);

/**
 * INS/OUTS, with or without REP, for any backend: @p size bytes per element
 * between @p port and guest memory at RDI (INS) or @p base + RSI (OUTS),
 * RCX elements if @p repeat, honouring RFLAGS.DF and @p address_size.
 * Returns EMULATE_DONE, or EMULATE_FAULT if a #PF was injected part way
 * (RCX/RSI/RDI then describe what is left, as on hardware).
 */
enum emulation_result emulate_string_io(struct vcpu *vcpu, uint16_t port, unsigned size, bool in, bool repeat,
				       unsigned address_size, uint64_t base);
/**
 * A nested page fault at guest-physical @p gpa: if a memory-mapped device
 * claims it, decode the instruction and carry out its load or store on the
 * device (MOV and MOVZX), stepping RIP. Returns false if no device does.
 */
bool emulate_mmio(struct vcpu *vcpu, uint64_t gpa);
/**
 * Fetch the instruction at the guest's RIP (through its page tables) and
 * decode it. On failure the guest got the exception it would get (\#PF,
 * \#UD) or was crashed, and false is returned.
 */
bool emulate_fetch_and_decode(struct vcpu *vcpu, struct insn *insn);
/** The value of a GPR or immediate operand, truncated to its size. */
uint64_t emulate_read_operand(struct vcpu *vcpu, const struct insn_operand *op);
/** Write @p value into GPR operand @p op as an instruction of its size would (a 32-bit write zero-extends). */
void emulate_write_gpr_operand(struct vcpu *vcpu, const struct insn_operand *op, uint64_t value);
/**
 * RFLAGS after an emulated @p cls on @p size-byte operands: for CMP, SUB and
 * CMPXCHG the flags of @p a - @p b = @p result; for AND, OR and XOR those of
 * @p result (CF = OF = 0); for BT, BTS, BTR and BTC, CF = @p a (the old bit).
 * Flags the SDM leaves undefined keep their value.
 */
uint64_t emulate_status_flags(uint64_t rflags, enum insn_class cls, unsigned size, uint64_t a, uint64_t b,
			      uint64_t result);
/** Store an IN result of @p size bytes in RAX (a 4-byte IN zero-extends). */
void emulate_set_accumulator(struct vcpu *vcpu, uint32_t value, unsigned size);
/**
 * RDMSR (@p write false) or WRMSR of the MSR in ECX by a hardware-assisted
 * guest, for the few MSRs its backend intercepts (kernel/virt/msr.c): EFER,
 * the TSC, the APIC base; any other is absent (\#GP). Works on the vCPU's
 * state (efer, msr.tsc_offset, msr.apic_base), which the backend loads at
 * the next entry. Returns false if \#GP was injected (RIP must not advance).
 */
bool msr_emulate(struct vcpu *vcpu, bool write);
/** CPUID for a hardware-assisted guest: the host's answers with SVM/VMX hidden and the hypervisor leaves added. */
void cpuid_emulate(struct vcpu *vcpu);

struct cpuid_regs;
/**
 * CPUID @p leaf if it is one of the hypervisor leaves (0x40000000-0x4000ffff):
 * Xen's at 0x40000000, Hypatia's own at #HYPATIA_CPUID_BASE, zeros elsewhere
 * (kernel/dom/xen_cpuid.c). False for any other leaf.
 */
bool xen_cpuid(struct vcpu *vcpu, uint32_t leaf, struct cpuid_regs *regs);
/**
 * WRMSR #XEN_HYPERCALL_PAGE_MSR of @p value: fill the guest page at
 * guest-physical @p value with the 128 hypercall stubs. False (the caller
 * raises \#GP) if it is not a page of the guest's memory.
 */
bool xen_hypercall_page(struct vcpu *vcpu, uint64_t value);

#endif
