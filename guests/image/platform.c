/*
 * platform.c — the guest-image platform: a domain under Hypatia.
 *
 * For now it speaks the same port I/O as the native build, and the
 * hypervisor traps and emulates each OUT (lab 1: a deprivileged guest's
 * port access faults to the hypervisor, which emulates it). Two differences
 * from native, both to keep lab 1's first emulator small:
 * - the UART is not initialised and its status is not polled: only OUT to
 *   the data port 0x3f8 is needed to print (one exit per character);
 * - no PIC masking: a domain has no 8259 to mask.
 * The interrupt flag is the native one too: CLI and STI trap and the
 * hypervisor keeps a *virtual* IF; PUSHF and POPF do not trap — at CPL 3
 * POPF silently leaves IF alone and PUSHF shows the real IF, always 1. The
 * paravirtual build (guests/pv/platform.c) replaces all of this with
 * hypercalls and the shared-info page; nothing else in the runtime changes.
 */
#include "guest.h"
#include "platform.h"
#include "x86.h"

#define COM1_DATA 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

const char *platform_name(void)
{
	return "image";
}

void platform_init(void)
{
	/* Nothing to set up: the hypervisor emulates a UART that needs none. */
}

/* The interrupt flag: the real one (guests/lib/irq_flags.c), whose traps are the lesson. */

void platform_putc(char c)
{
	outb(COM1_DATA, (uint8_t)c);
}

GUEST_NORETURN void platform_exit(enum guest_exit_code code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (const char *p = "Shutdown"; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	/* cli/hlt are privileged: at CPL 3 each traps to the hypervisor,
	 * which should by now have ended the domain anyway. */
	for (;;) {
		cli();
		hlt();
	}
}
