/*
 * image.c — checking and loading an ELF64 guest image into a domain.
 *
 * A guest image is an ELF64 executable (System V gABI, "ELF header" and
 * "Program header") whose PT_LOAD segments are placed at their physical
 * addresses (p_paddr) in guest memory, and whose PT_NOTE carries a
 * "Hypatia" note (guests/include/hypatia_note.h) saying how to start it.
 * Every number in the file is checked before it is used: an image is input
 * from outside, and a bad one must be refused, never trusted.
 */
#include "console.h"
#include "elf64.h"
#include "domain.h"
#include "hypatia_note.h"
#include "image.h"
#include "memlayout.h"
#include "multiboot.h"
#include "string.h"

#define MAX_SEGMENTS 16

/* [start, start + size) lies inside [0, limit) without wrapping. */
static bool fits(uint64_t start, uint64_t size, uint64_t limit)
{
	return start <= limit && size <= limit - start;
}

const char *image_check(const void *image, size_t size, uint64_t memory_bytes, struct image_info *info)
{
	const struct elf64_header *eh = image;
	memset(info, 0, sizeof(*info));
	if (size < sizeof(*eh) || memcmp(eh->ident, "\x7f" "ELF", 4) != 0)
		return "not an ELF file";
	if (eh->ident[4] != 2 || eh->ident[5] != 1 || eh->machine != EM_X86_64)
		return "not an ELF64 little-endian x86-64 file";
	if (eh->type != ET_EXEC)
		return "not an executable (ELF type must be ET_EXEC)";
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 || eh->phnum > MAX_SEGMENTS ||
	    !fits(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf64_phdr), size))
		return "program headers missing, malformed or outside the file";

	const struct elf64_phdr *ph = (const void *)((const uint8_t *)image + eh->phoff);
	bool have_note = false, entry_executable = false;
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (!fits(ph[i].offset, ph[i].filesz, size))
			return "a segment's bytes lie outside the file (truncated image?)";
		if (ph[i].type == PT_NOTE && !have_note) {
			struct hypatia_guest_note note;
			if (hypatia_note_find((const uint8_t *)image + ph[i].offset, ph[i].filesz, &note)) {
				info->note = note;
				have_note = true;
			}
		}
		if (ph[i].type != PT_LOAD)
			continue;
		if (ph[i].filesz > ph[i].memsz)
			return "a segment has more file bytes than memory bytes";
		if (ph[i].paddr < PAGE_SIZE || !fits(ph[i].paddr, ph[i].memsz, memory_bytes))
			return "a segment does not fit the domain's memory (or sits on page 0)";
		for (unsigned j = 0; j < i; j++)
			if (ph[j].type == PT_LOAD && ph[i].paddr < ph[j].paddr + ph[j].memsz &&
			    ph[j].paddr < ph[i].paddr + ph[i].memsz)
				return "two segments overlap";
		if ((ph[i].flags & PF_X) && eh->entry >= ph[i].paddr && eh->entry < ph[i].paddr + ph[i].memsz)
			entry_executable = true;
		info->segments++;
	}
	if (info->segments == 0)
		return "no loadable segment";
	if (!have_note)
		return "no Hypatia note (PT_NOTE with a \"Hypatia\" guest note): not a guest image";
	if (info->note.version != HYPATIA_NOTE_VERSION)
		return "Hypatia note of an unknown version";
	if (info->note.entry_mode != HYPATIA_ENTRY_LONG64)
		return "unknown entry mode in the Hypatia note";
	if (info->note.entry != eh->entry || !entry_executable)
		return "the entry point is not inside an executable segment";
	if (info->note.mem_min_bytes > memory_bytes)
		return "the image needs more memory than the domain has (raise mem=)";
	info->entry = eh->entry;
	return NULL;
}

bool image_load(struct domain *d, const void *image)
{
	const struct elf64_header *eh = image;
	const struct elf64_phdr *ph = (const void *)((const uint8_t *)image + eh->phoff);
	static const uint8_t zeros[256];
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		if (!domain_write(d, ph[i].paddr, (const uint8_t *)image + ph[i].offset, ph[i].filesz))
			return false;
		/* Guest frames come zeroed from the allocator, but say what .bss means. */
		for (uint64_t off = ph[i].filesz; off < ph[i].memsz; off += sizeof(zeros))
			if (!domain_write(d, ph[i].paddr + off, zeros, MIN(sizeof(zeros), ph[i].memsz - off)))
				return false;
	}
	return true;
}

/* --- native multiboot v1 kernels (DESIGN §5: the same binary natively and as a guest) --- */

