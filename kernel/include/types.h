/**
 * @file types.h
 * @brief Fixed-width integer types and the few compiler helpers every file uses.
 *
 * The hypervisor is freestanding: it has no C library, only the compiler's own
 * headers (stdint.h, stddef.h, stdbool.h, stdarg.h), which need no runtime.
 */
#ifndef HYPATIA_TYPES_H
#define HYPATIA_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Physical address (host-physical when it names hypervisor memory). */
typedef uint64_t paddr_t;
/** Virtual address in the hypervisor's address space. */
typedef uint64_t vaddr_t;

/** Number of elements of a static array. */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/** Round @p x down to a multiple of the power of two @p a. */
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
/** Round @p x up to a multiple of the power of two @p a. */
#define ALIGN_UP(x, a) ALIGN_DOWN((x) + (a) - 1, (a))
/** Smaller of two values. */
#define MIN(a, b) ((a) < (b) ? (a) : (b))
/** Larger of two values. */
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/** Function never returns (panic, exit). */
#define NORETURN __attribute__((noreturn))
/** Structure laid out exactly as declared, as the hardware reads it. */
#define PACKED __attribute__((packed))
/** printf-style format checking for the function's arguments. */
#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))

#endif
