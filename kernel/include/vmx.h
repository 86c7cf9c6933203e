/**
 * @file vmx.h
 * @brief Intel VMX: the VMCS fields and exit reasons the VMX backend uses (lab 3).
 *
 * The twin of svm.h. Unlike AMD's VMCB, the VMCS is not a structure in
 * memory the hypervisor may read: its layout is the processor's secret and
 * every field is reached with VMREAD/VMWRITE through its 32-bit encoding.
 * Encodings from Intel SDM Vol. 3D, Appendix B "Field Encoding in VMCS";
 * the fields' meaning from Vol. 3C ch. 25 "Virtual Machine Control
 * Structures". Bits 14:13 of an encoding give the width (0 16-bit,
 * 1 64-bit, 2 32-bit, 3 natural), bits 11:10 the type (0 control,
 * 1 read-only exit information, 2 guest state, 3 host state).
 */
#ifndef HYPATIA_VMX_H
#define HYPATIA_VMX_H

#include "types.h"

struct vcpu_ops;

/** @name VMCS control fields (SDM Vol. 3C §25.6, Vol. 3D Appendix B)
 *  @{ */
#define VMCS_IO_BITMAP_A 0x2000        /**< u64: physical address of the bitmap of ports 0-0x7fff */
#define VMCS_IO_BITMAP_B 0x2002        /**< u64: physical address of the bitmap of ports 0x8000-0xffff */
#define VMCS_MSR_BITMAP 0x2004         /**< u64: physical address of the 4 KiB MSR bitmaps */
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006 /**< u64: where a VM exit stores the guest's MSRs */
#define VMCS_EXIT_MSR_LOAD_ADDR 0x2008 /**< u64: the host MSRs a VM exit loads */
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200a /**< u64: the guest MSRs a VM entry loads */
#define VMCS_TSC_OFFSET 0x2010         /**< u64: added to the TSC the guest reads */
#define VMCS_VIRTUAL_APIC_PAGE 0x2012 /**< u64: the virtual-APIC page, whose byte 0x80 is the guest's TPR (TPR shadow) */
#define VMCS_EPT_POINTER 0x201a        /**< u64: EPTP: EPT root, walk length, memory type */
#define VMCS_PIN_CONTROLS 0x4000       /**< u32: pin-based VM-execution controls */
#define VMCS_PROC_CONTROLS 0x4002      /**< u32: primary processor-based controls */
#define VMCS_EXCEPTION_BITMAP 0x4004   /**< u32: one bit per exception vector that exits */
#define VMCS_PF_ERROR_MASK 0x4006      /**< u32: with the match below, which \#PF error codes exit (0/0: all) */
#define VMCS_PF_ERROR_MATCH 0x4008     /**< u32: see VMCS_PF_ERROR_MASK (SDM §25.6.3) */
#define VMCS_TPR_THRESHOLD 0x401c     /**< u32: a guest TPR below this (bits 3:0, as CR8) exits */
#define VMCS_CR3_TARGET_COUNT 0x400a   /**< u32: number of CR3 values a guest may load without exiting */
#define VMCS_EXIT_CONTROLS 0x400c      /**< u32: VM-exit controls */
#define VMCS_EXIT_MSR_STORE_COUNT 0x400e /**< u32: entries in the VM-exit MSR-store area */
#define VMCS_EXIT_MSR_LOAD_COUNT 0x4010 /**< u32: entries in the VM-exit MSR-load area */
#define VMCS_ENTRY_CONTROLS 0x4012     /**< u32: VM-entry controls */
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014 /**< u32: entries in the VM-entry MSR-load area */
#define VMCS_ENTRY_INTR_INFO 0x4016    /**< u32: event to inject at the next VM entry */
#define VMCS_ENTRY_EXCEPTION_ERROR 0x4018 /**< u32: its error code */
#define VMCS_ENTRY_INSTRUCTION_LEN 0x401a /**< u32: its instruction length (software events) */
#define VMCS_SECONDARY_CONTROLS 0x401e /**< u32: secondary processor-based controls */
#define VMCS_CR0_MASK 0x6000           /**< natural: CR0 bits the host owns */
#define VMCS_CR4_MASK 0x6002           /**< natural: CR4 bits the host owns */
#define VMCS_CR0_READ_SHADOW 0x6004    /**< natural: what the guest reads in the CR0 bits the host owns */
#define VMCS_CR4_READ_SHADOW 0x6006    /**< natural: the same for CR4 */
/** @} */

