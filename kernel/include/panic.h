/**
 * @file panic.h
 * @brief Stopping the machine: panic() for the hypervisor's own bugs, and
 *        the orderly end of a run.
 */
#ifndef HYPATIA_PANIC_H
#define HYPATIA_PANIC_H

#include "exitcode.h"
#include "types.h"

/**
 * Report a bug in the hypervisor and stop: prints the message, a backtrace
 * from the caller, and ends the run with #EXIT_PANIC_CODE. Guests never cause
 * a panic; a guest's fault ends only that guest.
 */
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

/**
 * End the run: prints `[hv] exit: <name>` (the line Bochs runs are graded by),
 * then writes @p code to the isa-debug-exit port (QEMU) and "Shutdown" to port
 * 0x8900 (Bochs), then halts forever in case neither device exists.
 */
NORETURN void machine_exit(enum exit_code code);

/** Check an invariant of the hypervisor itself; panics with the location if false. */
#define ASSERT(cond)                                                                   \
	do {                                                                           \
		if (!(cond))                                                           \
			panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

#endif
