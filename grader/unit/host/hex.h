/*
 * hex.h — the host harnesses' one helper for payloads given in hex on their
 * command lines (the tests send any bytes that way, malformed ones included).
 */
#ifndef HOST_HEX_H
#define HOST_HEX_H

#include <stddef.h>
#include <stdio.h>

/* Bytes of the hex digits in @hex (up to a newline or the end) into @out; how many. */
static inline size_t unhex(const char *hex, void *out)
{
	unsigned char *o = out;
	size_t n = 0;
	for (; hex[0] && hex[1] && hex[0] != '\n'; hex += 2) {
		unsigned v;
		sscanf(hex, "%2x", &v);
		o[n++] = (unsigned char)v;
	}
	return n;
}

#endif