/** @name VMCS read-only exit information (SDM Vol. 3C §25.9)
 *  @{ */
#define VMCS_GUEST_PHYSICAL_ADDRESS 0x2400 /**< u64: the address of an EPT violation or misconfiguration */
#define VMCS_INSTRUCTION_ERROR 0x4400  /**< u32: why VMLAUNCH/VMRESUME/VMWRITE failed (VMfailValid) */
#define VMCS_EXIT_REASON 0x4402        /**< u32: basic exit reason in bits 15:0; bit 31: VM entry failed */
#define VMCS_EXIT_INTR_INFO 0x4404     /**< u32: the exception or NMI that caused the exit */
#define VMCS_EXIT_INTR_ERROR 0x4406    /**< u32: its error code */
#define VMCS_IDT_VECTORING_INFO 0x4408 /**< u32: an event that was being delivered when the exit happened */
#define VMCS_IDT_VECTORING_ERROR 0x440a /**< u32: its error code */
#define VMCS_EXIT_INSTRUCTION_LEN 0x440c /**< u32: length of the instruction that exited */
#define VMCS_EXIT_QUALIFICATION 0x6400 /**< natural: exit-specific details */
/** @} */

/** @name VMCS guest-state area (SDM Vol. 3C §25.4)
 *  Selector, limit, access rights and base of a segment are four fields; the
 *  guest's ES is at the base encodings below, each next segment (CS, SS, DS,
 *  FS, GS, LDTR, TR) 2 further.
 *  @{ */
#define VMCS_GUEST_ES_SELECTOR 0x0800  /**< u16: ES selector (CS 0x802, SS 0x804, ... TR 0x80e) */
#define VMCS_GUEST_ES_LIMIT 0x4800     /**< u32: ES limit (CS 0x4802, ...) */
#define VMCS_GUEST_ES_ACCESS 0x4814    /**< u32: ES access rights (CS 0x4816, ...), see VMX_AR_* */
#define VMCS_GUEST_ES_BASE 0x6806      /**< natural: ES base (CS 0x6808, ...) */
#define VMCS_GUEST_GDTR_LIMIT 0x4810   /**< u32: GDTR limit */
#define VMCS_GUEST_IDTR_LIMIT 0x4812   /**< u32: IDTR limit */
#define VMCS_GUEST_GDTR_BASE 0x6816    /**< natural: GDTR base */
#define VMCS_GUEST_IDTR_BASE 0x6818    /**< natural: IDTR base */
#define VMCS_LINK_POINTER 0x2800       /**< u64: must be all ones (no shadow VMCS) */
#define VMCS_GUEST_DEBUGCTL 0x2802     /**< u64: IA32_DEBUGCTL */
#define VMCS_GUEST_EFER 0x2806         /**< u64: IA32_EFER (with the "load IA32_EFER" entry control) */
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824 /**< u32: bit 0 blocking by STI, bit 1 by MOV SS */
#define VMCS_GUEST_ACTIVITY_STATE 0x4826 /**< u32: 0 active, 1 HLT */
#define VMCS_GUEST_SYSENTER_CS 0x482a  /**< u32: IA32_SYSENTER_CS */
#define VMCS_GUEST_CR0 0x6800          /**< natural: CR0 */
#define VMCS_GUEST_CR3 0x6802          /**< natural: CR3 */
#define VMCS_GUEST_CR4 0x6804          /**< natural: CR4 */
#define VMCS_GUEST_DR7 0x681a          /**< natural: DR7 */
#define VMCS_GUEST_RSP 0x681c          /**< natural: RSP */
#define VMCS_GUEST_RIP 0x681e          /**< natural: RIP */
#define VMCS_GUEST_RFLAGS 0x6820       /**< natural: RFLAGS */
#define VMCS_GUEST_PENDING_DEBUG 0x6822 /**< natural: pending debug exceptions */
#define VMCS_GUEST_SYSENTER_ESP 0x6824 /**< natural: IA32_SYSENTER_ESP */
#define VMCS_GUEST_SYSENTER_EIP 0x6826 /**< natural: IA32_SYSENTER_EIP */
/** @} */

