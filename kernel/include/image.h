/**
 * @file image.h
 * @brief Checking and loading ELF64 guest images.
 */
#ifndef HYPATIA_IMAGE_H
#define HYPATIA_IMAGE_H

#include "hypatia_note.h"
#include "types.h"

struct domain;

/** What image_check() learnt about a valid image. */
struct image_info {
	uint64_t entry;                  /**< where the guest starts */
	unsigned segments;               /**< PT_LOAD segments */
	bool multiboot;                  /**< a native multiboot v1 kernel (ELF32), not a guest image */
	struct hypatia_guest_note note;  /**< the image's Hypatia note (guest images only) */
};

/**
 * Check that @p image (@p size bytes) is a guest image that fits in
 * @p memory_bytes of guest memory. Returns NULL if it is, else a sentence
 * saying what is wrong.
 */
const char *image_check(const void *image, size_t size, uint64_t memory_bytes, struct image_info *info);
/** Copy a checked image's segments into @p d's memory. */
bool image_load(struct domain *d, const void *image);
/**
 * Check a native multiboot v1 kernel (an ELF32 with the multiboot header in
 * its first 8 KiB, Multiboot spec §3.1) that is to fit in @p memory_bytes.
 * Returns NULL if it is one, else what is wrong.
 */
const char *multiboot_image_check(const void *image, size_t size, uint64_t memory_bytes, struct image_info *info);
/** Copy a checked multiboot kernel's segments into @p d's memory. */
bool multiboot_image_load(struct domain *d, const void *image);
/**
 * Write the multiboot information (spec §3.3: memory sizes, memory map,
 * command line @p cmdline) into @p d's top pages; returns its guest-physical
 * address, the EBX the kernel receives.
 */
uint64_t multiboot_build_info(struct domain *d, const char *cmdline);

#endif
