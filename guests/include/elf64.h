/**
 * @file elf64.h
 * @brief The ELF64 file and program headers (System V ABI, "ELF Header" and
 * "Program Header"), for the loaders of guest images: the hypervisor's
 * (kernel/dom/image.c) and Dom0's builder (guests/dom0/xl_build.c).
 */
#ifndef GUEST_ELF64_H
#define GUEST_ELF64_H

#include <stdint.h>

#define ET_EXEC 2     /**< e_type of an executable */
#define EM_X86_64 62  /**< e_machine of x86-64 */
#define PT_LOAD 1     /**< a segment to load */
#define PT_NOTE 4     /**< notes (Hypatia's guest note among them) */
#define PF_X 1        /**< an executable segment */

/** ELF64 file header. */
struct elf64_header {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));

/** ELF64 program header: a PT_LOAD segment is copied to @c paddr, @c filesz bytes from the file at @c offset, then zeros up to @c memsz. */
struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
} __attribute__((packed));

#endif
