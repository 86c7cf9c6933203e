/**
 * @file lapic.h
 * @brief The emulated local APIC of a vCPU (Intel SDM Vol. 3A ch. 11,
 * "Advanced Programmable Interrupt Controller").
 *
 * Every vCPU of a hardware-assisted domain has one, the way every x86 core
 * has one: a page of registers at guest-physical 0xfee00000 (xAPIC mode,
 * reached through nested-page faults or shadow-paging faults and the
 * instruction decoder), or the MSRs 0x800-0x8ff (x2APIC mode), chosen by
 * IA32_APIC_BASE. It holds the interrupt requests of its own sources (its
 * timer, self-IPIs, its error interrupt), decides by priority which one the
 * CPU takes next (IRR, ISR, TPR, PPR), and passes the 8259's interrupts
 * through its LINT0 pin in ExtINT mode ("virtual wire"), so that a guest
 * that never touches the APIC sees a PC with a PIC only.
 *
 * The timer (lapic_timer.c) counts the APIC bus clock, #LAPIC_BUS_HZ,
 * derived from the TSC as the PIT's clock is (vpit_tsc_hz()), so the
 * guest's TSC, PIT and APIC timer agree. The code: kernel/dev/lapic.c
 * (registers and priorities), kernel/dev/lapic_timer.c (the timer).
 */
#ifndef HYPATIA_LAPIC_H
#define HYPATIA_LAPIC_H

#include "types.h"

struct vcpu;

/** The APIC bus clock the timer counts, Hz (what QEMU's APIC reports too: 1 GHz would do; 100 MHz is a common bus). */
#define LAPIC_BUS_HZ 100000000ull
/** The architectural default base (SDM Vol. 3A §11.4.4). */
#define LAPIC_DEFAULT_BASE 0xfee00000ull

/** @name IA32_APIC_BASE (MSR 0x1b) bits (SDM Vol. 3A §11.4.4, §11.12.1)
 *  @{ */
#define APIC_BASE_BSP (1ull << 8)      /**< this is the bootstrap processor (read-only) */
#define APIC_BASE_EXTD (1ull << 10)    /**< x2APIC mode */
#define APIC_BASE_ENABLE (1ull << 11)  /**< APIC global enable */
/** @} */

/** The local vector table, in register order (0x320-0x370; SDM Vol. 3A §11.5.1). */
enum lapic_lvt {
	LVT_TIMER,   /**< 0x320 */
	LVT_THERMAL, /**< 0x330 */
	LVT_PERF,    /**< 0x340 */
	LVT_LINT0,   /**< 0x350: the 8259's INTR in ExtINT mode */
	LVT_LINT1,   /**< 0x360: NMI on a PC */
	LVT_ERROR,   /**< 0x370 */
	LVT_COUNT    /**< entries */
};

/** One vCPU's local APIC. */
struct vlapic {
	uint32_t id;               /**< APIC ID (0: one vCPU) */
	uint32_t tpr;              /**< task priority (0x80), bits 7:0; CR8 is bits 7:4 */
	uint32_t ldr;              /**< logical destination (0xd0), xAPIC only writable */
	uint32_t dfr;              /**< destination format (0xe0), xAPIC only */
	uint32_t svr;              /**< spurious-interrupt vector (0xf0): bit 8 software enable, bit 9 focus */
	uint32_t esr;              /**< error status as last latched by a write to 0x280 */
	uint32_t esr_pending;      /**< errors seen since, latched into @c esr by the next write */
	uint32_t icr_low;          /**< interrupt command, bits 31:0 (0x300) */
	uint32_t icr_high;         /**< interrupt command, bits 63:32 (0x310) */
	uint32_t lvt[LVT_COUNT];   /**< the local vector table */
	uint32_t irr[8];           /**< interrupt requests, 256 bits (0x200-0x270) */
	uint32_t isr[8];           /**< in service (0x100-0x170) */
	uint32_t tmr[8];           /**< trigger mode of the accepted requests (0x180-0x1f0): all edge here */
	uint32_t timer_initial;    /**< initial count (0x380) */
	uint32_t timer_divide;     /**< divide configuration (0x3e0), bits 0, 1, 3 */
	uint64_t timer_start;      /**< host TSC when the count was loaded (or last reloaded, periodic) */
	uint64_t timer_due;        /**< host TSC at which it fires next; 0 if not counting */
	uint64_t tsc_deadline;     /**< IA32_TSC_DEADLINE (MSR 0x6e0), in the guest's TSC; 0 disarmed */
	bool nmi_pending;          /**< an NMI (ICR, LINT1) waits for delivery */
	uint64_t timer_interrupts; /**< timer interrupts raised (for counters and benchmarks) */
	uint64_t eois;             /**< EOIs written */
};

