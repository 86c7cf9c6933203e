/*
 * user.c — user mode for test guests: a TSS, user segments, and the way
 * in (user_run: IRETQ to CPL 3) and out (user_return, from a handler).
 *
 * See guests/include/user.h. The 64-bit TSS (SDM Vol. 3A §8.7, Figure
 * 8-11) holds no task state in long mode, only stack pointers: RSP0 is where
 * the CPU switches when an exception or interrupt takes user mode to CPL 0
 * (§6.14.2), the IST slots are unused here. user_enter (user_entry.S) sets
 * RSP0 to its own stack just below the registers it saved, so a handler
 * runs right below the kernel code that called user_run() and
 * user_return() only has to put that stack pointer back.
 */
#include "guest.h"
#include "internal.h"
#include "user.h"
#include "x86.h"

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];      /* RSP0-RSP2 */
	uint64_t reserved1;
	uint64_t ist[7];      /* IST1-IST7 */
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;  /* past the limit: no I/O permission bitmap, every port faults at CPL 3 */
} __attribute__((packed));

/* Read by user_entry.S. */
struct tss64 user_tss __attribute__((aligned(16)));
uint64_t user_kernel_rsp; /* the kernel's stack pointer inside user_enter (0: not in user_run) */

uint64_t user_enter(uint64_t rip, uint64_t rsp, uint64_t arg);
GUEST_NORETURN void user_leave(uint64_t value);

static bool initialised;

void user_init(void)
{
	if (initialised)
		return;
	initialised = true;
	user_tss.iomap_base = sizeof(user_tss);
	arch_enable_user_mode((uint64_t)(uintptr_t)&user_tss, sizeof(user_tss) - 1);
	__asm__ volatile("ltr %w0" : : "r"((uint16_t)USER_TSS_SELECTOR) : "memory");
}

void user_open_gate(unsigned vector)
{
	arch_set_gate_dpl(vector, 3);
}

uint64_t user_run(uint64_t rip, uint64_t rsp, uint64_t arg)
{
	if (!initialised)
		guest_error("user_run() before user_init()");
	if (user_kernel_rsp)
		guest_error("user_run() inside user_run()");
	unsigned long flags = guest_irq_save();
	uint64_t value = user_enter(rip, rsp, arg);
	user_kernel_rsp = 0;
	guest_irq_restore(flags);
	return value;
}

void user_return(uint64_t value)
{
	if (!user_kernel_rsp)
		guest_error("user_return() outside user_run()");
	user_leave(value);
}
