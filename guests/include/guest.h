/**
 * @file guest.h
 * @brief The guest runtime: everything a test guest may call.
 *
 * A test guest (guests/tests/NAME.c) defines guest_main() and uses only this
 * header (plus x86.h when it tests instructions on purpose). The same object
 * file is linked into a native multiboot kernel and into a Hypatia guest
 * image, so nothing here may depend on which one it is: the difference lives
 * behind platform.h.
 *
 * Every run ends with exactly one result line, in the style of the Xen Test
 * Framework (XTF):
 *
 *     RESULT: PASS
 *     RESULT: FAIL <reason>    the code under test is wrong
 *     RESULT: ERROR <reason>   the test could not run (bad environment)
 *     RESULT: SKIP <reason>    the test does not apply here
 *
 * and with an exit code written to QEMU's isa-debug-exit port (see
 * enum guest_exit_code and docs/guests.md).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Function never returns. */
#define GUEST_NORETURN __attribute__((noreturn))
/** printf-style format checking. */
#define GUEST_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
/** Number of elements of a static array. */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/**
 * Codes written to port 0xf4 (QEMU's isa-debug-exit); QEMU then exits with
 * status (code << 1) | 1. The same values as the hypervisor's
 * kernel/include/exitcode.h.
 */
enum guest_exit_code {
	GUEST_EXIT_SUCCESS = 0x10, /**< PASS or SKIP (QEMU status 33) */
	GUEST_EXIT_FAILURE = 0x11, /**< FAIL (QEMU status 35) */
	GUEST_EXIT_PANIC = 0x12,   /**< unexpected exception: a crash (QEMU status 37) */
	GUEST_EXIT_ERROR = 0x13,   /**< ERROR: the test could not run (QEMU status 39) */
};

/** The outcome of a test, as the final `RESULT:` line says it. */
enum result {
	RESULT_PASS,  /**< `RESULT: PASS`, exit 0x10 */
	RESULT_FAIL,  /**< `RESULT: FAIL <reason>`, exit 0x11 */
	RESULT_ERROR, /**< `RESULT: ERROR <reason>`, exit 0x13 */
	RESULT_SKIP,  /**< `RESULT: SKIP <reason>`, exit 0x10 */
};

/** The test itself. Ends with guest_result(); returning is an ERROR. */
void guest_main(void);

/**
 * Print the final result line and end the run with the matching exit code.
 * @param r    the outcome
 * @param fmt  the reason (printf format); ignored for RESULT_PASS, may be NULL
 */
GUEST_NORETURN void guest_result(enum result r, const char *fmt, ...) GUEST_PRINTF(2, 3);

/** Shorthands for guest_result(). */
#define guest_pass() guest_result(RESULT_PASS, NULL)
#define guest_fail(...) guest_result(RESULT_FAIL, __VA_ARGS__)
#define guest_error(...) guest_result(RESULT_ERROR, __VA_ARGS__)
#define guest_skip(...) guest_result(RESULT_SKIP, __VA_ARGS__)

/** FAIL the test, naming the file, line and condition, unless @p cond holds. */
#define GUEST_ASSERT(cond)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			guest_fail("%s:%d: assertion failed: %s", __FILE__,    \
				   __LINE__, #cond);                           \
	} while (0)

/**
 * End the run with @p code without printing a result line. For the runtime
 * and exception handlers; tests call guest_result().
 */
GUEST_NORETURN void guest_exit(enum guest_exit_code code);

/** @name Console output (a small printf)
 * Conversions: %d %i %u %x %X %o %s %c %p %%, length modifiers l ll z, flags
 * '0' and '-', a field width (number or *). No floating point.
 * @{ */
int gprintf(const char *fmt, ...) GUEST_PRINTF(1, 2);
int gvprintf(const char *fmt, va_list ap);
/** Format into @p buf (always NUL-terminated if @p size > 0); returns the full length. */
int gsnprintf(char *buf, size_t size, const char *fmt, ...) GUEST_PRINTF(3, 4);
int gvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/** Print one character / a string without formatting. */
void gputc(char c);
void gputs(const char *s);
/** Print "\n" unless the console is at the start of a line (before a report). */
void gstart_line(void);
/** @} */

