/*
 * fault.c — deliberate faults in the hypervisor (`fault=`), so students can
 * read the dump an exception produces and the grader can check it.
 *
 * The faulting addresses depend on the nonce, so a correct dump cannot be
 * remembered from an earlier run.
 */
#include "cmdline.h"
#include "console.h"
#include "selftest.h"
#include "string.h"

/* A lower-half address: unmapped, because the lower half belongs to guests. */
__attribute__((noinline)) static void fault_page_fault(void)
{
	volatile uint64_t *p = (volatile uint64_t *)(0x40000000ull + ((boot_nonce & 0xfffff) << 12) + 8);
	kprintf("fault: writing to %p\n", (void *)p);
	*p = boot_nonce;
}

__attribute__((noinline)) static void fault_invalid_opcode(void)
{
	kprintf("fault: executing ud2\n");
	__asm__ volatile("ud2");
}

/* A non-canonical address (bits 63:47 not all equal) raises #GP, not #PF
 * (SDM Vol. 3A §3.3.7.1). */
__attribute__((noinline)) static void fault_general_protection(void)
{
	volatile uint64_t *p = (volatile uint64_t *)(0x8000000000000000ull | (boot_nonce & 0xffff0));
	kprintf("fault: reading non-canonical %p\n", (void *)p);
	(void)*p;
}

/* Point RSP at an unmapped page and push: the #PF this raises cannot push
 * its own frame on that stack either, and a fault while delivering a #PF
 * becomes a double fault (SDM Vol. 3A §6.15, Table 6-5). The IDT sends #DF
 * to its own IST stack, so the handler still runs and prints the dump. */
__attribute__((noinline)) static void fault_double_fault(void)
{
	kprintf("fault: page fault with an unmapped stack\n");
	__asm__ volatile("movq $0x1000, %%rsp\n\t"
			 "pushq $0" ::: "memory");
}

/* The three ways a kernel under test can misbehave that the grader must
 * survive: spin forever, print forever, and reset the machine. */
__attribute__((noinline)) static void fault_hang(void)
{
	kprintf("fault: hanging with interrupts off\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

__attribute__((noinline)) static void fault_flood(void)
{
	for (uint64_t i = 0;; i++)
		kprintf("fault: flooding the console, line %lu\n", i);
}

/* With an empty IDT, any exception cannot be delivered: #GP, then #DF, then
 * a shutdown — a triple fault, which resets the machine (SDM Vol. 3A §6.15). */
__attribute__((noinline)) static void fault_triple(void)
{
	kprintf("fault: loading an empty IDT and raising #BP\n");
	struct PACKED {
		uint16_t limit;
		uint64_t base;
	} empty = {0, 0};
	__asm__ volatile("lidt %0; int3" : : "m"(empty));
}

void selftest_fault(void)
{
	const char *which = cmdline_get("fault");
	if (!which)
		return;
	if (strcmp(which, "pf") == 0)
		fault_page_fault();
	else if (strcmp(which, "ud") == 0)
		fault_invalid_opcode();
	else if (strcmp(which, "gp") == 0)
		fault_general_protection();
	else if (strcmp(which, "df") == 0)
		fault_double_fault();
	else if (strcmp(which, "hang") == 0)
		fault_hang();
	else if (strcmp(which, "flood") == 0)
		fault_flood();
	else if (strcmp(which, "triple") == 0)
		fault_triple();
	kprintf("[hv] warning: fault=%s: unknown fault (known: pf, ud, gp, df, hang, flood, triple) or it did not fault\n",
		which);
}
