/*
 * string.c — memory and string functions for a kernel without a C library.
 */
#include "string.h"

void *memset(void *dst, int c, size_t n)
{
	/* REP STOSQ: one instruction for the whole buffer, where a byte loop
	 * costs four per byte — and every frame the allocator hands out is
	 * zeroed with it (a 16 MiB domain is 4096 of them; in Bochs, which
	 * emulates every instruction, the loop took a second). */
	void *d = dst;
	uint64_t pattern = 0x0101010101010101ull * (uint8_t)c;
	size_t words = n / 8, bytes = n % 8;
	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(bytes) : "a"(pattern) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (uint8_t)*a - (uint8_t)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size) {
		size_t copy = MIN(n, size - 1);
		memcpy(dst, src, copy);
		dst[copy] = '\0';
	}
	return n;
}

const char *next_word(const char **cursor, size_t *length)
{
	const char *p = *cursor;
	while (*p == ' ')
		p++;
	size_t n = 0;
	while (p[n] && p[n] != ' ')
		n++;
	*cursor = p + n;
	*length = n;
	return n ? p : NULL;
}

uint64_t parse_u64(const char *s, const char **end)
{
	unsigned base = 10;
	uint64_t value = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned digit;
		if (*s >= '0' && *s <= '9')
			digit = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			digit = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			digit = *s - 'A' + 10;
		else
			break;
		if (value > (UINT64_MAX - digit) / base)
			value = UINT64_MAX;
		else
			value = value * base + digit;
	}
	if (end)
		*end = s;
	return value;
}
