/*
 * xl_build.h — the domain builder in Dom0 (xl_build.c), after Xen's
 * libxenguest: it makes a domain from a config and a kernel file, through
 * the hypervisor's domctl and Dom0's foreign mappings of the new domain's
 * memory. One step is the student's (lab 4): xl_load_segments().
 */
#ifndef DOM0_XL_BUILD_H
#define DOM0_XL_BUILD_H

#include "elf64.h"
#include "xl_config.h"
#include "guest.h"

/** Pages of Dom0's own memory through which it sees the new domain's pages, one at a time each. */
#define XL_WINDOW_PAGES 16
#define XL_PAGE_SIZE 4096ull

/** A domain being built. */
struct xl_build {
	uint16_t domid;                      /**< the new domain */
	uint64_t memory_bytes;               /**< its guest-physical size */
	const uint8_t *kernel;               /**< the kernel file's bytes, checked by xl_build.c: every PT_LOAD segment lies inside the file and inside [4 KiB, memory_bytes - 16 KiB) */
	uint64_t kernel_size;                /**< its length */
	uint64_t entry, stack_top;           /**< from the ELF header and the Hypatia note */
	uint64_t window_gfn[XL_WINDOW_PAGES]; /**< which frame of the new domain each window page shows (~0: none) */
	unsigned window_next;                /**< the window page to reuse next */
};

/**
 * A pointer, in Dom0, to guest frame @p gfn of the domain being built: the
 * frame is mapped into one of Dom0's window pages (a foreign mapping,
 * XENMEM_add_to_physmap_batch). Valid until XL_WINDOW_PAGES other frames
 * have been asked for. NULL after printing why (a frame outside the domain).
 */
void *xl_guest_page(struct xl_build *build, uint64_t gfn);

/** LAB 4: copy the kernel's PT_LOAD segments into the new domain (xl_build_load.c). 0, or -1 after saying why. */
int xl_load_segments(struct xl_build *build);

/**
 * Build and start a domain from @p config: createdomain, max_mem, populate,
 * load the kernel and its command line, set the vCPU's entry, unpause
 * (unless @p paused). 0 with the new id in @p domid, or -1 after saying why;
 * a domain half made is destroyed. @p verbose: print each step's TSC cycles.
 */
int xl_build(const struct xl_config *config, bool paused, bool verbose, uint16_t *domid);

#endif