/** Where the interrupt a vCPU takes next comes from. */
enum vcpu_interrupt_source {
	INTERRUPT_NONE,    /**< nothing pending */
	INTERRUPT_LAPIC,   /**< a fixed interrupt the local APIC accepted (IRR) */
	INTERRUPT_PIC,     /**< the 8259, through LINT0 (or straight, APIC disabled) */
	INTERRUPT_XEN_UPCALL /**< Xen's callback vector: an event channel is pending (event_channel.h) */
};

/** Power-up state, with LINT0 in ExtINT mode and LINT1 NMI, as a PC's BIOS leaves the BSP. */
void vlapic_reset(struct vcpu *vcpu);
/** True if guest-physical @p gpa is in @p vcpu's xAPIC register page (xAPIC mode only). */
bool vlapic_mmio_claims(const struct vcpu *vcpu, uint64_t gpa);
/** A load of @p size bytes from the register page at offset @p offset. */
uint64_t vlapic_mmio_read(struct vcpu *vcpu, uint64_t offset, unsigned size);
/** A store of @p size bytes to the register page at offset @p offset. */
void vlapic_mmio_write(struct vcpu *vcpu, uint64_t offset, unsigned size, uint64_t value);
/**
 * RDMSR/WRMSR of IA32_APIC_BASE, IA32_TSC_DEADLINE or an x2APIC register
 * (0x800-0x8ff). Returns false if the access is \#GP (the caller raises it);
 * *@p value is read or written. Not an APIC MSR: false too.
 */
bool vlapic_msr(struct vcpu *vcpu, uint32_t msr, bool write, uint64_t *value);
/** True if @p msr is one vlapic_msr() answers. */
bool vlapic_is_msr(uint32_t msr);
/** CR8 as the guest reads it: TPR bits 7:4 (SDM Vol. 3A §11.8.6.1). */
uint64_t vlapic_cr8(const struct vcpu *vcpu);
/** MOV to CR8: TPR = value << 4. */
void vlapic_set_cr8(struct vcpu *vcpu, uint64_t value);
/** Request @p vector from the vCPU's own sources (timer, LVTs, self-IPI): IRR, or ESR's illegal-vector bit. */
void vlapic_accept(struct vcpu *vcpu, unsigned vector);
/**
 * The interrupt @p vcpu would take if its IF allowed: the highest-priority
 * request above its PPR, the 8259's through LINT0, or Xen's event-channel upcall.
 * Returns the vector and sets *@p source; -1 and #INTERRUPT_NONE if none.
 */
int vcpu_pending_interrupt(struct vcpu *vcpu, enum vcpu_interrupt_source *source);
/** The CPU takes that interrupt: IRR -> ISR, or the PIC's acknowledge cycle. */
void vcpu_acknowledge_interrupt(struct vcpu *vcpu, enum vcpu_interrupt_source source, int vector);
/** True if an NMI waits; clears it (the backend injects it). */
bool vlapic_take_nmi(struct vcpu *vcpu);

/** Bring the timer up to now: if it expired, raise its interrupt (and reload, periodic). */
void vlapic_timer_update(struct vcpu *vcpu);
/** Host TSC at which the vCPU's timer fires next (0: not armed or masked). */
uint64_t vlapic_timer_next(const struct vcpu *vcpu);
/** Current count (0x390), from the time since the count was loaded. */
uint32_t vlapic_timer_current(struct vcpu *vcpu);
/** A write to the initial count (0x380): start counting (or stop, 0). */
void vlapic_timer_set_initial(struct vcpu *vcpu, uint32_t count);
/** A write to the divide configuration (0x3e0). */
void vlapic_timer_set_divide(struct vcpu *vcpu, uint32_t value);
/** A write to LVT timer: the mode may change (one-shot, periodic, TSC-deadline). */
void vlapic_timer_set_lvt(struct vcpu *vcpu, uint32_t value);
/** WRMSR IA32_TSC_DEADLINE (guest TSC; 0 disarms). */
void vlapic_timer_set_deadline(struct vcpu *vcpu, uint64_t deadline);

#endif