#define EM_386 3
#define MULTIBOOT_HEADER_MAGIC 0x1badb002u
#define MULTIBOOT_SEARCH 8192 /* the header lies in the first 8 KiB (spec §3.1.1) */

struct elf32_header {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} PACKED;

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} PACKED;

static bool has_multiboot_header(const uint8_t *image, size_t size)
{
	for (size_t off = 0; off + 12 <= MIN(size, (size_t)MULTIBOOT_SEARCH); off += 4) {
		const uint32_t *h = (const uint32_t *)(image + off);
		if (h[0] == MULTIBOOT_HEADER_MAGIC && h[0] + h[1] + h[2] == 0)
			return !(h[1] & (1u << 16)); /* the a.out kludge: not supported, ELF only */
	}
	return false;
}

const char *multiboot_image_check(const void *image, size_t size, uint64_t memory_bytes, struct image_info *info)
{
	const struct elf32_header *eh = image;
	memset(info, 0, sizeof(*info));
	if (size < sizeof(*eh) || memcmp(eh->ident, "\x7f" "ELF", 4) != 0 || eh->ident[4] != 1 || eh->machine != EM_386)
		return "not an ELF32 i386 file";
	if (!has_multiboot_header(image, size))
		return "no multiboot v1 header (ELF kernels only) in the first 8 KiB";
	if (eh->type != ET_EXEC || eh->phentsize != sizeof(struct elf32_phdr) || eh->phnum == 0 ||
	    eh->phnum > MAX_SEGMENTS || !fits(eh->phoff, (uint64_t)eh->phnum * sizeof(struct elf32_phdr), size))
		return "program headers missing, malformed or outside the file";
	const struct elf32_phdr *ph = (const void *)((const uint8_t *)image + eh->phoff);
	bool entry_inside = false;
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].type != PT_LOAD)
			continue;
		if (!fits(ph[i].offset, ph[i].filesz, size) || ph[i].filesz > ph[i].memsz)
			return "a segment's bytes lie outside the file (truncated image?)";
		/* Leave the top pages free: the multiboot information goes there. */
		if (ph[i].paddr < 0x100000 || !fits(ph[i].paddr, ph[i].memsz, memory_bytes - 4 * PAGE_SIZE))
			return "a segment does not fit the domain's memory (below 1 MiB or past its end)";
		for (unsigned j = 0; j < i; j++)
			if (ph[j].type == PT_LOAD && ph[i].paddr < ph[j].paddr + ph[j].memsz &&
			    ph[j].paddr < ph[i].paddr + ph[i].memsz)
				return "two segments overlap";
		entry_inside |= eh->entry >= ph[i].paddr && eh->entry < ph[i].paddr + ph[i].memsz;
		info->segments++;
	}
	if (!info->segments || !entry_inside)
		return "no loadable segment holds the entry point";
	info->entry = eh->entry;
	info->multiboot = true;
	return NULL;
}

bool multiboot_image_load(struct domain *d, const void *image)
{
	const struct elf32_header *eh = image;
	const struct elf32_phdr *ph = (const void *)((const uint8_t *)image + eh->phoff);
	for (unsigned i = 0; i < eh->phnum; i++)
		if (ph[i].type == PT_LOAD &&
		    !domain_write(d, ph[i].paddr, (const uint8_t *)image + ph[i].offset, ph[i].filesz))
			return false; /* .bss: guest frames come zeroed */
	return true;
}

uint64_t multiboot_build_info(struct domain *d, const char *cmdline)
{
	/* Three pages below the top: the info block and the memory map, then
	 * the command line in the last page (where guest images find theirs). */
	uint64_t info_gpa = d->memory_bytes - 2 * PAGE_SIZE, map_gpa = info_gpa + 128;
	uint64_t cmdline_gpa = d->memory_bytes - PAGE_SIZE;
	struct multiboot_mmap_entry map[2] = {
		{.size = 20, .addr = 0, .len = 0x9fc00, .type = MULTIBOOT_MEMORY_AVAILABLE},
		{.size = 20, .addr = 0x100000, .len = d->memory_bytes - 0x100000, .type = MULTIBOOT_MEMORY_AVAILABLE},
	};
	struct multiboot_info info = {
		.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MMAP,
		.mem_lower = 639,
		.mem_upper = (uint32_t)((d->memory_bytes - 0x100000) >> 10),
		.cmdline = (uint32_t)cmdline_gpa,
		.mmap_length = sizeof(map),
		.mmap_addr = (uint32_t)map_gpa,
	};
	domain_write(d, info_gpa, &info, sizeof(info));
	domain_write(d, map_gpa, map, sizeof(map));
	domain_write(d, cmdline_gpa, cmdline, strlen(cmdline) + 1);
	return info_gpa;
}
