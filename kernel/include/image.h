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
	struct hypatia_guest_note note;  /**< the image's Hypatia note */
};

/**
 * Check that @p image (@p size bytes) is a guest image that fits in
 * @p memory_bytes of guest memory. Returns NULL if it is, else a sentence
 * saying what is wrong.
 */
const char *image_check(const void *image, size_t size, uint64_t memory_bytes, struct image_info *info);
/** Copy a checked image's segments into @p d's memory. */
bool image_load(struct domain *d, const void *image);

#endif
