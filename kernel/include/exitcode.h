/**
 * @file exitcode.h
 * @brief How a run of the hypervisor (or a native test guest) ends.
 *
 * The value is written to QEMU's isa-debug-exit device (port 0xf4), which
 * makes QEMU exit with status `(value << 1) | 1`. A triple fault under
 * `-no-reboot` makes QEMU exit with status 0, so no code below maps to 0 and
 * the grader never reads status 0 as success. Bochs has no such device: a run
 * there ends through the shutdown port 0x8900 and the grader reads the final
 * `[hv] exit:` line from the serial log instead. docs/exit-codes.md is the one
 * table of these meanings; keep the two in step.
 */
#ifndef HYPATIA_EXITCODE_H
#define HYPATIA_EXITCODE_H

/** Port of QEMU's isa-debug-exit device (`-device isa-debug-exit,iobase=0xf4`). */
#define DEBUG_EXIT_PORT 0xf4
/** Bochs' shutdown port: writing the bytes of "Shutdown" ends the simulation. */
#define BOCHS_SHUTDOWN_PORT 0x8900

/** Why a run ends. */
enum exit_code {
	EXIT_SUCCESS_CODE = 0x10, /**< everything asked for ran and passed (QEMU status 33) */
	EXIT_FAILURE_CODE = 0x11, /**< a test ran and found a wrong result (QEMU status 35) */
	EXIT_PANIC_CODE = 0x12,   /**< the hypervisor (or native guest) crashed (QEMU status 37) */
	EXIT_ERROR_CODE = 0x13,   /**< the test could not run: bad setup or input (QEMU status 39) */
};

#endif
