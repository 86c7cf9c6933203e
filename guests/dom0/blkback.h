/**
 * @file blkback.h
 * @brief Dom0's block backend: serves a DomU's blkif ring from an image file.
 *
 * The backend half of Xen's block split driver (blkif.h): it takes the
 * requests a frontend put in the shared ring, reads or writes the pages the
 * frontend granted, and answers in the same ring. Nothing in the ring is
 * trusted: each request is copied out before it is checked, a bad one gets
 * an error response, and a frontend that breaks the ring protocol itself
 * (an index more than a ring ahead) is cut off — its ring is not read again —
 * with one log line. Other DomUs and Dom0 carry on.
 *
 * The disk and the grant mappings are callbacks: an image file on Dom0's FAT
 * disk and grant-table mappings inside Dom0, or a file and an array of pages
 * in the kit's host test (grader/unit/test_dom0_blkback.py).
 */
#ifndef DOM0_BLKBACK_H
#define DOM0_BLKBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "blkif.h"

/** The disk behind the virtual device: 512-byte sectors. Callbacks return 0 or -1. */
struct blkback_disk {
	void *context;
	uint64_t sectors;
	bool readonly;
	int (*read)(void *context, uint64_t sector, void *buffer, uint32_t count);
	int (*write)(void *context, uint64_t sector, const void *buffer, uint32_t count);
	int (*flush)(void *context);
};

/** The frontend's granted pages: map one (NULL if the grant is not valid for this use). */
struct blkback_grants {
	void *context;
	void *(*map)(void *context, uint32_t gref, bool writable);
	void (*unmap)(void *context, void *page);
};

/** One frontend's ring, as the backend serves it. */
struct blkback {
	struct blkif_sring *sring;
	uint32_t req_cons;       /**< the next request to take */
	uint32_t rsp_prod_pvt;   /**< responses written, not yet published */
	struct blkback_disk *disk;
	struct blkback_grants *grants;
	bool cut_off;            /**< the frontend broke the ring protocol: ignored from now on */
	char why[160];           /**< what it did */
	uint64_t requests, errors, sectors_read, sectors_written;
};

/** Start serving @p sring (its header as the frontend set it up). */
void blkback_init(struct blkback *b, struct blkif_sring *sring, struct blkback_disk *disk,
		  struct blkback_grants *grants);
/**
 * Serve every request the ring holds (and any that come while it works).
 * @return the responses written, or -1 once the frontend is cut off
 * @p notify is set when the frontend must be woken (its rsp_event was crossed).
 */
int blkback_serve(struct blkback *b, bool *notify);

#endif
