/*
 * main.c — from the boot code to a running hypervisor.
 *
 * kmain() brings the machine up in dependency order: a console first (so
 * everything after can report trouble), then this CPU's descriptor tables
 * (so faults get a dump instead of a triple fault), then memory, then
 * interrupts. It ends the run with a documented exit code (exitcode.h).
 */
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "mm.h"
#include "multiboot.h"
#include "panic.h"
#include "percpu.h"
#include "selftest.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"
#include "xstate.h"

#ifndef HYPATIA_VERSION
#define HYPATIA_VERSION "unknown"
#endif
#ifndef HYPATIA_BUILD
#define HYPATIA_BUILD "unknown"
#endif

extern uint64_t boot_pml4[512];

/* The boot code identity-mapped the first 4 GiB so that it could turn paging
 * on; from now on the lower half belongs to guests, so remove it. */
static void drop_identity_map(void)
{
	boot_pml4[0] = 0;
	write_cr3(read_cr3());
}

static void print_banner(const struct multiboot_info *mbi)
{
	kprintf("\nHypatia %s - an educational x86-64 hypervisor (build: %s)\n", HYPATIA_VERSION, HYPATIA_BUILD);
	cpu_print();
	kprintf("cmdline: \"%s\"\n", multiboot_cmdline(mbi));
	if (mbi->flags & MULTIBOOT_INFO_LOADER_NAME)
		kprintf("boot loader: %s\n", (const char *)phys_to_virt(mbi->boot_loader_name));
	multiboot_print_memory_map(mbi);
}

NORETURN void kmain(uint32_t magic, uint32_t mbi_phys)
{
	console_init();
	percpu_init(&boot_cpu, 0);
	idt_init();
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
		kprintf("[hv] error: not started by a multiboot loader (EAX=0x%x, expected 0x%x)\n", magic,
			MULTIBOOT_BOOTLOADER_MAGIC);
		machine_exit(EXIT_ERROR_CODE);
	}
	boot_info = phys_to_virt(mbi_phys);
	cpu_detect();
	xstate_init();
	print_banner(boot_info);
	cmdline_init(multiboot_cmdline(boot_info));

	frame_init(boot_info);
	drop_identity_map();
	heap_init();
	kprintf("memory: %lu MiB usable, %lu frames free of %lu\n", frame_total_count() * PAGE_SIZE >> 20,
		frame_free_count(), frame_total_count());
	multiboot_print_modules(boot_info);

	timer_init();
	sti();
	kprintf("[hv] boot complete: timer at %d Hz\n", TIMER_HZ);

	selftest_fault();
	bool passed = selftest_run();

	domains_run_all();

	if (cmdline_get("halt")) {
		kprintf("[hv] halt: idling with the timer running (halt= option)\n");
		for (;;)
			sti_hlt();
	}
	machine_exit(passed ? EXIT_SUCCESS_CODE : EXIT_FAILURE_CODE);
}
