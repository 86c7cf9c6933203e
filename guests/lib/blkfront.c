/*
 * blkfront.c — the block frontend (blkfront.h): the xenbus handshake, then
 * one request at a time through the shared ring.
 */
#include "blkfront.h"
#include "guest.h"

static int fail(struct blkfront *f, const char *what)
{
	gsnprintf(f->error, sizeof(f->error), "%s: %s", f->device, what);
	return -1;
}

static int write_node(struct blkfront *f, const char *name, const char *value)
{
	char path[XENBUS_PATH_MAX];
	gsnprintf(path, sizeof(path), "%s/%s", f->device, name);
	return xenbus_write(f->xb, path, value);
}

int blkfront_connect(struct blkfront *f, struct xenbus *xb, struct blkfront_ops *ops, unsigned id, void *ring_page,
		     void *data_page)
{
	char path[XENBUS_PATH_MAX], value[32];
	uint64_t backend_id;
	memset(f, 0, sizeof(*f));
	f->xb = xb;
	f->ops = ops;
	f->sring = ring_page;
	f->data = data_page;
	gsnprintf(f->device, sizeof(f->device), "device/vbd/%u", id);
	gsnprintf(path, sizeof(path), "%s/backend", f->device);
	if (xenbus_read(xb, path, f->backend, sizeof(f->backend)) <= 0)
		return fail(f, "no backend named in xenstore (did the toolstack add this disk?)");
	gsnprintf(path, sizeof(path), "%s/backend-id", f->device);
	if (xenbus_read_u64(xb, path, &backend_id) || backend_id > 0x7fef)
		return fail(f, "no backend-id");
	f->backend_id = (uint16_t)backend_id;

	/* The ring, empty, with both sides asking to be told of the first entry. */
	memset(f->sring, 0, 4096);
	f->sring->header.req_event = f->sring->header.rsp_event = 1;
	f->ring_ref = ops->grant(ops->context, f->backend_id, f->sring, false);
	f->data_ref = ops->grant(ops->context, f->backend_id, f->data, false);
	int64_t port = ops->alloc_port(ops->context, f->backend_id);
	if (f->ring_ref < 0 || f->data_ref < 0 || port < 0)
		return fail(f, "could not grant the ring or make the event channel");
	f->port = (uint32_t)port;
	gsnprintf(value, sizeof(value), "%lld", (long long)f->ring_ref);
	if (write_node(f, "ring-ref", value))
		return fail(f, "could not write ring-ref");
	gsnprintf(value, sizeof(value), "%u", f->port);
	if (write_node(f, "event-channel", value) || write_node(f, "protocol", "x86_64-abi") ||
	    xenbus_switch_state(xb, f->device, XenbusStateInitialised))
		return fail(f, "could not publish the ring");

	if (xenbus_wait_state(xb, f->backend, XenbusStateConnected, 10000))
		return fail(f, "the backend never went Connected");
	gsnprintf(path, sizeof(path), "%s/sectors", f->backend);
	if (xenbus_read_u64(xb, path, &f->sectors))
		return fail(f, "the backend gave no sectors");
	if (xenbus_switch_state(xb, f->device, XenbusStateConnected))
		return fail(f, "could not go Connected");
	f->connected = true;
	return 0;
}

/* One request of up to 8 sectors through the data page: its status. */
static int one_request(struct blkfront *f, bool write, uint64_t sector, uint32_t count)
{
	struct blkif_request *r = &f->sring->ring[f->req_prod_pvt % BLKIF_RING_SIZE].request;
	memset(r, 0, sizeof(*r));
	r->operation = write ? BLKIF_OP_WRITE : BLKIF_OP_READ;
	r->nr_segments = 1;
	r->id = f->req_prod_pvt;
	r->sector_number = sector;
	r->seg[0] = (struct blkif_segment){(uint32_t)f->data_ref, 0, (uint8_t)(count - 1), 0};
	f->req_prod_pvt++;
	if (xen_ring_push(&f->sring->header.req_prod, &f->sring->header.req_event, f->req_prod_pvt))
		f->ops->notify(f->ops->context, f->port);
	for (int tries = 0; tries < 100000; tries++) {
		if (f->sring->header.rsp_prod != f->rsp_cons) {
			xen_mb();
			struct blkif_response *rsp = &f->sring->ring[f->rsp_cons++ % BLKIF_RING_SIZE].response;
			f->sring->header.rsp_event = f->rsp_cons + 1;
			return rsp->status;
		}
		f->ops->wait(f->ops->context);
	}
	return BLKIF_RSP_ERROR;
}

int blkfront_transfer(struct blkfront *f, bool write, uint64_t sector, void *buffer, uint32_t count)
{
	uint8_t *p = buffer;
	if (!f->connected)
		return fail(f, "not connected");
	while (count) {
		uint32_t n = count < BLKIF_SECTORS_PER_PAGE ? count : BLKIF_SECTORS_PER_PAGE;
		if (write)
			memcpy(f->data, p, n * 512);
		int status = one_request(f, write, sector, n);
		if (status != BLKIF_RSP_OKAY) {
			char text[48];
			gsnprintf(text, sizeof(text), "sector %llu: status %d", (unsigned long long)sector, status);
			return fail(f, text);
		}
		if (!write)
			memcpy(p, f->data, n * 512);
		p += n * 512;
		sector += n;
		count -= n;
	}
	return 0;
}
