/**
 * @file string.h
 * @brief The handful of C string and memory functions the hypervisor needs.
 *
 * gcc may emit calls to memcpy/memset/memmove/memcmp on its own (for structure
 * copies), so these four must exist even in a freestanding kernel.
 */
#ifndef HYPATIA_STRING_H
#define HYPATIA_STRING_H

#include "types.h"

void *memset(void *dst, int c, size_t n);          /**< fill @p n bytes with @p c */
void *memcpy(void *dst, const void *src, size_t n); /**< copy, regions must not overlap */
void *memmove(void *dst, const void *src, size_t n); /**< copy, regions may overlap */
int memcmp(const void *a, const void *b, size_t n);  /**< compare bytes */
size_t strlen(const char *s);                         /**< length without the NUL */
size_t strnlen(const char *s, size_t max);            /**< length, at most @p max */
int strcmp(const char *a, const char *b);             /**< compare strings */
int strncmp(const char *a, const char *b, size_t n);  /**< compare at most @p n chars */
char *strchr(const char *s, int c);                   /**< first @p c in @p s, or NULL */
/** Copy at most @p size - 1 characters and always NUL-terminate; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/**
 * The next space-separated word of a command line or option list.
 * @param cursor  where to look; advanced past the word
 * @param length  receives the word's length
 * @return the word's first character (not NUL-terminated), or NULL when only spaces are left
 */
const char *next_word(const char **cursor, size_t *length);
/**
 * Parse an unsigned number: decimal, or hexadecimal with a 0x prefix.
 * @param s     the text
 * @param end   if not NULL, receives a pointer to the first unparsed character
 * @return the value (saturates at UINT64_MAX)
 */
uint64_t parse_u64(const char *s, const char **end);

#endif
