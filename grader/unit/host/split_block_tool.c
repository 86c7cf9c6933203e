/*
 * split_block_tool.c — Xen's block split driver end to end, in one host
 * process: Dom0's xenstored, the toolstack's device nodes and the backend
 * (guests/dom0/vbd.c, blkback.c) on one side, the guest runtime's xenbus
 * client and blkfront (guests/lib/xenbus.c, blkfront.c) on the other, with a
 * grant table and event channels standing in for the hypervisor's. For
 * grader/unit/test_dom0_split_block.py.
 *
 *   split_block_tool IMAGE [readonly] [bad-ring|bad-port]
 * then on stdin: write SECTOR COUNT SEED | read SECTOR COUNT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkfront.h"
#include "vbd.h"
#include "xenstored.h"

static struct xenstored xs;
static struct xenstore_domain_interface ring0, ring1;
static struct xenbus xb0, xb1;
static struct vbd vbd;
static FILE *image;
static const char *fault = "";

/* --- the hypervisor's part, stood in for: grants and event channels ----------------------- */
struct grant { int used; uint16_t owner, to; void *page; int readonly; };
static struct grant grants[16];
static uint32_t ports_remote[16], port_count = 1;

static int64_t grant(void *c, uint16_t to, void *page, bool readonly)
{
	(void)c;
	for (int i = 8; i < 16; i++) /* refs 0-7 are reserved (xen-abi.md) */
		if (!grants[i].used) {
			grants[i] = (struct grant){1, 1, to, page, readonly};
			return !strcmp(fault, "bad-ring") && i == 8 ? 999 : i;
		}
	return -1;
}
static void end_grant(void *c, uint32_t gref) { (void)c; if (gref < 16) grants[gref].used = 0; }
static int64_t alloc_port(void *c, uint16_t remote)
{
	(void)c;
	ports_remote[port_count] = remote;
	return !strcmp(fault, "bad-port") ? 77 : port_count++;
}
static void notify(void *c, uint32_t port) { (void)c, (void)port; }

static void *map_ring(void *c, uint16_t domid, uint32_t gref)
{
	(void)c;
	if (gref >= 16 || !grants[gref].used || grants[gref].owner != domid || grants[gref].to != 0)
		return NULL;
	return grants[gref].page;
}
static int64_t bind_port(void *c, uint16_t domid, uint32_t port)
{
	(void)c, (void)domid;
	return port > 0 && port < port_count && ports_remote[port] == 0 ? (int64_t)(100 + port) : -1;
}
static void *map_data(void *c, uint32_t gref, bool writable)
{
	(void)c;
	if (gref >= 16 || !grants[gref].used || grants[gref].to != 0 || (writable && grants[gref].readonly))
		return NULL;
	return grants[gref].page;
}
static void unmap_data(void *c, void *page) { (void)c, (void)page; }

/* --- the disk: the image file ------------------------------------------------------------- */
static int disk_read(void *c, uint64_t s, void *b, uint32_t n)
{
	(void)c;
	return fseek(image, (long)(s * 512), SEEK_SET) || fread(b, 512, n, image) != n;
}
static int disk_write(void *c, uint64_t s, const void *b, uint32_t n)
{
	(void)c;
	return fseek(image, (long)(s * 512), SEEK_SET) || fwrite(b, 512, n, image) != n;
}
static int disk_flush(void *c) { (void)c; return fflush(image); }

/* --- how the two sides take turns ------------------------------------------------------------ */
static void dom0_step(void *c) { (void)c; xenstored_poll(&xs); }
static void world_step(void *c)
{
	(void)c;
	xenstored_poll(&xs);
	vbd_poll(&vbd); /* Dom0's event loop: the backend's handshake, then its ring */
	xenstored_poll(&xs);
}

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
	static uint8_t ring_page[4096] __attribute__((aligned(4096))), data_page[4096] __attribute__((aligned(4096)));
	static uint8_t buffer[1 << 20];
	static struct blkback_disk disk = {NULL, 0, false, disk_read, disk_write, disk_flush};
	static struct blkback_grants blk_grants = {NULL, map_data, unmap_data};
	static struct blkfront_ops front_ops = {NULL, grant, end_grant, alloc_port, notify, world_step};
	static struct vbd_ops back_ops = {NULL, map_ring, bind_port, notify};
	static struct blkfront front;
	char line[256];
	if (argc < 2 || !(image = fopen(argv[1], "r+b")))
		return 2;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "readonly"))
			disk.readonly = true;
		else
			fault = argv[i];
	}
	fseek(image, 0, SEEK_END);
	disk.sectors = (uint64_t)ftell(image) / 512;
	xenstored_init(&xs);
	xenstored_connect(&xs, 0, &ring0);
	xenstored_connect(&xs, 1, &ring1);
	xenbus_init(&xb0, &ring0, dom0_step, dom0_step, NULL);
	xenbus_init(&xb1, &ring1, dom0_step, world_step, NULL);
	if (vbd_add(&xb0, 1, 51712, "/disks/xvda.img", disk.readonly) ||
	    vbd_start(&vbd, &xb0, &back_ops, 1, 51712, &disk, &blk_grants)) {
		printf("toolstack error: %s\n", xb0.error);
		return 1;
	}
	if (blkfront_connect(&front, &xb1, &front_ops, 51712, ring_page, data_page)) {
		printf("frontend error: %s\n", front.error);
		char state[8];
		xenbus_read(&xb0, "/local/domain/0/backend/vbd/1/51712/state", state, sizeof(state));
		printf("backend state %s\n", state);
		return 1;
	}
	printf("connected: %llu sectors, backend %s\n", (unsigned long long)front.sectors, front.backend);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long sector, count, seed;
		if (sscanf(line, "write %llu %llu %llu", &sector, &count, &seed) == 3) {
			uint64_t state = seed;
			for (uint64_t w = 0; w < count * 64; w++)
				((uint64_t *)buffer)[w] = splitmix(&state);
			if (blkfront_transfer(&front, true, sector, buffer, (uint32_t)count))
				printf("write failed: %s\n", front.error);
			else
				printf("write ok\n");
		} else if (sscanf(line, "read %llu %llu", &sector, &count) == 2) {
			if (blkfront_transfer(&front, false, sector, buffer, (uint32_t)count)) {
				printf("read failed: %s\n", front.error);
				continue;
			}
			uint64_t h = 0xcbf29ce484222325ull;
			for (uint64_t i = 0; i < count * 512; i++)
				h = (h ^ buffer[i]) * 0x100000001b3ull;
			printf("read fnv %016llx\n", (unsigned long long)h);
		}
		fflush(stdout);
	}
	return 0;
}
