/*
 * panic.c — ending a run, in order or in trouble.
 */
#include "console.h"
#include "panic.h"
#include "stacktrace.h"
#include "x86.h"

static const char *exit_code_name(enum exit_code code)
{
	switch (code) {
	case EXIT_SUCCESS_CODE: return "success";
	case EXIT_FAILURE_CODE: return "failure";
	case EXIT_PANIC_CODE: return "panic";
	case EXIT_ERROR_CODE: return "error";
	}
	return "unknown";
}

NORETURN void machine_exit(enum exit_code code)
{
	cli();
	kprintf("[hv] exit: %s (code 0x%x)\n", exit_code_name(code), code);
	console_flush();
	/* QEMU: isa-debug-exit ends the process with status (code << 1) | 1. */
	outl(DEBUG_EXIT_PORT, code);
	/* Bochs: the string "Shutdown" on port 0x8900 ends the simulation. */
	for (const char *s = "Shutdown"; *s; s++)
		outw(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
	for (;;)
		hlt();
}

NORETURN void panic(const char *fmt, ...)
{
	static bool panicking;
	cli();
	kprintf("\n[hv] PANIC: ");
	va_list ap;
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	/* A panic while printing the backtrace must not recurse forever. */
	if (!panicking) {
		panicking = true;
		backtrace_print(0, read_rbp());
	}
	machine_exit(EXIT_PANIC_CODE);
}
