/*
 * svm_internal.h — what the files of the SVM backend share: the backend's
 * per-vCPU state, VMCB accessors and the bits of the fields they set.
 * Not a public header: kernel/include/svm.h is the backend's interface.
 */
#ifndef HYPATIA_SVM_INTERNAL_H
#define HYPATIA_SVM_INTERNAL_H

#include "svm.h"
#include "types.h"

struct vcpu;

/* Intercept bits of VMCB_INTERCEPT_MISC1 / MISC2 (APM Vol. 2, Table B-1). */
#define INTERCEPT_CR0_READ (1u << 0)
#define INTERCEPT_CR3_READ (1u << 3)
#define INTERCEPT_CR0_WRITE (1u << 16)
#define INTERCEPT_CR3_WRITE (1u << 19)
#define INTERCEPT_CR4_WRITE (1u << 20)
#define INTERCEPT_CR8_WRITE (1u << 24)
#define INTERCEPT_PAUSE (1u << 23)
#define INTERCEPT_INVLPG (1u << 25)
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_VINTR (1u << 4)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_IOIO (1u << 27)
#define INTERCEPT_MSR (1u << 28)
#define INTERCEPT_SHUTDOWN (1u << 31)
#define INTERCEPT_VMRUN (1u << 0)
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD (1u << 2)
#define INTERCEPT_VMSAVE (1u << 3)
#define INTERCEPT_STGI (1u << 4)
#define INTERCEPT_CLGI (1u << 5)
#define INTERCEPT_SKINIT (1u << 6)

/* EVENTINJ / EXITINTINFO format (APM §15.20): vector, type, EV, V. */
#define EVENT_VALID (1ull << 31)
#define EVENT_ERROR_VALID (1ull << 11)
#define EVENT_TYPE_INTR (0ull << 8)
#define EVENT_TYPE_NMI (2ull << 8)
#define EVENT_TYPE_EXCEPTION (3ull << 8)

#define V_IRQ (1ull << 8)
#define V_IGN_TPR (1ull << 20)
#define V_INTR_MASKING (1ull << 24)

struct svm_state {
	uint8_t *vmcb;          /* the guest's VMCB (direct-map address) */
	paddr_t vmcb_pa;
	paddr_t host_state_pa;  /* VMSAVE area for the host's hidden state */
	bool window_requested;  /* V_IRQ set: waiting for the guest to accept an interrupt */
	uint64_t exit_rip;      /* RIP when the guest last exited */
};

/** The VMCB field at @p offset, as a 64-bit or 32-bit value. */
static inline uint64_t *vmcb_u64(struct svm_state *s, unsigned offset) { return (uint64_t *)(s->vmcb + offset); }
static inline uint32_t *vmcb_u32(struct svm_state *s, unsigned offset) { return (uint32_t *)(s->vmcb + offset); }

/** Fill one segment of the VMCB's state save area (APM Vol. 2, Table B-2). */
static inline void set_segment(struct svm_state *s, unsigned offset, uint16_t selector, uint16_t attributes,
			uint32_t limit, uint64_t base)
{
	*(uint16_t *)(s->vmcb + offset) = selector;
	*(uint16_t *)(s->vmcb + offset + 2) = attributes;
	*(uint32_t *)(s->vmcb + offset + 4) = limit;
	*(uint64_t *)(s->vmcb + offset + 8) = base;
}

/* Queue an exception for the next VMRUN (svm.c). */
void svm_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);

/* LAB 3 (kernel/svm/vmcb.c): the guest's initial state in the VMCB, and the
 * meaning of an exit in the common vocabulary. */
void svm_init_guest_state(struct vcpu *v, struct svm_state *s);
void svm_decode_exit(struct vcpu *v, struct svm_state *s);

#endif
