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

/** Which build this is: "native" (multiboot kernel) or "image" (Hypatia guest image). */
const char *guest_platform(void);

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

#endif