/** @name VMCS host-state area (SDM Vol. 3C §25.5): what a VM exit loads
 *  @{ */
#define VMCS_HOST_ES_SELECTOR 0x0c00   /**< u16: ES (CS 0xc02, SS 0xc04, DS 0xc06, FS 0xc08, GS 0xc0a, TR 0xc0c) */
#define VMCS_HOST_EFER 0x2c02          /**< u64: IA32_EFER (with the "load IA32_EFER" exit control) */
#define VMCS_HOST_SYSENTER_CS 0x4c00   /**< u32: IA32_SYSENTER_CS */
#define VMCS_HOST_CR0 0x6c00           /**< natural: CR0 */
#define VMCS_HOST_CR3 0x6c02           /**< natural: CR3 */
#define VMCS_HOST_CR4 0x6c04           /**< natural: CR4 */
#define VMCS_HOST_FS_BASE 0x6c06       /**< natural: FS base */
#define VMCS_HOST_GS_BASE 0x6c08       /**< natural: GS base (the per-CPU data) */
#define VMCS_HOST_TR_BASE 0x6c0a       /**< natural: TSS base */
#define VMCS_HOST_GDTR_BASE 0x6c0c     /**< natural: GDTR base (the limit becomes 0xffff) */
#define VMCS_HOST_IDTR_BASE 0x6c0e     /**< natural: IDTR base (the limit becomes 0xffff) */
#define VMCS_HOST_SYSENTER_ESP 0x6c10  /**< natural: IA32_SYSENTER_ESP */
#define VMCS_HOST_SYSENTER_EIP 0x6c12  /**< natural: IA32_SYSENTER_EIP */
#define VMCS_HOST_RSP 0x6c14           /**< natural: RSP after a VM exit (set by the entry stub) */
#define VMCS_HOST_RIP 0x6c16           /**< natural: where a VM exit resumes: the entry stub's exit label */
/** @} */

/** @name Segment access rights in the VMCS (SDM Vol. 3C §25.4.1, Table 25-2)
 *  The descriptor's type, S, DPL, P in bits 0-7, AVL, L, D/B, G in 12-15
 *  (the VMCB packs the same bits into 0-11), and bit 16 "unusable".
 *  @{ */
#define VMX_AR_UNUSABLE (1u << 16) /**< the segment register holds a null selector */
/** @} */

/** @name Basic VM-exit reasons (SDM Vol. 3D Appendix C)
 *  @{ */
