/*
 * printf.c — formatted output for the hypervisor.
 *
 * One formatter, kvformat(), writes characters through a callback, so the
 * console version and the buffer version share every line of formatting.
 */
#include "console.h"
#include "string.h"

struct sink {
	void (*put)(struct sink *sink, char c);
	char *buf;   /* buffer sink: where to write */
	size_t size; /* buffer sink: capacity including the NUL */
	size_t len;  /* characters produced so far (even those that did not fit) */
};

static void put_console(struct sink *sink, char c)
{
	console_putc(c);
	sink->len++;
}

static void put_buffer(struct sink *sink, char c)
{
	if (sink->len + 1 < sink->size)
		sink->buf[sink->len] = c;
	sink->len++;
}

static void put_padding(struct sink *sink, char c, int count)
{
	while (count-- > 0)
		sink->put(sink, c);
}

/* Print an unsigned number in @base with the field rules of printf. */
static void put_number(struct sink *sink, uint64_t value, unsigned base, bool upper, bool negative,
		       int width, bool left, char pad)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[value % base];
		value /= base;
	} while (value);
	int length = n + (negative ? 1 : 0);
	if (negative && pad == '0')
		sink->put(sink, '-');
	if (!left)
		put_padding(sink, pad, width - length);
	if (negative && pad != '0')
		sink->put(sink, '-');
	while (n)
		sink->put(sink, tmp[--n]);
	if (left)
		put_padding(sink, ' ', width - length);
}

static void kvformat(struct sink *sink, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink->put(sink, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int longs = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			longs += *fmt == 'z' ? 2 : 1;
			fmt++;
		}
		if (left)
			pad = ' ';

		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_number(sink, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, false, v < 0, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			put_number(sink, v, base, *fmt == 'X', false, width, left, pad);
			break;
		}
		case 'p':
			sink->put(sink, '0');
			sink->put(sink, 'x');
			put_number(sink, (uint64_t)va_arg(ap, void *), 16, false, false, 16, false, '0');
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int length = (int)strlen(s);
			if (!left)
				put_padding(sink, ' ', width - length);
			while (*s)
				sink->put(sink, *s++);
			if (left)
				put_padding(sink, ' ', width - length);
			break;
		}
		case 'c':
			sink->put(sink, (char)va_arg(ap, int));
			break;
		case '%':
			sink->put(sink, '%');
			break;
		case '\0':
			return;
		default: /* unknown conversion: show it rather than guess */
			sink->put(sink, '%');
			sink->put(sink, *fmt);
			break;
		}
	}
}

int kvprintf(const char *fmt, va_list ap)
{
	struct sink sink = {.put = put_console};
	kvformat(&sink, fmt, ap);
	return (int)sink.len;
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink sink = {.put = put_buffer, .buf = buf, .size = size};
	kvformat(&sink, fmt, ap);
	if (size)
		buf[MIN(sink.len, size - 1)] = '\0';
	return (int)sink.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
