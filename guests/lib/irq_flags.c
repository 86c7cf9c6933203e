/*
 * irq_flags.c — the interrupt flag through the real instructions: CLI, STI,
 * PUSHF/POPF (which carry IF at CPL 0: SDM Vol. 2B "POPF", IF changes only
 * if CPL <= IOPL).
 *
 * The native and image builds use these; under trap-and-emulate (image)
 * CLI/STI trap and are emulated, and POPF silently keeps IF — lab 1's
 * lesson. They are weak: the pv build's platform (guests/pv/platform.c)
 * defines its own, on the shared-info page, and its definitions win.
 */
#include "platform.h"
#include "x86.h"

#define WEAK __attribute__((weak))

WEAK void platform_irq_disable(void) { cli(); }
WEAK void platform_irq_enable(void) { sti(); }
WEAK bool platform_irqs_enabled(void) { return read_flags() & X86_RFLAGS_IF; }
WEAK void platform_wait_for_interrupt(void) { sti_hlt(); }
WEAK void *platform_shared_info(void) { return NULL; }

WEAK unsigned long platform_irq_save(void)
{
	unsigned long flags = read_flags();
	cli();
	return flags;
}

WEAK void platform_irq_restore(unsigned long flags)
{
	write_flags(flags);
}
