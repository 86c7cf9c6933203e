/*
 * percpu.c — per-CPU data through the GS base.
 */
#include "percpu.h"
#include "x86.h"

struct percpu boot_cpu __attribute__((aligned(4096)));

void percpu_init(struct percpu *cpu, unsigned id)
{
	cpu->self = cpu;
	cpu->cpu_id = id;
	cpu->current_vcpu = NULL;
	gdt_init(cpu);
	/* Loading GS (in gdt_init's segment reloads or anywhere else) clears the
	 * base in some CPUs' implementations; write the MSR last. */
	wrmsr(MSR_GS_BASE, (uint64_t)cpu);
}
