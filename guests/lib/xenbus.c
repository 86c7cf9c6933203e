/*
 * xenbus.c — the xenstore client (xenbus.h): a request is a header and a
 * payload written into the ring; replies are read back until the one with
 * our request id comes, and the watch events met on the way are kept.
 */
#include "xenbus.h"
#include "guest.h"

#define MASK(i) ((i) & (XENSTORE_RING_SIZE - 1))

static void barrier(void) { __asm__ volatile("mfence" ::: "memory"); }

void xenbus_init(struct xenbus *xb, struct xenstore_domain_interface *ring, void (*kick)(void *),
		 void (*wait)(void *), void *context)
{
	memset(xb, 0, sizeof(*xb));
	xb->ring = ring;
	xb->kick = kick;
	xb->wait = wait;
	xb->context = context;
	xb->next_id = 1;
}

static int put(struct xenbus *xb, const void *data, uint32_t length)
{
	volatile struct xenstore_domain_interface *r = xb->ring;
	const char *p = data;
	for (uint32_t done = 0, tries = 0; done < length;) {
		uint32_t prod = r->req_prod;
		barrier();
		if ((uint32_t)(prod - r->req_cons) < XENSTORE_RING_SIZE) {
			r->req[MASK(prod)] = p[done++];
			barrier();
			r->req_prod = prod + 1;
			continue;
		}
		xb->kick(xb->context); /* full: let xenstored take some */
		if (++tries > XENBUS_WAIT_LIMIT)
			return -1;
		xb->wait(xb->context);
	}
	return 0;
}

/* Take @length bytes of the response ring, waiting as needed. */
static int take(struct xenbus *xb, void *data, uint32_t length)
{
	volatile struct xenstore_domain_interface *r = xb->ring;
	char *p = data;
	for (uint32_t done = 0, tries = 0; done < length;) {
		uint32_t cons = r->rsp_cons;
		if (r->rsp_prod != cons) {
			barrier();
			p[done++] = r->rsp[MASK(cons)];
			barrier();
			r->rsp_cons = cons + 1;
			continue;
		}
		if (++tries > XENBUS_WAIT_LIMIT)
			return -1;
		xb->wait(xb->context);
	}
	return 0;
}

static void keep_event(struct xenbus *xb, const char *payload, uint32_t length)
{
	uint32_t path_length = 0;
	while (path_length < length && payload[path_length])
		path_length++;
	if (path_length >= XENBUS_PATH_MAX || path_length + 1 >= length)
		return; /* not "path\0token\0" */
	if (xb->event_count == XENBUS_EVENTS) {
		/* The oldest goes: a watcher reads the nodes it cares about again anyway. */
		memmove(xb->events, xb->events + 1, sizeof(xb->events[0]) * (XENBUS_EVENTS - 1));
		memmove(xb->tokens, xb->tokens + 1, sizeof(xb->tokens[0]) * (XENBUS_EVENTS - 1));
		xb->event_count--;
	}
	memcpy(xb->events[xb->event_count], payload, path_length + 1);
	uint32_t token_length = 0;
	const char *token = payload + path_length + 1;
	while (token_length + 1 < sizeof(xb->tokens[0]) && path_length + 1 + token_length < length && token[token_length])
		token_length++;
	memcpy(xb->tokens[xb->event_count], token, token_length);
	xb->tokens[xb->event_count][token_length] = '\0';
	xb->event_count++;
}

int xenbus_request(struct xenbus *xb, uint32_t type, uint32_t tx, const void *payload, uint32_t length,
		   char *reply, uint32_t size)
{
	static char body[XENSTORE_PAYLOAD_MAX];
	struct xsd_sockmsg h = {type, xb->next_id++, tx, length};
	if (length > XENSTORE_PAYLOAD_MAX || put(xb, &h, sizeof(h)) || put(xb, payload, length))
		goto timeout;
	xb->kick(xb->context);
	for (;;) {
		struct xsd_sockmsg r;
		if (take(xb, &r, sizeof(r)) || r.len > XENSTORE_PAYLOAD_MAX || take(xb, body, r.len))
			goto timeout;
		if (r.type == XS_WATCH_EVENT) {
			keep_event(xb, body, r.len);
			continue;
		}
		if (r.req_id != h.req_id)
			continue; /* a reply to a request we gave up on */
		if (r.type == XS_ERROR) {
			uint32_t n = r.len < sizeof(xb->error) ? r.len : (uint32_t)sizeof(xb->error) - 1;
			memcpy(xb->error, body, n);
			xb->error[n < sizeof(xb->error) ? n : sizeof(xb->error) - 1] = '\0';
			return -1;
		}
		uint32_t n = r.len < size ? r.len : size;
		memcpy(reply, body, n);
		return (int)n;
	}
timeout:
	gsnprintf(xb->error, sizeof(xb->error), "ETIMEDOUT");
	return -1;
}

static int simple(struct xenbus *xb, uint32_t type, const char *a, const char *b, bool b_is_value)
{
	static char payload[XENSTORE_PAYLOAD_MAX];
	char reply[16];
	uint32_t la = (uint32_t)strlen(a) + 1, lb = b ? (uint32_t)strlen(b) + (b_is_value ? 0 : 1) : 0;
	if (la + lb > sizeof(payload))
		return -1;
	memcpy(payload, a, la);
	if (b)
		memcpy(payload + la, b, lb);
	return xenbus_request(xb, type, 0, payload, la + lb, reply, sizeof(reply)) < 0 ? -1 : 0;
}

int xenbus_read(struct xenbus *xb, const char *path, char *value, uint32_t size)
{
	int n = xenbus_request(xb, XS_READ, 0, path, (uint32_t)strlen(path) + 1, value, size - 1);
	if (n < 0)
		return -1;
	value[n] = '\0';
	return n;
}

int xenbus_read_u64(struct xenbus *xb, const char *path, uint64_t *value)
{
	char text[24];
	int n = xenbus_read(xb, path, text, sizeof(text));
	return n > 0 && parse_u64(text, (size_t)n, value) ? 0 : -1;
}

int xenbus_write(struct xenbus *xb, const char *path, const char *value)
{
	return simple(xb, XS_WRITE, path, value, true);
}

int xenbus_switch_state(struct xenbus *xb, const char *device, enum xenbus_state state)
{
	char path[XENBUS_PATH_MAX], value[4];
	gsnprintf(path, sizeof(path), "%s/state", device);
	gsnprintf(value, sizeof(value), "%d", (int)state);
	return xenbus_write(xb, path, value);
}

int xenbus_watch(struct xenbus *xb, const char *path, const char *token)
{
	return simple(xb, XS_WATCH, path, token, false);
}

int xenbus_wait_state(struct xenbus *xb, const char *device, enum xenbus_state state, int tries)
{
	char path[XENBUS_PATH_MAX];
	gsnprintf(path, sizeof(path), "%s/state", device);
	for (int i = 0; i < tries; i++) {
		uint64_t now;
		if (xenbus_read_u64(xb, path, &now) == 0 && now == (uint64_t)state)
			return 0;
		xb->wait(xb->context);
	}
	return -1;
}
