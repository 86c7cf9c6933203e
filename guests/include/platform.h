/**
 * @file platform.h
 * @brief What the guest runtime needs from the world it runs in.
 *
 * One implementation per build, each in a single file:
 * - guests/native/platform.c: bare metal (QEMU, Bochs, or Hypatia running the
 *   multiboot build under SVM/VMX): a real 16550 UART and the debug-exit port;
 * - guests/image/platform.c: a Hypatia guest image run deprivileged: the same
 *   port I/O and CLI/STI, which the hypervisor traps and emulates (lab 1);
 * - guests/pv/platform.c: a *paravirtualized* image: hypercalls for the
 *   console and the exit, the shared-info page for the interrupt flag
 *   (docs/hypercalls.md) — Linux's pv_ops idea on a small scale.
 * Tests never call these directly; guests/lib/ does (guest_irq_*()).
 */
#ifndef GUEST_PLATFORM_H
#define GUEST_PLATFORM_H

#include "guest.h"

/** Short name of the build: "native", "image" or "pv". */
const char *platform_name(void);

/**
 * Prepare the platform (UART, exit device, shared-info page). Called by the
 * build's start code before guest_start(); the arch layer (GDT, IDT) is not
 * loaded yet, so this must not fault.
 */
void platform_init(void);

/** Write one character to the console. "\n" ends a line (no "\r" is added). */
void platform_putc(char c);

/**
 * End the run: tell the machine's exit device @p code, then stop this CPU
 * for good. Called after the final line was printed.
 */
GUEST_NORETURN void platform_exit(enum guest_exit_code code);

/** @name The interrupt flag (Linux's arch_local_irq_* and pv_ops irq ops)
 * native and image: CLI, STI, PUSHF, POPF; pv: the shared-info irq_mask.
 * @{ */
void platform_irq_disable(void);
void platform_irq_enable(void);
/** Disable and return the previous state, for platform_irq_restore(). */
unsigned long platform_irq_save(void);
void platform_irq_restore(unsigned long flags);
/** Whether interrupts are enabled, as this platform can tell. */
bool platform_irqs_enabled(void);
/** Enable interrupts and wait until one has been handled (STI; HLT). */
void platform_wait_for_interrupt(void);
/** @} */

/** The shared-info page (pv), or NULL on platforms without one. */
void *platform_shared_info(void);

/**
 * Load the runtime's own GDT and IDT (guests/lib/arch.c). Called by
 * guest_start(), and earlier by start code that wants exceptions caught
 * sooner; the second call does nothing.
 */
void arch_init(void);

/**
 * Entry into the runtime, called once by the platform's start code with the
 * command line (any memory; it is copied before anything else runs).
 * Loads the arch layer, then runs guest_main().
 */
GUEST_NORETURN void guest_start(const char *cmdline);

#endif