#define VMX_EXIT_EXCEPTION_NMI 0      /**< an exception in the exception bitmap, or an NMI */
#define VMX_EXIT_EXTERNAL_INTERRUPT 1 /**< a physical interrupt */
#define VMX_EXIT_TRIPLE_FAULT 2       /**< the guest triple-faulted */
#define VMX_EXIT_INTERRUPT_WINDOW 7   /**< the guest can take the virtual interrupt we asked for */
#define VMX_EXIT_CPUID 10             /**< CPUID (always exits) */
#define VMX_EXIT_HLT 12               /**< HLT */
#define VMX_EXIT_INVD 13              /**< INVD (always exits) */
#define VMX_EXIT_INVLPG 14            /**< INVLPG (with "INVLPG exiting": shadow paging) */
#define VMX_EXIT_VMCALL 18            /**< the guest's hypercall */
#define VMX_EXIT_VMCLEAR 19           /**< first of the VMX instructions VMCLEAR ... VMXON (19-27) */
#define VMX_EXIT_VMXON 27             /**< last of them */
#define VMX_EXIT_CR_ACCESS 28         /**< MOV to/from a control register the host owns */
#define VMX_EXIT_IO 30                /**< IN/OUT/INS/OUTS on a port set in the I/O bitmaps */
#define VMX_EXIT_RDMSR 31             /**< RDMSR on an intercepted MSR */
#define VMX_EXIT_WRMSR 32             /**< WRMSR on an intercepted MSR */
#define VMX_EXIT_INVALID_GUEST_STATE 33 /**< VM entry refused the guest state (bit 31 set too) */
#define VMX_EXIT_MSR_LOADING 34       /**< VM entry failed loading an MSR (bit 31 set too) */
#define VMX_EXIT_EPT_VIOLATION 48     /**< EPT violation: the nested page fault */
#define VMX_EXIT_EPT_MISCONFIG 49     /**< EPT misconfiguration: a malformed EPT entry */
#define VMX_EXIT_INVEPT 50            /**< INVEPT */
#define VMX_EXIT_INVVPID 53           /**< INVVPID */
#define VMX_EXIT_PAUSE 40             /**< PAUSE (with "PAUSE exiting") */
#define VMX_EXIT_XSETBV 55            /**< XSETBV (always exits) */
#define VMX_EXIT_ENTRY_FAILED (1u << 31) /**< bit 31 of the exit reason: the VM entry itself failed */
/** @} */

/** The VMX backend (kernel/vmx/). */
extern const struct vcpu_ops vmx_vcpu_ops;

struct vcpu;

/** @name The EPT of a nested-paging domain (kernel/vmx/ept.c, SDM Vol. 3C §29.3)
 *  @{ */
/** A new, empty EPT: its PML4 frame (host-physical), or 0 if out of memory. */
paddr_t ept_create(void);
/**
 * Map guest-physical page @p gpa to host frame @p hpa in the EPT rooted at
 * @p root: readable and executable, writable only if @p writable, write-back.
 * Replaces an existing mapping. False if out of memory for a table.
 */
bool ept_map(paddr_t root, uint64_t gpa, paddr_t hpa, bool writable);
/** Free the EPT's tables (not the frames they map). */
void ept_destroy(paddr_t root);
/** @} */

/**
 * True if this CPU's VMX offers "unrestricted guest" (SDM Vol. 3C §25.6.2):
 * a guest with paging or protection off, as a multiboot kernel starts. Call
 * after vmx_enable().
 */
bool vmx_unrestricted_guest(void);
/**
 * Put the vCPU in the state a multiboot loader leaves (Multiboot spec §3.2):
 * flat 32-bit protected mode, paging off. Needs vmx_unrestricted_guest().
 * The twin of svm_enter_protected_mode(); the registers are the caller's.
 */
void vmx_enter_protected_mode(struct vcpu *vcpu);
/**
 * Start the vCPU in 64-bit mode at @p entry with CS = @p code_selector and
 * the data segments = @p data_selector (flat, as the guest's GDT at
 * @p gdt_base describes them), on the page tables at vcpu->cr3: the entry
 * state of Linux's 64-bit boot protocol. The twin of svm_enter_long_mode().
 */
void vmx_enter_long_mode(struct vcpu *vcpu, uint64_t entry, uint16_t code_selector, uint16_t data_selector,
			 uint64_t gdt_base, uint16_t gdt_limit);

/**
 * Turn VMX on for this CPU: IA32_FEATURE_CONTROL, the fixed CR0/CR4 bits,
 * CR4.VMXE and VMXON. False, with a line saying why, if impossible (no VMX,
 * no EPT, locked off by the firmware). Never executes a VMX instruction on a
 * CPU without VMX (QEMU TCG).
 */
bool vmx_enable(void);

#endif
