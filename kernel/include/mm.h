/**
 * @file mm.h
 * @brief Physical frame allocator and kernel heap.
 */
#ifndef HYPATIA_MM_H
#define HYPATIA_MM_H

#include "memlayout.h"
#include "types.h"

struct multiboot_info;

/**
 * Build the frame allocator from the multiboot memory map: every "available"
 * range becomes free frames, except the first MiB (BIOS, real-mode IVT),
 * the hypervisor image, the multiboot structures and the modules.
 */
void frame_init(const struct multiboot_info *mbi);
/** Allocate one zeroed 4 KiB frame. Returns its physical address, or 0 if none is free. */
paddr_t frame_alloc(void);
/** Allocate @p count physically contiguous zeroed frames; 0 if no such run is free. */
paddr_t frame_alloc_contiguous(size_t count);
/** Return a frame to the allocator. Freeing a frame that is free is a bug (panic). */
void frame_free(paddr_t pa);
/** Return @p count contiguous frames starting at @p pa. */
void frame_free_contiguous(paddr_t pa, size_t count);
/** Number of frames free now. */
size_t frame_free_count(void);
/** Number of frames the allocator manages (free or used). */
size_t frame_total_count(void);
/** True if @p pa is a frame the allocator handed out and has not got back. */
bool frame_is_allocated(paddr_t pa);

/** Set up the heap (after frame_init()). */
void heap_init(void);
/** Allocate @p size bytes, 16-byte aligned, uninitialised; NULL when memory is exhausted. */
void *kmalloc(size_t size);
/** Allocate @p size zeroed bytes. */
void *kzalloc(size_t size);
/** Free memory from kmalloc(); NULL is ignored. */
void kfree(void *ptr);
/** Bytes currently handed out by the heap (requested sizes rounded to their class). */
size_t heap_bytes_in_use(void);

#endif
