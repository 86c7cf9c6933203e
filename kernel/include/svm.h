/**
 * @file svm.h
 * @brief AMD SVM: the VMCB layout and the SVM backend (lab 3).
 *
 * Offsets from AMD64 APM Vol. 2, Appendix B "Layout of VMCB" (Table B-1,
 * control area; Table B-2, state save area). The VMCB is one 4 KiB page the
 * processor reads at VMRUN and writes at #VMEXIT.
 */
#ifndef HYPATIA_SVM_H
#define HYPATIA_SVM_H

#include "types.h"

struct vcpu_ops;

/** @name VMCB control area offsets (APM Vol. 2, Table B-1)
 *  @{ */
#define VMCB_INTERCEPT_CR 0x000      /**< u32: CR reads (bits 0-15), writes (16-31) */
#define VMCB_INTERCEPT_EXCEPTIONS 0x008 /**< u32: one bit per exception vector */
#define VMCB_INTERCEPT_MISC1 0x00c   /**< u32: INTR, NMI, VINTR, CPUID, HLT, IOIO, MSR, SHUTDOWN ... */
#define VMCB_INTERCEPT_MISC2 0x010   /**< u32: VMRUN (must be set), VMMCALL, ... */
#define VMCB_IOPM_BASE 0x040         /**< u64: physical address of the I/O permission map */
#define VMCB_MSRPM_BASE 0x048        /**< u64: physical address of the MSR permission map */
#define VMCB_TSC_OFFSET 0x050        /**< u64: added to the TSC the guest reads */
#define VMCB_ASID 0x058              /**< u32: address-space ID (non-zero) */
#define VMCB_TLB_CONTROL 0x05c       /**< u8: 1 = flush all on VMRUN */
#define VMCB_VINTR 0x060             /**< u64: V_TPR, V_IRQ (bit 8), V_INTR_PRIO, V_IGN_TPR (20), V_INTR_MASKING (24), vector (32-39) */
#define VMCB_INTERRUPT_SHADOW 0x068  /**< u64: bit 0: the guest is in an STI/MOV SS shadow */
#define VMCB_EXITCODE 0x070          /**< u64: why the guest exited */
#define VMCB_EXITINFO1 0x078         /**< u64: exit-specific */
#define VMCB_EXITINFO2 0x080         /**< u64: exit-specific (IOIO: the next RIP; NPF: the guest-physical address) */
#define VMCB_EXITINTINFO 0x088       /**< u64: an event that was being delivered when the exit happened */
#define VMCB_NP_ENABLE 0x090         /**< u64: bit 0: nested paging */
#define VMCB_EVENTINJ 0x0a8          /**< u64: event to inject at the next VMRUN */
#define VMCB_N_CR3 0x0b0             /**< u64: nested page table root (host-physical) */
/** @} */

/** @name VMCB state save area offsets (APM Vol. 2, Table B-2)
 *  @{ */
#define VMCB_ES 0x400   /**< segment: u16 selector, u16 attributes, u32 limit, u64 base */
#define VMCB_CS 0x410   /**< CS */
#define VMCB_SS 0x420   /**< SS */
#define VMCB_DS 0x430   /**< DS */
#define VMCB_FS 0x440   /**< FS */
#define VMCB_GS 0x450   /**< GS */
#define VMCB_GDTR 0x460 /**< GDTR (limit and base only) */
#define VMCB_LDTR 0x470 /**< LDTR */
#define VMCB_IDTR 0x480 /**< IDTR (limit and base only) */
#define VMCB_TR 0x490   /**< TR */
#define VMCB_CPL 0x4cb  /**< u8: current privilege level */
#define VMCB_EFER 0x4d0 /**< u64 */
#define VMCB_CR4 0x548  /**< u64 */
#define VMCB_CR3 0x550  /**< u64 */
#define VMCB_CR0 0x558  /**< u64 */
#define VMCB_DR7 0x560  /**< u64 */
#define VMCB_DR6 0x568  /**< u64 */
#define VMCB_RFLAGS 0x570 /**< u64 */
#define VMCB_RIP 0x578  /**< u64 */
#define VMCB_RSP 0x5d8  /**< u64 */
#define VMCB_RAX 0x5f8  /**< u64 */
#define VMCB_CR2 0x640  /**< u64 */
#define VMCB_G_PAT 0x668 /**< u64: the guest's PAT under nested paging */
/** @} */

