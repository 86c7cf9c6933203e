/**
 * @file percpu.h
 * @brief Data each physical CPU owns, reached through the GS segment base.
 *
 * There is one CPU today, but everything that must differ per CPU lives here
 * from the start (its GDT, TSS, stacks, the vCPU it runs), so SMP later means
 * allocating more of these, not finding globals. Like Linux and Xen, the
 * structure's address is in MSR_GS_BASE and `this_cpu()` reads %gs:0.
 */
#ifndef HYPATIA_PERCPU_H
#define HYPATIA_PERCPU_H

#include "gdt.h"
#include "memlayout.h"
#include "types.h"

struct vcpu;

/** Per-CPU state. The first field must be the self pointer (read as %gs:0). */
struct percpu {
	struct percpu *self;       /**< this structure's own address */
	unsigned cpu_id;           /**< 0 for the boot CPU */
	uint64_t gdt[8];           /**< this CPU's GDT (selectors in gdt.h) */
	struct tss tss;            /**< this CPU's TSS */
	struct vcpu *current_vcpu; /**< the guest vCPU running on this CPU, or NULL */
	uint8_t double_fault_stack[4096] __attribute__((aligned(16))); /**< IST1 */
	/** Where the CPU switches to (TSS.RSP0) when a PV guest at CPL 3 traps. */
	uint8_t guest_trap_stack[8192] __attribute__((aligned(16)));
};

/** The boot CPU's data. */
extern struct percpu boot_cpu;

/** Point GS base at @p cpu and build its GDT/TSS. */
void percpu_init(struct percpu *cpu, unsigned id);

/** The calling CPU's data. */
static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

#endif
