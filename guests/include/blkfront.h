/**
 * @file blkfront.h
 * @brief A DomU's virtual disk: the frontend of Xen's block split driver.
 *
 * It meets Dom0's backend through xenstore (xenbus.h): the toolstack wrote
 * `device/vbd/<id>/{backend,backend-id}`; the frontend grants its ring page
 * to the backend domain, makes an event channel to it, writes `ring-ref`,
 * `event-channel` and `protocol` = "x86_64-abi", and goes Initialised; once
 * the backend is Connected it reads the disk's `sectors` and goes Connected
 * too. Then reads and writes are requests in the shared ring (blkif.h),
 * each naming a page the frontend granted.
 *
 * Granting and event channels are the caller's (grant tables and event
 * channels of lab 4), as callbacks, so that the kit's host test can run a
 * frontend and Dom0's backend in one process.
 */
#ifndef GUEST_BLKFRONT_H
#define GUEST_BLKFRONT_H

#include <stdbool.h>
#include <stdint.h>

#include "blkif.h"
#include "xenbus.h"

/** What the frontend needs of the hypervisor, from the caller. */
struct blkfront_ops {
	void *context;
	/** Grant @p page to domain @p to (read-only if asked): the grant reference, or -1. */
	int64_t (*grant)(void *context, uint16_t to, void *page, bool readonly);
	/** Take a grant back (it must not be mapped any more). */
	void (*end_grant)(void *context, uint32_t gref);
	/** An unbound event channel for domain @p remote to bind: its port, or -1. */
	int64_t (*alloc_port)(void *context, uint16_t remote);
	void (*notify)(void *context, uint32_t port);
	/** Wait for something to happen (an upcall). */
	void (*wait)(void *context);
};

struct blkfront {
	struct xenbus *xb;
	struct blkfront_ops *ops;
	char device[XENBUS_DIR_MAX];   /**< "device/vbd/51712" */
	char backend[XENBUS_DIR_MAX];  /**< the backend's directory, from `backend` */
	uint16_t backend_id;
	struct blkif_sring *sring;     /**< the ring page (given, page-aligned) */
	uint8_t *data;                 /**< one page the requests move data through (given, page-aligned) */
	int64_t ring_ref, data_ref;
	uint32_t port;
	uint32_t req_prod_pvt, rsp_cons;
	uint64_t sectors;              /**< the disk's size, from the backend */
	bool connected;
	char error[192];
};

/**
 * Connect virtual disk @p id (51712 = xvda) with @p ring_page and @p data_page (4 KiB, aligned).
 * 0, or -1 with f->error saying which step failed.
 */
int blkfront_connect(struct blkfront *f, struct xenbus *xb, struct blkfront_ops *ops, unsigned id, void *ring_page,
		     void *data_page);
/** Read or write @p count sectors at @p sector through the data page, 8 at a time; 0 or -1. */
int blkfront_transfer(struct blkfront *f, bool write, uint64_t sector, void *buffer, uint32_t count);

#endif
