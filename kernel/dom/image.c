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
#include "domain.h"
#include "hypatia_note.h"
#include "image.h"
#include "memlayout.h"
#include "string.h"

#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define PF_X 1
#define MAX_SEGMENTS 16

struct elf64_header {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} PACKED;

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
} PACKED;

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
