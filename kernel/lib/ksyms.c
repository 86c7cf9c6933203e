/*
 * ksyms.c — naming the hypervisor's own addresses in dumps and backtraces.
 *
 * The lookup itself, ksym_lookup(), is lab 0's second exercise
 * (kernel/lib/ksym_lookup.c); this file formats what it finds.
 */
#include "ksyms.h"
#include "console.h"

void ksym_format(uint64_t addr, char *buf, size_t size)
{
	uint64_t offset;
	const char *name = ksym_lookup(addr, &offset);
	if (name)
		ksnprintf(buf, size, "%s+0x%lx", name, offset);
	else
		ksnprintf(buf, size, "0x%lx", addr);
}
