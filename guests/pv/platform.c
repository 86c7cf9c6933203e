/*
 * platform.c — the paravirtualized platform: a guest that knows it runs on
 * Hypatia and asks instead of trapping (docs/hypercalls.md).
 *
 * The `image` build pokes devices and flips IF with privileged instructions
 * and relies on each one trapping; this build changes the guest instead
 * (Xen's paravirtualization, 2003; Linux's pv_ops are the same idea behind
 * one interface):
 * - console: a whole line per console_io(CONSOLEIO_write) hypercall, not a
 *   trapped OUT per character;
 * - exit: sched_op(SCHEDOP_shutdown) with the exit code as the reason
 *   (docs/exit-codes.md);
 * - the interrupt flag: vcpu_info[0].evtchn_upcall_mask in Xen's
 *   shared-info page, an ordinary memory write that cannot trap, so it
 *   cannot be silently ignored as POPF is at CPL 3. After unmasking, the
 *   guest checks evtchn_upcall_pending and, if set, makes a hypercall that
 *   does nothing (xen_version, as Linux does) so the hypervisor delivers
 *   what waits on its way back;
 * - waiting: sched_op(SCHEDOP_block), which unmasks and sleeps.
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
	struct shared_info info;
	char page[4096];
} shared_page __attribute__((aligned(4096)));
#define shared (shared_page.info.vcpu_info[0])

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
		xen_console_write(line, line_length);
	line_length = 0;
}

void platform_init(void)
{
	/* Virtual IF is 0 at entry; registering the page makes
	 * evtchn_upcall_mask = 1 say so. Nothing can be printed on failure
	 * except through the console hypercall itself, so do that and stop. */
	if (xen_map_shared_info(&shared_page) != 0) {
		static const char message[] = "RESULT: ERROR mapping the shared-info page failed\n";
		xen_console_write(message, sizeof(message) - 1);
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
	xen_shutdown(code);
	/* Not reached on Hypatia. Anywhere else, try the debug-exit port. */
	for (;;)
		outl(DEBUG_EXIT_PORT, code);
}

void *platform_shared_info(void)
{
	return &shared_page.info;
}

void platform_irq_disable(void)
{
	SHARED(evtchn_upcall_mask) = 1;
	__asm__ volatile("" ::: "memory");
}

/* Something waits (an event, or the emulated PIC's interrupt): any
 * hypercall makes the hypervisor deliver it before returning. */
static void take_pending(void)
{
	xen_version(XENVER_version, NULL);
}

void platform_irq_enable(void)
{
	__asm__ volatile("" ::: "memory");
	SHARED(evtchn_upcall_mask) = 0;
	if (SHARED(evtchn_upcall_pending))
		take_pending();
}

bool platform_irqs_enabled(void)
{
	return !SHARED(evtchn_upcall_mask);
}

/* The same bit as RFLAGS.IF, so a saved state reads the same everywhere. */
unsigned long platform_irq_save(void)
{
	unsigned long flags = SHARED(evtchn_upcall_mask) ? 0 : X86_RFLAGS_IF;
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
	/* SCHEDOP_block unmasks and sleeps until the next virtual interrupt;
	 * one that already waits is delivered at once, on the way back. */
	__asm__ volatile("" ::: "memory");
	xen_sched_op(SCHEDOP_block, NULL);
}
