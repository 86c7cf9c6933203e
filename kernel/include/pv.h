/**
 * @file pv.h
 * @brief The trap-and-emulate (PV) backend: entry from traps, and the lab-1 functions.
 */
#ifndef HYPATIA_PV_H
#define HYPATIA_PV_H

#include "trap.h"

struct vcpu;
struct insn;

/** Selector the guest believes is its code segment: the kernel's 64-bit CS (the native shim's too). */
#define PV_GUEST_CS 0x08
/** Selector the guest believes is its stack segment. */
#define PV_GUEST_SS 0x10
/** Vector of the hypercall gate, open to CPL 3 (Xen's choice for 64-bit PV). */
#define PV_HYPERCALL_VECTOR 0x82
/**
 * Or-ed into an access kind for pv_access_guest(): a *supervisor* access even
 * while the guest runs in its user mode — the CPU's own accesses to the IDT,
 * GDT, TSS and the kernel stack while it delivers an event (SDM Vol. 3A
 * §4.6: "implicit supervisor-mode accesses").
 */
#define PV_ACCESS_SUPERVISOR 0x100u

/**
 * A trap arrived while a PV guest ran at CPL 3: record it as the vCPU's exit
 * and return to the hypervisor code that entered the guest. If @p handler is
 * not NULL (a physical interrupt such as the timer), it runs first.
 * Never returns to its caller.
 */
NORETURN void pv_trap_from_guest(struct trap_frame *frame, trap_handler_t handler);

/** What an emulation function did. */
enum emulation_result {
	EMULATE_DONE,  /**< the instruction was carried out: the caller steps RIP past it */
	EMULATE_FAULT, /**< an exception was injected (or the domain crashed): RIP stays */
	EMULATE_BRANCH, /**< the instruction set RIP itself (IRETQ) */
};

/** How an event reaches the guest; it decides the frame and the return address. */
enum bounce_kind {
	BOUNCE_EXCEPTION, /**< a fault or trap raised by an instruction */
	BOUNCE_INTERRUPT, /**< an external (virtual) interrupt */
	BOUNCE_SOFTWARE,  /**< INT n / INT3: returns after the instruction */
};

/** @name LAB 1 — kernel/pv/bounce.c
 *  @{ */
/**
 * Deliver @p vector through the guest's IDT (vcpu->idtr): check the gate,
 * push the frame the hardware would push at CPL 0 on the guest's stack, and
 * continue at the handler. From guest user mode (vcpu->virtual_cpl = 3,
 * lab 2) the frame goes on the stack the guest's TSS names (RSP0) and names
 * the user CS/SS, and the guest is back in its kernel; INT n there needs a
 * gate with DPL 3. Returns false if the gate or the stack is unusable, or
 * the gate's DPL refuses a software interrupt (the caller escalates as the
 * CPU would, or raises \#GP(vector * 8 + 2)).
 */
bool pv_bounce(struct vcpu *vcpu, uint8_t vector, enum bounce_kind kind, bool has_error, uint32_t error);
/**
 * Emulate IRETQ (it traps because the guest's frames name the more-privileged
 * CS 0x08, or its user CS, which the hypervisor's GDT does not have): to its
 * kernel (CS = #PV_GUEST_CS) or, with an RPL-3 CS and SS, into its user mode.
 */
enum emulation_result pv_emulate_iret(struct vcpu *vcpu, const struct insn *insn);
/** If an interrupt is pending and the virtual IF allows it, deliver it now. */
void pv_deliver_pending_interrupt(struct vcpu *vcpu);
/** @} */

/** @name LAB 1 — kernel/pv/emulate_priv.c
 *  @{ */
/** MOV to/from CR0, CR2, CR3, CR4, CR8; CLTS; LMSW; SMSW — against the virtual control registers. */
enum emulation_result pv_emulate_control_register(struct vcpu *vcpu, const struct insn *insn);
/** SGDT, SIDT, SLDT, STR: store the guest's virtual descriptor-table registers. */
enum emulation_result pv_emulate_store_descriptor(struct vcpu *vcpu, const struct insn *insn);
/** RDMSR/WRMSR against the virtual MSRs; an MSR that does not exist gets \#GP(0). */
enum emulation_result pv_emulate_msr(struct vcpu *vcpu, const struct insn *insn);
/** @} */

/** @name Given helpers the lab-1 functions use (kernel/pv/pv_guest.c)
 *  @{ */
/** Guest-linear address of @p insn's memory operand (adds the FS/GS base for overrides). */
uint64_t pv_operand_address(struct vcpu *vcpu, const struct insn *insn);
/**
 * Copy between a hypervisor buffer and guest-virtual memory (@p access:
 * ACCESS_READ, ACCESS_WRITE or ACCESS_FETCH from shadow.h), translating
 * through the guest's page tables under shadow paging. The access is made
 * with the guest's current privilege (a user-mode access at virtual CPL 3)
 * unless @p access has #PV_ACCESS_SUPERVISOR. Returns false, with no fault
 * injected, if any byte is not accessible.
 */
bool pv_access_guest(struct vcpu *vcpu, uint64_t va, void *buf, size_t size, unsigned access);
/** Read guest-virtual memory; on failure inject the \#PF the guest would take and return false. */
bool pv_read_guest(struct vcpu *vcpu, uint64_t va, void *buf, size_t size, bool fetch);
/** Write guest-virtual memory; on failure inject the \#PF the guest would take and return false. */
bool pv_write_guest(struct vcpu *vcpu, uint64_t va, const void *buf, size_t size);
/**
 * The stack pointer the guest's TSS holds for @p index: 0 = RSP0 (the kernel
 * stack an event from user mode switches to), 1-7 = IST1-IST7. The TSS is
 * the one its LTR selected (vcpu->tr), found through its GDT and read with
 * supervisor accesses. False if there is none, it is not a 64-bit TSS, or
 * the field lies outside it or outside the guest's memory.
 */
bool pv_guest_tss_stack(struct vcpu *vcpu, unsigned index, uint64_t *rsp);
/**
 * The guest now runs at virtual CPL @p cpl (0: its kernel, 3: its user mode)
 * with selectors @p cs and @p ss as it believes them. Under shadow paging
 * the backend loads the shadow root of that mode before the guest runs
 * again (shadow_root_for()); a change of mode is counted.
 */
void pv_switch_mode(struct vcpu *vcpu, uint8_t cpl, uint16_t cs, uint16_t ss);
/**
 * The virtual IF is 0: the vCPU's evtchn_upcall_mask in the shared-info page
 * is set (Xen's virtual IF), or, before the guest registered a page, the
 * virtual IF kept in vcpu->virtual_if is 0.
 */
bool pv_interrupts_masked(struct vcpu *vcpu);
/** Set the virtual IF (and clear or set evtchn_upcall_mask, if a shared-info page is registered). */
void pv_set_virtual_if(struct vcpu *vcpu, bool enabled);
/**
 * Show the emulated PIC's waiting interrupt in evtchn_upcall_pending, so a
 * guest that unmasks with a plain store knows to make a hypercall to take it
 * (Hypatia's PV guests keep a PC's PIC; Xen's have only events). Cleared
 * again once neither the PIC nor an event channel has anything pending.
 */
void pv_publish_pending(struct vcpu *vcpu, bool pic_pending);
/** @} */

#endif
