/**
 * @file console.h
 * @brief The hypervisor's console: COM1 (16550 UART at port 0x3f8) and printf.
 */
#ifndef HYPATIA_CONSOLE_H
#define HYPATIA_CONSOLE_H

#include "types.h"

/** Program COM1 for 115200 baud, 8N1, FIFOs on. Safe to call before anything else. */
void console_init(void);
/** Write one character; "\n" becomes "\r\n" as a terminal expects. */
void console_putc(char c);
/** Wait until the UART has sent every byte (before ending the run). */
void console_flush(void);
/** A byte typed on the console (COM1's receive buffer), or -1 if none waits. Never blocks. */
int console_getc(void);
/** Write a NUL-terminated string. */
void console_puts(const char *s);

/**
 * Formatted output to the console.
 *
 * Supports %d %i %u %x %X %o %p %s %c %% with the flags `-` and `0`, a field
 * width (also `*`) and the length modifiers l, ll, z. Returns the number of
 * characters written.
 */
int kprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
/** kprintf() with a va_list. */
int kvprintf(const char *fmt, va_list ap);
/** Format into a buffer of @p size bytes, always NUL-terminated. */
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
/** ksnprintf() with a va_list. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
