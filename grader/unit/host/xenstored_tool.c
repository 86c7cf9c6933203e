/*
 * xenstored_tool.c — Dom0's xenstored (guests/dom0/xenstored.c) on the host,
 * each domain's ring page an array here. For grader/unit/test_dom0_xenstored.py.
 * Commands on stdin, one per line (payloads in hex, so that a test can send anything):
 *
 *   connect D | release D
 *   req D TYPE TX HEX        a whole message into D's request ring
 *   raw D HEX                bytes into D's request ring as they are
 *   badindex D               D's req_prod jumps 5000 past req_cons
 *   deaf D                   D stops reading its response ring
 *
 * After each command xenstored is polled; every message in a response ring
 * is printed as "msg D TYPE REQ TX HEX" (and "cut D" once a domain is cut off).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"

#include "xenstored.h"

#define DOMAINS 8

static struct xenstored xs;
static struct xenstore_domain_interface rings[DOMAINS];
static bool deaf[DOMAINS], reported_cut[DOMAINS];
static uint32_t next_req[DOMAINS];

static void ring_put(int d, const uint8_t *bytes, size_t n)
{
	struct xenstore_domain_interface *r = &rings[d];
	for (size_t i = 0; i < n; i++) {
		if (r->req_prod - r->req_cons == XENSTORE_RING_SIZE) { /* full: let xenstored take some */
			xenstored_poll(&xs);
			if (r->req_prod - r->req_cons == XENSTORE_RING_SIZE)
				return;
		}
		r->req[r->req_prod & (XENSTORE_RING_SIZE - 1)] = (char)bytes[i];
		r->req_prod++;
	}
}

static void drain(void)
{
	for (int d = 0; d < DOMAINS; d++) {
		struct xenstore_domain_interface *r = &rings[d];
		while (!deaf[d] && r->rsp_prod - r->rsp_cons >= sizeof(struct xsd_sockmsg)) {
			struct xsd_sockmsg h;
			uint8_t *p = (uint8_t *)&h;
			for (size_t i = 0; i < sizeof(h); i++)
				p[i] = (uint8_t)r->rsp[(r->rsp_cons + i) & (XENSTORE_RING_SIZE - 1)];
			if (r->rsp_prod - r->rsp_cons < sizeof(h) + h.len)
				break;
			printf("msg %d %u %u %u ", d, h.type, h.req_id, h.tx_id);
			for (uint32_t i = 0; i < h.len; i++)
				printf("%02x", (uint8_t)r->rsp[(r->rsp_cons + sizeof(h) + i) & (XENSTORE_RING_SIZE - 1)]);
			printf("\n");
			r->rsp_cons += (uint32_t)sizeof(h) + h.len;
		}
	}
	for (int i = 0; i < XS_CONNECTIONS; i++) {
		struct xs_connection *c = &xs.connections[i];
		if (c->used && c->cut_off && !reported_cut[c->domid]) {
			reported_cut[c->domid] = true;
			printf("cut %u %s\n", c->domid, c->why);
		}
	}
}

int main(void)
{
	static char line[20000];
	static uint8_t bytes[10000];
	xenstored_init(&xs);
	while (fgets(line, sizeof(line), stdin)) {
		int d;
		unsigned type, tx;
		char hex[sizeof(line)];
		if (sscanf(line, "connect %d", &d) == 1) {
			xenstored_connect(&xs, (uint16_t)d, &rings[d]);
		} else if (sscanf(line, "release %d", &d) == 1) {
			xenstored_release(&xs, (uint16_t)d);
		} else if (sscanf(line, "req %d %u %u %s", &d, &type, &tx, hex) == 4 ||
			   sscanf(line, "req %d %u %u", &d, &type, &tx) == 3) {
			if (sscanf(line, "req %d %u %u %s", &d, &type, &tx, hex) != 4)
				hex[0] = '\0';
			struct xsd_sockmsg h = {type, ++next_req[d], tx, (uint32_t)unhex(hex, bytes + 16)};
			memcpy(bytes, &h, sizeof(h));
			ring_put(d, bytes, sizeof(h) + h.len);
		} else if (sscanf(line, "raw %d %s", &d, hex) == 2) {
			ring_put(d, bytes, unhex(hex, bytes));
		} else if (sscanf(line, "badindex %d", &d) == 1) {
			rings[d].req_prod = rings[d].req_cons + 5000;
		} else if (sscanf(line, "deaf %d", &d) == 1) {
			deaf[d] = true;
		}
		xenstored_poll(&xs);
		drain();
		fflush(stdout);
	}
	return 0;
}
