/**
 * @file vbd.h
 * @brief A DomU's virtual disk as Dom0 sees it: the toolstack's xenstore nodes, and the backend's handshake.
 *
 * `xl create` with `disk = [...]` writes, for each disk, the frontend's
 * directory `/local/domain/<domid>/device/vbd/<id>` (backend, backend-id,
 * virtual-device, device-type, state) and the backend's
 * `/local/domain/0/backend/vbd/<domid>/<id>` (frontend, frontend-id, params,
 * mode, state), each readable by the other side (vbd_add). The backend then
 * runs as a state machine Dom0's event loop steps (vbd_poll): InitWait until
 * the frontend is Initialised; then it checks `protocol`, maps the granted
 * ring, binds the event channel, publishes the disk's size and goes
 * Connected, and serves the ring (blkback.c) from then on.
 */
#ifndef DOM0_VBD_H
#define DOM0_VBD_H

#include <stdbool.h>
#include <stdint.h>

#include "blkback.h"
#include "xenbus.h"

/** What the backend needs of the hypervisor: mapping the frontend's ring, its event channel. */
struct vbd_ops {
	void *context;
	/** Map @p gref of domain @p domid (the ring page): its address, or NULL. */
	void *(*map_ring)(void *context, uint16_t domid, uint32_t gref);
	/** Bind to port @p port of domain @p domid: the local port, or -1. */
	int64_t (*bind_port)(void *context, uint16_t domid, uint32_t port);
	void (*notify)(void *context, uint32_t local_port);
};

enum vbd_phase { VBD_INIT_WAIT, VBD_CONNECTED, VBD_FAILED };

struct vbd {
	struct xenbus *xb;
	struct vbd_ops *ops;
	uint16_t frontend_id;
	unsigned id;
	char frontend[XENBUS_DIR_MAX], backend[XENBUS_DIR_MAX];
	enum vbd_phase phase;
	uint32_t local_port;
	struct blkback back;
	struct blkback_disk *disk;
	struct blkback_grants *grants;
	char error[120];
};

/** The toolstack's half: write both directories for disk @p id of domain @p domid over @p target. */
int vbd_add(struct xenbus *xb, uint16_t domid, unsigned id, const char *target, bool readonly);
/** Start the backend for it (InitWait); 0 or -1. */
int vbd_start(struct vbd *v, struct xenbus *xb, struct vbd_ops *ops, uint16_t domid, unsigned id,
	      struct blkback_disk *disk, struct blkback_grants *grants);
/** One step of the backend: the handshake, then serving the ring. The phase it is in. */
enum vbd_phase vbd_poll(struct vbd *v);

#endif
