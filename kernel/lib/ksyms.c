/*
 * ksyms.c — looking up the hypervisor's own function names.
 *
 * scripts/gen-ksyms writes, from `nm` of a first link, an assembly file with
 * two arrays in section .ksyms: the sorted start addresses of the functions,
 * and for each the offset of its name in a string blob. The second link puts
 * them after all code, so no function moves between the two links.
 */
#include "ksyms.h"
#include "console.h"

extern const uint64_t ksym_addresses[];
extern const uint32_t ksym_name_offsets[];
extern const char ksym_names[];
extern const uint64_t ksym_count;
extern const char kernel_text_start[], kernel_text_end[];

const char *ksym_lookup(uint64_t addr, uint64_t *offset)
{
	if (addr < (uint64_t)kernel_text_start || addr >= (uint64_t)kernel_text_end || ksym_count == 0)
		return NULL;
	/* Binary search for the last symbol whose address is <= addr. */
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

void ksym_format(uint64_t addr, char *buf, size_t size)
{
	uint64_t offset;
	const char *name = ksym_lookup(addr, &offset);
	if (name)
		ksnprintf(buf, size, "%s+0x%lx", name, offset);
	else
		ksnprintf(buf, size, "0x%lx", addr);
}
