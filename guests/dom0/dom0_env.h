/*
 * dom0_env.h — the C library functions Dom0's portable parts (the FAT code,
 * the config reader) need, from wherever they run: the guest runtime inside
 * Dom0, or the host's libc in the kit's unit tests, which compile them with
 * -DDOM0_HOSTED.
 */
#ifndef DOM0_ENV_H
#define DOM0_ENV_H

#ifdef DOM0_HOSTED
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#define dom0_snprintf snprintf
#define gprintf printf
/* The guest runtime's number parser (guests/lib/string.c), for the host. */
static inline bool parse_u64(const char *s, size_t length, uint64_t *out)
{
	uint64_t x = 0;
	if (length == 0)
		return false;
	for (size_t i = 0; i < length; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*out = x;
	return true;
}
#else
#include "guest.h"
#define dom0_snprintf gsnprintf
#endif

#endif
