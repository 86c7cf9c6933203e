/*
 * platform.c — the paravirtualized platform: a guest that knows it runs on
 * Hypatia and asks instead of trapping (docs/hypercalls.md).
 *
 * The `image` build pokes devices and flips IF with privileged instructions
 * and relies on each one trapping; this build changes the guest instead
 * (Xen's paravirtualization, 2003; Linux's pv_ops are the same idea behind
 * one interface):
 * - console: a whole line per console_write hypercall, not a trapped OUT
 *   per character;
 * - exit: the shutdown hypercall;
 * - the interrupt flag: the shared-info page's irq_mask, an ordinary memory
 *   write that cannot trap, so it cannot be silently ignored as POPF is at
 *   CPL 3. After unmasking, the guest checks irq_pending and asks for the
 *   waiting interrupt with event_check (Xen: evtchn_upcall_mask and
 *   evtchn_upcall_pending).
 * The hypervisor also honours CLI/STI/HLT on this mask, so code that still
 * uses them (a test on purpose) sees one consistent virtual IF.
 */
#include "guest.h"
#include "hypercall.h"
#include "platform.h"
#include "x86.h"

#define DEBUG_EXIT_PORT 0xf4
#define LINE_MAX 256

/* A whole page: the hypervisor owns all of it once it is registered. */
static union {
	struct guest_shared_info info;
	char page[4096];
} shared_page __attribute__((aligned(4096)));
#define shared (shared_page.info)

static char line[LINE_MAX];
static size_t line_length;

/* Accesses to the shared page must happen exactly where the code says:
 * the hypervisor reads and writes it between any two instructions. */
#define SHARED(field) (*(volatile __typeof__(shared.field) *)&shared.field)

const char *platform_name(void)
{
	return "pv";
}

static void flush_line(void)
{
	if (line_length)
		hypercall2(HYPERCALL_CONSOLE_WRITE, (uint64_t)(uintptr_t)line, line_length);
	line_length = 0;
}

void platform_init(void)
{
	/* Virtual IF is 0 at entry; registering the page makes irq_mask = 1
	 * say so. Nothing can be printed on failure except through the
	 * console hypercall itself, so do that and stop. */
	if (hypercall1(HYPERCALL_SHARED_INFO, (uint64_t)(uintptr_t)&shared) != 0) {
		static const char message[] = "RESULT: ERROR the shared_info hypercall failed\n";
		hypercall2(HYPERCALL_CONSOLE_WRITE, (uint64_t)(uintptr_t)message, sizeof(message) - 1);
		platform_exit(GUEST_EXIT_ERROR);
	}
}

void platform_putc(char c)
{
	line[line_length++] = c;
	if (c == '\n' || line_length == sizeof(line))
		flush_line();
}

GUEST_NORETURN void platform_exit(enum guest_exit_code code)
{
	flush_line();
	hypercall1(HYPERCALL_SHUTDOWN, code);
	/* Not reached on Hypatia. Anywhere else, try the debug-exit port. */
	for (;;)
		outl(DEBUG_EXIT_PORT, code);
}

void *platform_shared_info(void)
{
	return &shared;
}

void platform_irq_disable(void)
{
	SHARED(irq_mask) = 1;
	__asm__ volatile("" ::: "memory");
}

void platform_irq_enable(void)
{
	__asm__ volatile("" ::: "memory");
	SHARED(irq_mask) = 0;
	/* An interrupt that arrived while masked waits: ask for it now. */
	if (SHARED(irq_pending))
		hypercall0(HYPERCALL_EVENT_CHECK);
}

bool platform_irqs_enabled(void)
{
	return !SHARED(irq_mask);
}

/* The same bit as RFLAGS.IF, so a saved state reads the same everywhere. */
unsigned long platform_irq_save(void)
{
	unsigned long flags = SHARED(irq_mask) ? 0 : X86_RFLAGS_IF;
	platform_irq_disable();
	return flags;
}

void platform_irq_restore(unsigned long flags)
{
	if (flags & X86_RFLAGS_IF)
		platform_irq_enable();
	else
		platform_irq_disable();
}

void platform_wait_for_interrupt(void)
{
	/* Unmask; a pending interrupt is delivered by event_check at once.
	 * Otherwise HLT: it traps, and the hypervisor blocks the vCPU until
	 * the next virtual interrupt (it reads the mask we just cleared). */
	__asm__ volatile("" ::: "memory");
	SHARED(irq_mask) = 0;
	if (SHARED(irq_pending))
		hypercall0(HYPERCALL_EVENT_CHECK);
	else
		hlt();
}
