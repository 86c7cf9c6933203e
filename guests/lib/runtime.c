/*
 * runtime.c — how a guest run starts and ends.
 *
 * guest_start() is the one door from a platform's start code into the test;
 * guest_result() and guest_exit() are the doors out. Every run prints
 * exactly one `RESULT:` line as its last line (the grader relies on it) and
 * then writes an exit code (guest.h, enum guest_exit_code) through the
 * platform.
 */
#include "guest.h"
#include "internal.h"
#include "platform.h"

static bool result_printed;

GUEST_NORETURN void guest_start(const char *cmdline)
{
	cmdline_set(cmdline);
	arch_init();
	guest_main();
	guest_error("guest_main() returned without reporting a result");
}

const char *guest_platform(void)
{
	return platform_name();
}

/* The interrupt flag: whatever this build's platform uses for it. */
void guest_irq_disable(void) { platform_irq_disable(); }
void guest_irq_enable(void) { platform_irq_enable(); }
unsigned long guest_irq_save(void) { return platform_irq_save(); }
void guest_irq_restore(unsigned long flags) { platform_irq_restore(flags); }
bool guest_irqs_enabled(void) { return platform_irqs_enabled(); }
void guest_wait_for_interrupt(void) { platform_wait_for_interrupt(); }
void *guest_shared_info(void) { return platform_shared_info(); }

GUEST_NORETURN void guest_exit(enum guest_exit_code code)
{
	platform_exit(code);
}

GUEST_NORETURN void guest_result(enum result r, const char *fmt, ...)
{
	static const char *const words[] = {
		[RESULT_PASS] = "PASS",
		[RESULT_FAIL] = "FAIL",
		[RESULT_ERROR] = "ERROR",
		[RESULT_SKIP] = "SKIP",
	};
	static const enum guest_exit_code codes[] = {
		[RESULT_PASS] = GUEST_EXIT_SUCCESS,
		[RESULT_FAIL] = GUEST_EXIT_FAILURE,
		[RESULT_ERROR] = GUEST_EXIT_ERROR,
		[RESULT_SKIP] = GUEST_EXIT_SUCCESS,
	};

	/*
	 * A second result (say, a reason that calls guest_nonce(), which
	 * reports an error itself) would break "exactly one result line":
	 * end at once, as a crash, with the first line already out.
	 */
	if (result_printed)
		guest_exit(GUEST_EXIT_PANIC);
	result_printed = true;
	if ((unsigned)r >= ARRAY_SIZE(words)) {
		gstart_line();
		gprintf("RESULT: ERROR guest_result() called with unknown result %d\n", (int)r);
		guest_exit(GUEST_EXIT_ERROR);
	}

	gstart_line();
	gprintf("RESULT: %s", words[r]);
	if (r != RESULT_PASS) {
		gputc(' ');
		if (fmt && *fmt) {
			va_list ap;
			va_start(ap, fmt);
			gvprintf(fmt, ap);
			va_end(ap);
		} else {
			gputs("(no reason given)");
		}
	}
	gputc('\n');
	guest_exit(codes[r]);
}
