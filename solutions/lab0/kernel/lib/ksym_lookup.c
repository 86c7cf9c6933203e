/*
 * ksym_lookup.c — LAB 0 student file: find the function an address is in.
 *
 * Reference solution. See labs/lab0/README.md, "Exercise 2: naming addresses".
 */
#include "ksyms.h"

extern const uint64_t ksym_addresses[];
extern const uint32_t ksym_name_offsets[];
extern const char ksym_names[];
extern const uint64_t ksym_count;
extern const char kernel_text_start[], kernel_text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	if (addr < (uint64_t)kernel_text_start || addr >= (uint64_t)kernel_text_end || ksym_count == 0)
		return NULL;
	/* Binary search for the last symbol whose address is <= addr: the
	 * invariant is ksym_addresses[lo] <= addr < ksym_addresses[hi]. */
	uint64_t lo = 0, hi = ksym_count;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ksym_addresses[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (ksym_addresses[lo] > addr)
		return NULL;
	if (offset)
		*offset = addr - ksym_addresses[lo];
	return ksym_names + ksym_name_offsets[lo];
}
