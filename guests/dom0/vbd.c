/*
 * vbd.c — the toolstack's and the backend's halves of a virtual disk's
 * xenbus handshake (vbd.h). Node names are Linux's and Xen's
 * (xen/include/public/io/blkif.h, "Backend/Frontend XenBus Nodes").
 */
#include "vbd.h"
#include "dom0_env.h"

static int put(struct xenbus *xb, const char *dir, const char *name, const char *value)
{
	char path[XENBUS_DIR_MAX + 32];
	dom0_snprintf(path, sizeof(path), "%s/%s", dir, name);
	return xenbus_write(xb, path, value);
}

/* SET_PERMS @path: owner @owner, nobody else but @reader (read). */
static int share(struct xenbus *xb, const char *path, uint16_t owner, uint16_t reader)
{
	char payload[XENBUS_PATH_MAX + 32], reply[8];
	int n = dom0_snprintf(payload, sizeof(payload), "%s", path) + 1;
	n += dom0_snprintf(payload + n, sizeof(payload) - (size_t)n, "n%u", owner) + 1;
	n += dom0_snprintf(payload + n, sizeof(payload) - (size_t)n, "r%u", reader) + 1;
	return xenbus_request(xb, XS_SET_PERMS, 0, payload, (uint32_t)n, reply, sizeof(reply)) < 0 ? -1 : 0;
}

/* Make directory @path, owned by @owner and readable by @reader, before anything goes in it:
 * a new node takes its parent's permissions. */
static int make_shared_dir(struct xenbus *xb, const char *path, uint16_t owner, uint16_t reader)
{
	char reply[8];
	if (xenbus_request(xb, XS_MKDIR, 0, path, (uint32_t)strlen(path) + 1, reply, sizeof(reply)) < 0)
		return -1;
	return share(xb, path, owner, reader);
}

int vbd_add(struct xenbus *xb, uint16_t domid, unsigned id, const char *target, bool readonly)
{
	char front[XENBUS_DIR_MAX], back[XENBUS_DIR_MAX], number[16], domid_text[8];
	dom0_snprintf(front, sizeof(front), "/local/domain/%u/device/vbd/%u", domid, id);
	dom0_snprintf(back, sizeof(back), "/local/domain/0/backend/vbd/%u/%u", domid, id);
	dom0_snprintf(number, sizeof(number), "%u", id);
	dom0_snprintf(domid_text, sizeof(domid_text), "%u", domid);
	/* The backend's directory is Dom0's, the frontend may read it; the frontend's is the
	 * DomU's (Dom0 reads anything). */
	if (make_shared_dir(xb, back, 0, domid) || put(xb, back, "frontend", front) ||
	    put(xb, back, "frontend-id", domid_text) || put(xb, back, "params", target) ||
	    put(xb, back, "mode", readonly ? "r" : "w") || put(xb, back, "state", "1"))
		return -1;
	return make_shared_dir(xb, front, domid, 0) || put(xb, front, "backend", back) ||
	       put(xb, front, "backend-id", "0") || put(xb, front, "virtual-device", number) ||
	       put(xb, front, "device-type", "disk") || put(xb, front, "state", "1") ? -1 : 0;
}

int vbd_start(struct vbd *v, struct xenbus *xb, struct vbd_ops *ops, uint16_t domid, unsigned id,
	      struct blkback_disk *disk, struct blkback_grants *grants)
{
	memset(v, 0, sizeof(*v));
	v->xb = xb;
	v->ops = ops;
	v->frontend_id = domid;
	v->id = id;
	v->disk = disk;
	v->grants = grants;
	dom0_snprintf(v->frontend, sizeof(v->frontend), "/local/domain/%u/device/vbd/%u", domid, id);
	dom0_snprintf(v->backend, sizeof(v->backend), "/local/domain/0/backend/vbd/%u/%u", domid, id);
	v->phase = VBD_INIT_WAIT;
	return xenbus_switch_state(xb, v->backend, XenbusStateInitWait);
}

static enum vbd_phase failed(struct vbd *v, const char *why)
{
	dom0_snprintf(v->error, sizeof(v->error), "vbd %u of domain %u: %s", v->id, v->frontend_id, why);
	gprintf("blkback: %s\n", v->error);
	put(v->xb, v->backend, "hotplug-error", why);
	xenbus_switch_state(v->xb, v->backend, XenbusStateClosing);
	v->phase = VBD_FAILED;
	return v->phase;
}

enum vbd_phase vbd_poll(struct vbd *v)
{
	char path[XENBUS_PATH_MAX], text[32];
	uint64_t state, ring_ref, port;
	if (v->phase == VBD_FAILED)
		return v->phase;
	if (v->phase == VBD_CONNECTED) {
		bool notify;
		if (blkback_serve(&v->back, &notify) < 0)
			return failed(v, v->back.why);
		if (notify)
			v->ops->notify(v->ops->context, v->local_port);
		return v->phase;
	}
	dom0_snprintf(path, sizeof(path), "%s/state", v->frontend);
	if (xenbus_read_u64(v->xb, path, &state) || state != XenbusStateInitialised)
		return v->phase; /* not yet */
	dom0_snprintf(path, sizeof(path), "%s/protocol", v->frontend);
	if (xenbus_read(v->xb, path, text, sizeof(text)) < 0 || strcmp(text, "x86_64-abi"))
		return failed(v, "the frontend's protocol is not x86_64-abi");
	dom0_snprintf(path, sizeof(path), "%s/ring-ref", v->frontend);
	if (xenbus_read_u64(v->xb, path, &ring_ref) || ring_ref > 0xffffffffu)
		return failed(v, "no ring-ref from the frontend");
	dom0_snprintf(path, sizeof(path), "%s/event-channel", v->frontend);
	if (xenbus_read_u64(v->xb, path, &port) || port > 0xffffffffu)
		return failed(v, "no event-channel from the frontend");
	struct blkif_sring *sring = v->ops->map_ring(v->ops->context, v->frontend_id, (uint32_t)ring_ref);
	if (!sring)
		return failed(v, "the ring-ref is not a page the frontend granted to Dom0");
	int64_t local = v->ops->bind_port(v->ops->context, v->frontend_id, (uint32_t)port);
	if (local < 0)
		return failed(v, "the event-channel is not a port the frontend opened for Dom0");
	v->local_port = (uint32_t)local;
	blkback_init(&v->back, sring, v->disk, v->grants);
	dom0_snprintf(text, sizeof(text), "%llu", (unsigned long long)v->disk->sectors);
	if (put(v->xb, v->backend, "sectors", text) || put(v->xb, v->backend, "sector-size", "512") ||
	    put(v->xb, v->backend, "info", v->disk->readonly ? "4" : "0") || /* VDISK_READONLY is 4 */
	    xenbus_switch_state(v->xb, v->backend, XenbusStateConnected))
		return failed(v, "could not publish the disk");
	v->phase = VBD_CONNECTED;
	return v->phase;
}
