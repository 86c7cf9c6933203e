/*
 * stacktrace.c — LAB 0 student file: walk the frame-pointer chain.
 *
 * This file holds only the function you write. See labs/lab0/README.md,
 * "Exercise: the backtrace".
 */
#include "console.h"
#include "stacktrace.h"

/*
 * LAB 0: fill return_addresses[] with the return address of each frame,
 * innermost first, starting from the frame whose frame pointer is rbp, and
 * return how many you stored (at most max).
 *
 * Each frame looks like this (the stack grows down):
 *
 *         | return address   |  <- rbp + 8   (where the caller resumes)
 *         | caller's rbp     |  <- rbp       (the next frame to visit)
 *
 * Stop at a zero rbp (the boot code sets rbp = 0 before calling kmain), and
 * never follow a frame pointer that does not lie inside a hypervisor stack:
 * use stack_contains(rbp, 16). A backtrace must not fault while the kernel is
 * already panicking.
 *
 * Hint: treat rbp as a pointer to two uint64_t words.
 * See: Intel SDM Vol. 1 §6.5 "Procedure calls", System V x86-64 ABI §3.2.2.
 */
int stacktrace_walk(uint64_t rbp, uint64_t *return_addresses, int max)
{
	(void)rbp;
	(void)return_addresses;
	(void)max;
	kprintf("LAB 0: stacktrace_walk() is not implemented (labs/lab0/README.md, exercise 1)\n");
	return 0;
}
