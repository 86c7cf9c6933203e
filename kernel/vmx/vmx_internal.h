/*
 * vmx_internal.h — what the files of the VMX backend share: the backend's
 * per-vCPU state, VMREAD/VMWRITE and the bits of the fields they set.
 * Not a public header: kernel/include/vmx.h is the backend's interface.
 * The twin of kernel/svm/svm_internal.h.
 */
#ifndef HYPATIA_VMX_INTERNAL_H
#define HYPATIA_VMX_INTERNAL_H

#include "types.h"
#include "vmx.h"

struct vcpu;

/* Pin-based controls (SDM Vol. 3C §25.6.1). */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
/* Primary processor-based controls (§25.6.2, Table 25-6). */
#define PROC_INTERRUPT_WINDOW_EXITING (1u << 2)
#define PROC_USE_TSC_OFFSETTING (1u << 3)
#define PROC_HLT_EXITING (1u << 7)
#define PROC_INVLPG_EXITING (1u << 9)
#define PROC_CR3_LOAD_EXITING (1u << 15)
#define PROC_CR3_STORE_EXITING (1u << 16)
#define PROC_USE_TPR_SHADOW (1u << 21)     /* MOV to/from CR8 use the virtual-APIC page's TPR */
#define PROC_USE_IO_BITMAPS (1u << 25)
#define PROC_USE_MSR_BITMAPS (1u << 28)
#define PROC_PAUSE_EXITING (1u << 30)
#define PROC_ACTIVATE_SECONDARY (1u << 31)
/* Secondary processor-based controls (Table 25-7). */
#define PROC2_ENABLE_EPT (1u << 1)
#define PROC2_ENABLE_RDTSCP (1u << 3)      /* off: RDTSCP is #UD */
#define PROC2_UNRESTRICTED_GUEST (1u << 7)
#define PROC2_ENABLE_INVPCID (1u << 12)    /* off: INVPCID is #UD */
/* VM-exit controls (§25.7.1). */
#define EXIT_HOST_ADDRESS_SPACE_SIZE (1u << 9)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_LOAD_EFER (1u << 21)
/* VM-entry controls (§25.8.1). */
#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_LOAD_EFER (1u << 15)

/* VM-entry interruption information, IDT-vectoring and VM-exit
 * interruption information share one format (§25.8.3, §25.9.2, §25.9.3):
 * vector in 7:0, type in 10:8, error code valid in 11, valid in 31 —
 * the low half of SVM's EVENTINJ. */
#define EVENT_VALID (1u << 31)
#define EVENT_ERROR_VALID (1u << 11)
#define EVENT_TYPE_MASK (7u << 8)
#define EVENT_TYPE_INTR (0u << 8)
#define EVENT_TYPE_NMI (2u << 8)
#define EVENT_TYPE_EXCEPTION (3u << 8)
#define EVENT_TYPE_SOFT_INTR (4u << 8)

/* Guest interruptibility state (§25.4.2, Table 25-3). */
#define INTERRUPTIBILITY_STI (1u << 0)
#define INTERRUPTIBILITY_MOV_SS (1u << 1)
#define INTERRUPTIBILITY_NMI (1u << 3)

/* The guest MSRs VMX does not switch by itself (SVM's VMLOAD/VMSAVE do):
 * a VM entry loads them from an MSR-load area, a VM exit stores them there
 * and loads the host's (§25.7.2, §25.8.2). */
#define VMX_SWITCHED_MSRS 5

struct vmx_msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
};

struct vmx_state {
	paddr_t vmcs_pa;        /* the guest's VMCS region (the revision ID in its first word) */
	paddr_t guest_msrs_pa;  /* VMX_SWITCHED_MSRS struct vmx_msr_entry: entry load, exit store */
	bool launched;          /* VMLAUNCH done: the next entry is VMRESUME */
	bool unrestricted;      /* "unrestricted guest" on: PE and PG are the guest's */
	bool window_requested;  /* interrupt-window exiting set: waiting for the guest to accept */
	uint64_t exit_rip;      /* RIP when the guest last exited */
	paddr_t virtual_apic_pa; /* TPR shadow: the page whose byte 0x80 CR8 reads and writes (0: none) */
	uint64_t cr0_fixed, cr4_fixed; /* CR0/CR4 bits that must be 1 in VMX operation (FIXED0 MSRs) */
	uint64_t cr0_mask, cr4_mask;   /* the CR0/CR4 bits the host owns (the fixed ones) */
};

/* VMREAD and VMWRITE of the current VMCS (SDM Vol. 3C §31.3). A failure
 * is the hypervisor's bug (a wrong encoding): vmwrite() panics, naming the
 * field. */
static inline uint64_t vmread(uint64_t field)
{
	uint64_t value;
	__asm__ volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
	return value;
}
void vmwrite(uint64_t field, uint64_t value);

/* The guest's segment registers in the order of their VMCS encodings. */
enum vmx_segment { VMX_ES, VMX_CS, VMX_SS, VMX_DS, VMX_FS, VMX_GS, VMX_LDTR, VMX_TR };

/** Fill one segment of the VMCS's guest-state area (SDM Vol. 3C §25.4.1). */
static inline void set_segment(enum vmx_segment segment, uint16_t selector, uint32_t access_rights,
			       uint32_t limit, uint64_t base)
{
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * segment, selector);
	vmwrite(VMCS_GUEST_ES_ACCESS + 2 * segment, access_rights);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * segment, limit);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * segment, base);
}

/* Queue an exception for the next VM entry (vmx.c). */
void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
/* The interrupt window we asked for is open: stop asking (vmx.c). */
void vmx_close_interrupt_window(struct vmx_state *s);

/* LAB 3 (kernel/vmx/vmcs.c): the guest's initial state in the VMCS, and the
 * meaning of an exit in the common vocabulary. Both run with the vCPU's
 * VMCS current (VMPTRLD). */
void vmx_init_guest_state(struct vcpu *v, struct vmx_state *s);
void vmx_decode_exit(struct vcpu *v, struct vmx_state *s);

#endif
