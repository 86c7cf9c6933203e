/*
 * string.c — the C library's memory and string functions, for guests.
 *
 * GCC may emit calls to memcpy/memset/memmove/memcmp by itself (struct
 * copies, zeroing loops) even with -ffreestanding, so these names must
 * exist. memset and memcpy use `rep stosb` / `rep movsb` (Intel SDM Vol. 2B,
 * "REP/REPE/REPZ/REPNE/REPNZ"): one instruction, and no loop that the
 * optimiser could turn back into a call to memset itself.
 */
#include "guest.h"

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlap with the destination above the source: copy backwards. */
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
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

bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	unsigned base = 10;
	uint64_t value = 0;

	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		unsigned digit;
		if (c >= '0' && c <= '9')
			digit = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			digit = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			digit = c - 'A' + 10;
		else
			return false;
		if (value > (UINT64_MAX - digit) / base)
			return false; /* would overflow */
		value = value * base + digit;
	}
	*out = value;
	return true;
}

uint64_t fnv1a64(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t hash = 0xcbf29ce484222325ull; /* FNV-1a 64-bit offset basis */

	for (size_t i = 0; i < n; i++) {
		hash ^= p[i];
		hash *= 0x100000001b3ull; /* FNV 64-bit prime */
	}
	return hash;
}

/* SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014). */
uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
