/*
 * backtrace.c — printing a backtrace from the frames stacktrace_walk() finds.
 *
 * Walking the frames is lab 0's exercise (stacktrace.c); turning return
 * addresses into "function+offset" lines is given here.
 */
#include "console.h"
#include "ksyms.h"
#include "memlayout.h"
#include "percpu.h"
#include "stacktrace.h"

extern char boot_stack_bottom[], boot_stack_top[];

static bool range_inside(uint64_t addr, size_t size, const void *lo, const void *hi)
{
	return addr >= (uint64_t)lo && addr + size <= (uint64_t)hi && addr + size >= addr;
}

bool stack_contains(uint64_t addr, size_t size)
{
	struct percpu *cpu = &boot_cpu;
	return range_inside(addr, size, boot_stack_bottom, boot_stack_top) ||
	       range_inside(addr, size, cpu->double_fault_stack,
			    cpu->double_fault_stack + sizeof(cpu->double_fault_stack)) ||
	       range_inside(addr, size, cpu->guest_trap_stack, cpu->guest_trap_stack + sizeof(cpu->guest_trap_stack));
}

#define BACKTRACE_MAX 32

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	uint64_t frames[BACKTRACE_MAX];
	char where[96];
	int n = stacktrace_walk(rbp, frames, BACKTRACE_MAX);
	int index = 0;

	kprintf("[hv] backtrace:\n");
	if (rip) {
		ksym_format(rip, where, sizeof(where));
		kprintf("  #%d %016lx %s\n", index++, rip, where);
	}
	for (int i = 0; i < n; i++) {
		/* A return address points after the call; look up the call itself
		 * (address - 1) so a call that ends a function names that function. */
		ksym_format(frames[i] - 1, where, sizeof(where));
		kprintf("  #%d %016lx %s\n", index++, frames[i], where);
	}
	if (n == 0)
		kprintf("  (no frames: stacktrace_walk() found none)\n");
}