/** @name #VMEXIT codes (APM Vol. 2, Appendix C)
 *  @{ */
#define SVM_EXIT_CR0_READ 0x00  /**< MOV from CR0 (shadow paging: the real CR0 has WP forced) */
#define SVM_EXIT_CR3_READ 0x03  /**< MOV from CR3 (shadow paging) */
#define SVM_EXIT_CR0_WRITE 0x10 /**< MOV to CR0 (and LMSW, CLTS) */
#define SVM_EXIT_CR8_WRITE 0x18 /**< MOV to CR8 (intercepted only while the TPR's bits 3:0 are not 0) */
#define SVM_EXIT_CR3_WRITE 0x13 /**< MOV to CR3: the guest switches address space */
#define SVM_EXIT_CR4_WRITE 0x14 /**< MOV to CR4 */
#define SVM_EXIT_INVLPG 0x79    /**< INVLPG */
#define SVM_EXIT_EXCEPTION_BASE 0x40 /**< 0x40 + vector: an intercepted exception */
#define SVM_EXIT_INTR 0x60     /**< a physical interrupt */
#define SVM_EXIT_NMI 0x61      /**< a physical NMI */
#define SVM_EXIT_VINTR 0x64    /**< the guest can take the virtual interrupt we asked for */
#define SVM_EXIT_CPUID 0x72    /**< CPUID */
#define SVM_EXIT_HLT 0x78      /**< HLT */
#define SVM_EXIT_IOIO 0x7b     /**< IN/OUT/INS/OUTS on an intercepted port */
#define SVM_EXIT_MSR 0x7c      /**< RDMSR/WRMSR on an intercepted MSR */
#define SVM_EXIT_PAUSE 0x77    /**< PAUSE (intercepted: a guest spinning waits for its timer) */
#define SVM_EXIT_SHUTDOWN 0x7f /**< the guest triple-faulted */
#define SVM_EXIT_VMRUN 0x80    /**< the guest executed VMRUN */
#define SVM_EXIT_VMMCALL 0x81  /**< the guest's hypercall */
#define SVM_EXIT_NPF 0x400     /**< nested page fault */
#define SVM_EXIT_INVALID 0xffffffffffffffffull /**< VMRUN refused the guest state */
/** @} */

/** The SVM backend (kernel/svm/). */
extern const struct vcpu_ops svm_vcpu_ops;

struct vcpu;
/** Copy vcpu->cr3 (the guest's page-table root, guest-physical) into the VMCB. */
void svm_load_guest_cr3(struct vcpu *vcpu);
/**
 * Put the vCPU in the state a multiboot loader leaves (Multiboot spec §3.2):
 * flat 32-bit protected mode, paging off. The registers (entry, EAX, EBX)
 * are the caller's: domain.c.
 */
void svm_enter_protected_mode(struct vcpu *vcpu);
/**
 * Start the vCPU in 64-bit mode at @p entry with CS = @p code_selector and
 * the data segments = @p data_selector (flat, as the guest's GDT at
 * @p gdt_base describes them), on the page tables at vcpu->cr3: the entry
 * state of Linux's 64-bit boot protocol.
 */
void svm_enter_long_mode(struct vcpu *vcpu, uint64_t entry, uint16_t code_selector, uint16_t data_selector,
			 uint64_t gdt_base, uint16_t gdt_limit);
/** Turn SVM on for this CPU (EFER.SVME, the host save area). False, with a line saying why, if impossible. */
bool svm_enable(void);

#endif
