/**
 * @file shadow.h
 * @brief Shadow paging (lab 2): the guest owns its page tables, the hypervisor runs it on shadows.
 *
 * The guest's tables map guest-virtual to guest-physical addresses; the CPU
 * needs host-physical ones. The shadow tables the CPU really walks are built
 * lazily, one page per fault, from the guest's tables — a software TLB: a
 * guest CR3 load empties them, INVLPG drops an entry, and a page fault either
 * fills a missing entry (a *hidden* fault, invisible to the guest) or is the
 * guest's own (a *true* fault, delivered with the error code the hardware
 * would give).
 */
#ifndef HYPATIA_SHADOW_H
#define HYPATIA_SHADOW_H

#include "types.h"

struct vcpu;
struct domain;

/** @name Kinds of access, for guest_walk()
 *  @{ */
#define ACCESS_READ 0u  /**< a data read */
#define ACCESS_WRITE 1u /**< a data write */
#define ACCESS_FETCH 2u /**< an instruction fetch */
/** Or-ed into the kind: the access is made at CPL 3 (guest user mode), so every level needs U = 1. */
#define ACCESS_USER 4u
/** @} */

/** What a walk of the guest's page tables found. */
struct guest_walk_result {
	uint64_t gpa;    /**< guest-physical address the virtual address maps to (walk succeeded) */
	bool writable;   /**< every level allows writes */
	bool executable; /**< no level sets NX (or EFER.NXE is off) */
	bool large;      /**< the leaf is a 2 MiB page */
	bool dirty;      /**< the leaf's D bit is set (after this walk's own update) */
	bool user;       /**< every level sets U: guest user mode may reach the page */
	uint32_t error;  /**< walk failed: the \#PF error code the hardware would report (P, W, U, RSVD, I/D) */
};

/** Counters a shadow domain prints when it ends. */
struct shadow_stats {
	uint64_t hidden_faults; /**< faults the hypervisor filled without the guest knowing */
	uint64_t true_faults;   /**< faults delivered to the guest */
	uint64_t cr3_loads;     /**< guest CR3 loads (each empties the shadow) */
	uint64_t invlpgs;       /**< guest INVLPGs */
	uint64_t refused;       /**< mappings refused by policy */
	uint64_t user_entries;  /**< pv: entries into guest user mode (each runs on the user shadow root) */
	uint64_t kernel_entries; /**< pv: returns from guest user mode to its kernel (back on the kernel root) */
};

/** @name LAB 2 — kernel/virt/shadow_walk.c and kernel/virt/shadow_fault.c
 *  @{ */
/**
 * Walk the guest's 4-level page tables (rooted at vcpu->cr3) for @p gva as
 * the CPU would for an access of kind @p access (at CPL 3 if it has
 * #ACCESS_USER, else at CPL 0). On success fill
 * @p out and, if @p set_accessed_dirty, set the A bits the walk used and the
 * D bit of the leaf for a write. Returns false with out->error set if the
 * access faults; crashes the domain if a table lies outside its memory.
 */
bool guest_walk(struct vcpu *vcpu, uint64_t gva, unsigned access, bool set_accessed_dirty,
		struct guest_walk_result *out);
/**
 * A page fault at @p gva while the guest ran on the shadow tables, with the
 * hardware's error code @p hw_error: fill the shadow (hidden fault) or
 * deliver the fault to the guest (true fault).
 */
void shadow_page_fault(struct vcpu *vcpu, uint64_t gva, uint32_t hw_error);
/** @} */

/** @name Given
 *  @{ */
/** Build the initial identity-mapping guest tables of a `mode=shadow` domain; returns its CR3 (0 if none fits). */
uint64_t shadow_build_initial_tables(struct domain *domain);
/**
 * Map guest-virtual page @p gva to guest-physical @p gpa in the shadow, if
 * policy allows (the frame is the domain's, the address is in the lower
 * half). Writable only if @p writable, executable only if @p executable;
 * @p user says the guest's tables let its user mode reach the page (U = 1 at
 * every level). A PV guest's entry goes into the shadow root of the mode it
 * runs in (shadow_root_for()); an HVM guest's single root carries @p user as
 * the entry's U bit. Returns false (and logs one line) if refused.
 */
bool shadow_install(struct vcpu *vcpu, uint64_t gva, uint64_t gpa, bool writable, bool executable, bool user);
/**
 * The shadow root the CPU walks while @p vcpu runs in guest user mode
 * (@p guest_user) or in its kernel. A PV guest's two modes both run at CPL 3,
 * so the U bit cannot tell them apart: they get two roots (as Xen PV does),
 * the kernel one mapping what its kernel may reach, the user one only pages
 * with U = 1 at every guest level. Both share the hypervisor's half. An HVM
 * guest has one root (its CPL is real). The user root is made on first use.
 * Returns 0 if out of memory.
 */
uint64_t shadow_root_for(struct vcpu *vcpu, bool guest_user);
/** Empty the shadow (a guest CR3 load, or a CR0/CR4 change that alters permissions). */
void shadow_flush(struct vcpu *vcpu);
/** Drop the shadow entries that could translate @p gva (guest INVLPG). */
void shadow_invlpg(struct vcpu *vcpu, uint64_t gva);
/** Print the domain's counters (when it ends). */
void shadow_print_stats(struct domain *domain);
/** Physical-address width of this CPU (CPUID 0x80000008), for reserved-bit checks. */
unsigned shadow_physical_address_bits(void);
/** @} */

#endif
