/*
 * printf.c — a small printf for guests.
 *
 * One formatter, format_to(), writes through a sink callback so the same
 * code serves the console (gprintf) and strings (gsnprintf). It knows the
 * conversions tests need and nothing else: no floating point (guests are
 * built with -mgeneral-regs-only, so the FPU/SSE state stays untouched —
 * useful when a hypervisor has not learned to save it yet).
 */
#include "guest.h"
#include "platform.h"

struct sink {
	void (*put)(struct sink *sink, char c);
	char *buf;      /* gsnprintf: destination */
	size_t size;    /* gsnprintf: its size */
	size_t length;  /* characters produced so far (even past size) */
};

/* The last character sent to the console, for gstart_line(). */
static char console_last = '\n';

static void console_putc(char c)
{
	console_last = c;
	platform_putc(c);
}

static void put_console(struct sink *sink, char c)
{
	console_putc(c);
	sink->length++;
}

static void put_buffer(struct sink *sink, char c)
{
	if (sink->length + 1 < sink->size)
		sink->buf[sink->length] = c;
	sink->length++;
}

/* Emit @digits (already in order) with sign/prefix, padded to @width. */
static void put_field(struct sink *sink, const char *prefix, const char *digits,
		      size_t ndigits, int width, bool left, bool zero)
{
	int prefix_len = (int)strlen(prefix);
	int pad = width - prefix_len - (int)ndigits;

	if (!left && !zero)
		for (; pad > 0; pad--)
			sink->put(sink, ' ');
	for (const char *p = prefix; *p; p++)
		sink->put(sink, *p);
	if (!left && zero)
		for (; pad > 0; pad--)
			sink->put(sink, '0');
	for (size_t i = 0; i < ndigits; i++)
		sink->put(sink, digits[i]);
	for (; pad > 0; pad--)
		sink->put(sink, ' ');
}

static void put_number(struct sink *sink, uint64_t value, unsigned base,
		       bool upper, const char *prefix, int width, bool left,
		       bool zero)
{
	const char *symbols = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char reversed[24], digits[24];
	size_t n = 0;

	do {
		reversed[n++] = symbols[value % base];
		value /= base;
	} while (value);
	for (size_t i = 0; i < n; i++)
		digits[i] = reversed[n - 1 - i];
	put_field(sink, prefix, digits, n, width, left, zero);
}

static void format_to(struct sink *sink, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink->put(sink, *fmt);
			continue;
		}
		fmt++;
		bool left = false, zero = false;
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');

		int longs = 0; /* 0: int, 1: long, 2: long long; size_t is a long here */
		while (*fmt == 'l' || *fmt == 'z') {
			longs++;
			fmt++;
		}

		uint64_t u;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, long long) : va_arg(ap, int);
			u = v < 0 ? -(uint64_t)v : (uint64_t)v;
			put_number(sink, u, 10, false, v < 0 ? "-" : "", width,
				   left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			u = longs ? va_arg(ap, unsigned long long)
				  : va_arg(ap, unsigned int);
			put_number(sink, u, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
				   *fmt == 'X', "", width, left, zero);
			break;
		case 'p':
			u = (uint64_t)(uintptr_t)va_arg(ap, void *);
			put_number(sink, u, 16, false, "0x", width, left, zero);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			put_field(sink, "", &c, 1, width, left, false);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			put_field(sink, "", s, strlen(s), width, left, false);
			break;
		}
		case '%':
			sink->put(sink, '%');
			break;
		case '\0':
			return; /* a lone '%' at the end */
		default:
			/* Unknown conversion: show it rather than guess. */
			sink->put(sink, '%');
			sink->put(sink, *fmt);
			break;
		}
	}
}

int gvprintf(const char *fmt, va_list ap)
{
	struct sink sink = { .put = put_console };
	format_to(&sink, fmt, ap);
	return (int)sink.length;
}

int gprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = gvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int gvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink sink = { .put = put_buffer, .buf = buf, .size = size };
	format_to(&sink, fmt, ap);
	if (size > 0)
		buf[sink.length < size ? sink.length : size - 1] = '\0';
	return (int)sink.length;
}

int gsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = gvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void gputc(char c)
{
	console_putc(c);
}

void gputs(const char *s)
{
	while (*s)
		console_putc(*s++);
}

void gstart_line(void)
{
	if (console_last != '\n')
		console_putc('\n');
}