/** Which build this is: "native" (multiboot kernel), "image" (Hypatia guest
 * image, run deprivileged) or "pv" (paravirtualized Hypatia guest image). */
const char *guest_platform(void);

/** @name Exceptions and interrupts (guests/lib/arch.c)
 * The runtime loads its own GDT (null, 0x08 64-bit code, 0x10 data) and a
 * 256-entry IDT of interrupt gates at start-up, in every build. A vector
 * with a handler calls it; returning from the handler returns from the
 * exception (IRETQ) with whatever the handler left in the frame. A vector
 * without one is a crash: a register dump and the line
 * `GUEST EXCEPTION: vector=N (#XX) error=0x.. rip=0x..`, exit 0x12.
 * @{ */

/**
 * What an exception or interrupt leaves on the stack, lowest address first:
 * the general registers the runtime saved, the vector, then exactly what
 * the CPU pushed in 64-bit mode (SDM Vol. 3A §6.14.2, Figure 6-9): the
 * error code (the runtime pushes 0 for vectors without one), RIP, CS,
 * RFLAGS, RSP, SS. A handler may change any of it, e.g. RIP to skip the
 * faulting instruction.
 */
struct guest_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

/** A handler for one vector. */
typedef void (*guest_handler_t)(struct guest_frame *frame);

/** Call @p handler for @p vector (0-255) from now on; NULL removes it. */
void guest_set_handler(unsigned vector, guest_handler_t handler);

/** Mnemonic of exception @p vector ("#PF"), or "IRQ"/"INT" for the others. */
const char *guest_vector_name(unsigned vector);

/** The GDTR / IDTR values the runtime loaded (10-byte LGDT operands). */
void guest_arch_tables(void *gdtr, void *idtr);
/** @} */

/** @name The interrupt flag, through the platform (native, image: CLI/STI/
 * PUSHF/POPF; pv: the shared-info page's irq_mask)
 * @{ */
void guest_irq_disable(void);
void guest_irq_enable(void);
unsigned long guest_irq_save(void);
void guest_irq_restore(unsigned long flags);
bool guest_irqs_enabled(void);
/** Enable interrupts and wait until one has been handled. */
void guest_wait_for_interrupt(void);
/** The pv build's shared-info page (a struct shared_info, xen.h), NULL in other builds. */
void *guest_shared_info(void);
/** @} */

/**
 * Start counter 2 of the 8254 in mode 0 with @p count (at 1.193182 MHz) and
 * return the TSC cycles until its output rises, or 0 if that takes more than
 * @p limit cycles (guests/lib/pit.c). A busy host can only make it longer.
 */
uint64_t guest_pit_countdown(uint16_t count, uint64_t limit);

/** @name Command line: space-separated key=value words
 * @{ */
/** The whole command line ("" when none was given). */
const char *guest_cmdline(void);
/**
 * Copy the value of @p key into @p buf (NUL-terminated, truncated to @p size).
 * @return true when the key is present (a bare `key` has the value "").
 */
bool guest_cmdline_get(const char *key, char *buf, size_t size);
/**
 * The value of @p key as an unsigned 64-bit number (decimal, or hex with 0x),
 * or @p default_value when the key is absent. A malformed value ends the run
 * with RESULT: ERROR.
 */
uint64_t guest_cmdline_u64(const char *key, uint64_t default_value);
/**
 * The `nonce=` value the grader chose (decimal). A missing or malformed nonce
 * ends the run with RESULT: ERROR: no test may run without one.
 */
uint64_t guest_nonce(void);
/** @} */

/** @name String and memory helpers (the C library's names and meanings)
 * @{ */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/**
 * Parse an unsigned number: decimal, or hex after "0x".
 * @return true when @p s[0 .. @p len) is entirely a number that fits in 64 bits.
 */
bool parse_u64(const char *s, size_t len, uint64_t *out);
/** @} */

/** 64-bit FNV-1a hash of @p n bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3). */
uint64_t fnv1a64(const void *data, size_t n);
/** splitmix64: the next value of the sequence whose state is @p *state (gradelib.splitmix64_sequence). */
uint64_t splitmix64(uint64_t *state);

#endif
