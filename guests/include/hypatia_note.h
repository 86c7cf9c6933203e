/**
 * @file hypatia_note.h
 * @brief The ELF note that makes an ELF64 file a Hypatia guest image.
 *
 * A guest image is an ordinary ELF64 executable (ELF-64 Object File Format
 * 1.5, and the System V gABI "Note Section") that carries one extra note. The
 * hypervisor's image loader finds it through a PT_NOTE program header (the
 * section is `.note.hypatia`, but a loader must not rely on section headers),
 * and reads from it how to start the guest. This header is shared by the
 * guests (which emit the note) and the hypervisor (which parses it), so it
 * uses nothing but the compiler's own stdint.h and stddef.h.
 *
 * A note is laid out as (gABI "Note Section"):
 *
 *     offset  size  field
 *     0       4     namesz = 8          (strlen("Hypatia") + 1)
 *     4       4     descsz = 32         (sizeof(struct hypatia_guest_note))
 *     8       4     type   = 1          (HYPATIA_NOTE_GUEST)
 *     12      8     name   = "Hypatia\0"
 *     20      32    desc   = struct hypatia_guest_note
 *
 * Notes in this image use 4-byte alignment (PT_NOTE p_align = 4), the common
 * convention on x86-64 (Linux, Xen, GNU build-id). The descriptor therefore
 * starts at offset 20, which is *not* 8-byte aligned: copy it out with
 * hypatia_note_find() (or memcpy) instead of casting a pointer to it.
 */
#ifndef HYPATIA_NOTE_H
#define HYPATIA_NOTE_H

/** Owner name of Hypatia's notes, NUL included in the note's namesz. */
#define HYPATIA_NOTE_NAME "Hypatia"
/** namesz of a Hypatia note: strlen("Hypatia") + 1. */
#define HYPATIA_NOTE_NAMESZ 8
/** Note type: the descriptor is a struct hypatia_guest_note. */
#define HYPATIA_NOTE_GUEST 1
/** The layout version this header describes. */
#define HYPATIA_NOTE_VERSION 1

/** @name Values of hypatia_guest_note.entry_mode
 *  @{ */
/**
 * 64-bit long mode with paging on, at the privilege level the backend runs
 * guests at (CPL 3 for the lab-1/2 deprivileged backend, CPL 0 under SVM/VMX).
 * At the entry point:
 * - RIP = @c entry, RSP = @c stack_top, RDI = guest address of the command
 *   line (a NUL-terminated string of at most HYPATIA_CMDLINE_MAX bytes
 *   including the NUL, outside every PT_LOAD segment of the image);
 * - guest-virtual = guest-physical for every address below @c mem_min_bytes
 *   (the identity map), readable and writable, executable;
 * - RFLAGS.IF = 0 (no interrupts until the guest asks for them);
 * - every PT_LOAD segment loaded at its p_paddr (= p_vaddr), the bytes from
 *   p_filesz to p_memsz zeroed (the guest does not clear its own .bss);
 * - the guest's console is the UART at port 0x3f8 and its exit port is
 *   QEMU's isa-debug-exit at 0xf4 (docs/guests.md), trapped and emulated.
 */
#define HYPATIA_ENTRY_LONG64 1
/** @} */

/** Largest command line a guest accepts, NUL included. */
#define HYPATIA_CMDLINE_MAX 1024

/* The rest is C; the constants above are also used by assembly (entry.S). */
#ifndef __ASSEMBLER__

#include <stddef.h>
#include <stdint.h>

/**
 * Descriptor of the HYPATIA_NOTE_GUEST note: how to start this image.
 * Every address is guest-virtual, which equals guest-physical for images
 * using HYPATIA_ENTRY_LONG64. Fields are little-endian, naturally aligned,
 * with no padding (32 bytes).
 */
struct hypatia_guest_note {
	/** Layout version, HYPATIA_NOTE_VERSION. A loader refuses versions it does not know. */
	uint32_t version;
	/** How the vCPU must be set up at entry: HYPATIA_ENTRY_LONG64. */
	uint32_t entry_mode;
	/** First instruction to run. Equals the ELF header's e_entry. */
	uint64_t entry;
	/**
	 * Least guest memory the image needs, in bytes, counted from guest
	 * address 0: the end of its highest segment (.bss and stack
	 * included) rounded up to 2 MiB. A domain configured with less is refused.
	 */
	uint64_t mem_min_bytes;
	/**
	 * Initial RSP: the top of a stack inside the image's .bss (16-byte
	 * aligned). The loader must set it; Hypatia's own guests also reload
	 * it in their entry code, so they do not depend on it.
	 */
	uint64_t stack_top;
};

/**
 * Find the Hypatia guest note in the contents of a PT_NOTE segment.
 *
 * @param notes  the segment's bytes (any alignment)
 * @param size   its p_filesz
 * @param out    receives a copy of the descriptor when found
 * @return 1 when a well-formed HYPATIA_NOTE_GUEST note was found, else 0
 *         (including when a note's sizes run past the segment).
 */
static inline int hypatia_note_find(const void *notes, size_t size,
				    struct hypatia_guest_note *out)
{
	const unsigned char *p = (const unsigned char *)notes;
	size_t offset = 0;

	while (offset <= size && size - offset >= 12) {
		uint32_t header[3];
		unsigned char *dst = (unsigned char *)header;
		for (size_t i = 0; i < sizeof(header); i++)
			dst[i] = p[offset + i];
		uint64_t namesz = header[0], descsz = header[1];
		uint64_t name_at = offset + 12;
		uint64_t desc_at = name_at + ((namesz + 3) & ~(uint64_t)3);
		uint64_t next = desc_at + ((descsz + 3) & ~(uint64_t)3);
		if (next > size)
			return 0;
		int is_ours = header[2] == HYPATIA_NOTE_GUEST &&
			      namesz == HYPATIA_NOTE_NAMESZ &&
			      descsz == sizeof(*out);
		for (size_t i = 0; is_ours && i < HYPATIA_NOTE_NAMESZ; i++)
			if (p[name_at + i] != (unsigned char)HYPATIA_NOTE_NAME[i])
				is_ours = 0;
		if (is_ours) {
			dst = (unsigned char *)out;
			for (size_t i = 0; i < sizeof(*out); i++)
				dst[i] = p[desc_at + i];
			return 1;
		}
		offset = (size_t)next;
	}
	return 0;
}

#endif /* __ASSEMBLER__ */

#endif
