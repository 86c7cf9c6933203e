/**
 * @file platform.h
 * @brief What the guest runtime needs from the world it runs in.
 *
 * One implementation per build, each in a single file:
 * - guests/native/platform.c: bare metal (QEMU, Bochs, or Hypatia running the
 *   multiboot build under SVM/VMX): a real 16550 UART and the debug-exit port;
 * - guests/image/platform.c: a Hypatia guest image; for now the same port I/O,
 *   which the hypervisor traps and emulates (lab 1). A paravirtual image will
 *   implement these with hypercalls instead.
 * Tests never call these directly; guests/lib/ does.
 */
#ifndef GUEST_PLATFORM_H
#define GUEST_PLATFORM_H

#include "guest.h"

/** Short name of the build, printed by some tests ("native", "image"). */
const char *platform_name(void);

/** Write one character to the console. "\n" ends a line (no "\r" is added). */
void platform_putc(char c);

/**
 * End the run: tell the machine's exit device @p code, then stop this CPU
 * for good. Called after the final line was printed.
 */
GUEST_NORETURN void platform_exit(enum guest_exit_code code);

/**
 * Entry into the runtime, called once by the platform's start code with the
 * command line (any memory; it is copied before anything else runs).
 * Runs guest_main().
 */
GUEST_NORETURN void guest_start(const char *cmdline);

#endif
