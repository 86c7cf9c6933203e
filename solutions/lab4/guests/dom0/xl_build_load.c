/*
 * xl_build_load.c — lab 4's step of the domain builder: put the kernel's
 * segments into the new domain's memory (reference solution).
 */
#include "xl_build.h"

int xl_load_segments(struct xl_build *build)
{
	const struct elf64_header *eh = (const void *)build->kernel;
	const struct elf64_phdr *ph = (const void *)(build->kernel + eh->phoff);
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		uint64_t file_end = ph[i].paddr + ph[i].filesz, end = ph[i].paddr + ph[i].memsz;
		for (uint64_t page = ph[i].paddr & ~(XL_PAGE_SIZE - 1); page < end; page += XL_PAGE_SIZE) {
			uint8_t *p = xl_guest_page(build, page / XL_PAGE_SIZE);
			if (!p)
				return -1;
			/* This page's share of the segment: [from, to), of which [from, copy_to) from the file. */
			uint64_t from = page > ph[i].paddr ? page : ph[i].paddr;
			uint64_t to = page + XL_PAGE_SIZE < end ? page + XL_PAGE_SIZE : end;
			uint64_t copy_to = to < file_end ? to : file_end > from ? file_end : from;
			memcpy(p + (from - page), build->kernel + ph[i].offset + (from - ph[i].paddr), copy_to - from);
			memset(p + (copy_to - page), 0, to - copy_to);
		}
	}
	return 0;
}
