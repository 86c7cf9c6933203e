/**
 * @file xstate.h
 * @brief Each vCPU's x87/SSE/AVX registers and XCR0, kept apart from every other's.
 *
 * The hypervisor itself never touches these registers (it is compiled with
 * -mgeneral-regs-only), so while a vCPU runs they simply hold its state;
 * the scheduler saves them when the vCPU's slice ends and loads the next
 * vCPU's before it starts. Neither VMRUN nor VM entry does this (AMD APM
 * Vol. 2 §15.5.1 lists what VMRUN saves; Intel SDM Vol. 3C §27.3 likewise):
 * without it one domain reads another's XMM registers.
 */
#ifndef HYPATIA_XSTATE_H
#define HYPATIA_XSTATE_H

#include "types.h"

struct vcpu;

/** XCR0 bit 0: x87 state (must always be set). */
#define XCR0_X87 (1ull << 0)
/** XCR0 bit 1: SSE state (XMM registers, MXCSR). */
#define XCR0_SSE (1ull << 1)
/** XCR0 bit 2: AVX state (upper halves of the YMM registers). */
#define XCR0_AVX (1ull << 2)

/** Enable FXSAVE/SSE (CR4.OSFXSR, OSXMMEXCPT) and, where the CPU has it, XSAVE (CR4.OSXSAVE). */
void xstate_init(void);
/** Give @p vcpu the x87/SSE state of a processor after reset, and XCR0 = x87 only. False if out of memory. */
bool xstate_vcpu_init(struct vcpu *vcpu);
/** Free @p vcpu's save area. */
void xstate_vcpu_free(struct vcpu *vcpu);
/** Load @p vcpu's registers and XCR0: it runs next. */
void xstate_switch_in(struct vcpu *vcpu);
/** Save the registers and XCR0 of @p vcpu, which ran last. */
void xstate_switch_out(struct vcpu *vcpu);
/**
 * A guest's XSETBV of @p value to XCR @p index, where it exits (VMX always;
 * SVM never, as its guests write XCR0 themselves). Returns false where the
 * hardware raises \#GP (Intel SDM Vol. 2C "XSETBV"): an index other than 0,
 * x87 off, AVX without SSE, a component the CPU lacks.
 */
bool xstate_guest_xsetbv(struct vcpu *vcpu, uint32_t index, uint64_t value);

#endif
