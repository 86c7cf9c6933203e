/**
 * @file blkif.h
 * @brief The block split driver's ring entries (xen/include/public/io/blkif.h), x86-64 layout.
 *
 * A request names up to 11 segments, each a page the frontend granted to the
 * backend (a grant reference) and the sectors of that page to use (512-byte
 * sectors first..last, 0-7). The disk address is `sector`, in 512-byte units
 * whatever the disk's own sector size.
 */
#ifndef GUEST_BLKIF_H
#define GUEST_BLKIF_H

#include <stddef.h>
#include <stdint.h>

#include "xen_ring.h"

#define BLKIF_OP_READ 0
#define BLKIF_OP_WRITE 1
#define BLKIF_OP_WRITE_BARRIER 2
#define BLKIF_OP_FLUSH_DISKCACHE 3
#define BLKIF_MAX_SEGMENTS_PER_REQUEST 11
#define BLKIF_SECTORS_PER_PAGE 8

#define BLKIF_RSP_EOPNOTSUPP (-2) /**< an operation the backend does not do */
#define BLKIF_RSP_ERROR (-1)
#define BLKIF_RSP_OKAY 0

/** One segment: a granted page and the sectors of it to read or write. */
struct blkif_segment {
	uint32_t gref;      /**< the grant reference of the page */
	uint8_t first_sect; /**< the first 512-byte sector of the page (0-7) */
	uint8_t last_sect;  /**< the last (first_sect..7) */
	uint16_t pad;
};

/** A request, as the frontend writes it into a ring slot. */
struct blkif_request {
	uint8_t operation;   /**< BLKIF_OP_* */
	uint8_t nr_segments; /**< 1..11 for reads and writes */
	uint16_t handle;     /**< the virtual device (only one per ring here) */
	uint32_t pad;
	uint64_t id;         /**< chosen by the frontend, copied into the response */
	uint64_t sector_number;
	struct blkif_segment seg[BLKIF_MAX_SEGMENTS_PER_REQUEST];
};

/** A response, as the backend writes it into a ring slot. */
struct blkif_response {
	uint64_t id;
	uint8_t operation;
	uint8_t pad;
	int16_t status; /**< BLKIF_RSP_* */
	uint32_t pad2;
};

_Static_assert(sizeof(struct blkif_segment) == 8, "blkif.h: 8-byte segments");
_Static_assert(offsetof(struct blkif_request, id) == 8 && offsetof(struct blkif_request, sector_number) == 16 &&
	       offsetof(struct blkif_request, seg) == 24 && sizeof(struct blkif_request) == 112,
	       "blkif.h: the x86-64 request layout");
_Static_assert(offsetof(struct blkif_response, status) == 10, "blkif.h: the response's status at byte 10");

/** One ring slot holds either. */
union blkif_slot {
	struct blkif_request request;
	struct blkif_response response;
};

/** The block ring page: the header, then 32 slots of 112 bytes. */
struct blkif_sring {
	struct xen_sring_header header;
	union blkif_slot ring[32];
};

_Static_assert(sizeof(union blkif_slot) == 112, "blkif.h: 112-byte slots");
_Static_assert(sizeof(struct blkif_sring) <= 4096, "blkif.h: one page");
#define BLKIF_RING_SIZE 32 /**< xen_ring_size(112): the largest power of two that fits */

#endif
