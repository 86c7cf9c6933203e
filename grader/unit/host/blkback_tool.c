/*
 * blkback_tool.c — Dom0's block backend (guests/dom0/blkback.c) on the host,
 * serving a ring that a small frontend in this file fills: the disk is an
 * image file, the "grant table" an array of pages with their permissions.
 * For grader/unit/test_dom0_blkback.py. Commands on stdin, one per line:
 *
 *   write SECTOR COUNT SEED     COUNT sectors of SplitMix64(SEED) data, in pages of 8
 *   read SECTOR COUNT           prints "read fnv <hash>" of the sectors read
 *   raw OP NSEG SECTOR FIRST LAST GREF   one hand-made request (a test of the checks)
 *   flood N                     req_prod jumps N requests ahead of what was written
 *   stats
 *
 * Every response prints "rsp <id> op <op> status <status>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blkback.h"

#define GRANTS 64

static FILE *image;
static uint8_t pages[GRANTS][4096] __attribute__((aligned(4096)));
static bool granted[GRANTS], grant_readonly[GRANTS];
static struct blkif_sring sring __attribute__((aligned(4096)));
static uint32_t req_prod_pvt, rsp_cons, next_id = 1;

static int disk_read(void *c, uint64_t sector, void *buffer, uint32_t count)
{
	(void)c;
	return fseek(image, (long)(sector * 512), SEEK_SET) || fread(buffer, 512, count, image) != count;
}

static int disk_write(void *c, uint64_t sector, const void *buffer, uint32_t count)
{
	(void)c;
	return fseek(image, (long)(sector * 512), SEEK_SET) || fwrite(buffer, 512, count, image) != count;
}

static int disk_flush(void *c)
{
	(void)c;
	return fflush(image);
}

static void *grant_map(void *c, uint32_t gref, bool writable)
{
	(void)c;
	if (gref >= GRANTS || !granted[gref] || (writable && grant_readonly[gref]))
		return NULL;
	return pages[gref];
}

static void grant_unmap(void *c, void *page)
{
	(void)c, (void)page;
}

static uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static struct blkback back;

/* Publish the frontend's requests, let the backend serve them, print the responses. */
static void kick(void)
{
	bool notify;
	xen_ring_push(&sring.header.req_prod, &sring.header.req_event, req_prod_pvt);
	if (blkback_serve(&back, &notify) < 0)
		printf("cut off: %s\n", back.why);
	while (rsp_cons != sring.header.rsp_prod) {
		struct blkif_response *r = &sring.ring[rsp_cons++ % BLKIF_RING_SIZE].response;
		printf("rsp %llu op %u status %d\n", (unsigned long long)r->id, r->operation, r->status);
	}
}

static struct blkif_request *new_request(uint8_t op, uint64_t sector)
{
	struct blkif_request *r = &sring.ring[req_prod_pvt++ % BLKIF_RING_SIZE].request;
	memset(r, 0, sizeof(*r));
	r->operation = op;
	r->id = next_id++;
	r->sector_number = sector;
	return r;
}

/* Whole pages of the transfer as segments, up to 11 per request. */
static void transfer(uint8_t op, uint64_t sector, uint32_t count)
{
	uint32_t page = 0;
	while (count) {
		struct blkif_request *r = new_request(op, sector);
		while (count && r->nr_segments < BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			uint32_t n = count < 8 ? count : 8;
			r->seg[r->nr_segments++] = (struct blkif_segment){page, 0, (uint8_t)(n - 1), 0};
			granted[page] = true;
			grant_readonly[page] = op == BLKIF_OP_WRITE; /* a write only reads the page */
			page++;
			count -= n;
			sector += n;
		}
		kick();
	}
}

int main(int argc, char **argv)
{
	char line[256];
	if (argc != 2 || !(image = fopen(argv[1], "r+b")))
		return 2;
	fseek(image, 0, SEEK_END);
	static struct blkback_disk disk = {NULL, 0, false, disk_read, disk_write, disk_flush};
	static struct blkback_grants grants = {NULL, grant_map, grant_unmap};
	disk.sectors = (uint64_t)ftell(image) / 512;
	sring.header.req_event = sring.header.rsp_event = 1;
	blkback_init(&back, &sring, &disk, &grants);
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long a, b, c;
		unsigned op, nseg, first, last, gref;
		if (sscanf(line, "write %llu %llu %llu", &a, &b, &c) == 3) {
			uint64_t state = c;
			for (uint32_t p = 0; p < (b + 7) / 8; p++)
				for (int w = 0; w < 512; w++)
					((uint64_t *)pages[p])[w] = splitmix(&state);
			transfer(BLKIF_OP_WRITE, a, (uint32_t)b);
		} else if (sscanf(line, "read %llu %llu", &a, &b) == 2) {
			memset(pages, 0, sizeof(pages));
			transfer(BLKIF_OP_READ, a, (uint32_t)b);
			uint64_t h = 0xcbf29ce484222325ull;
			for (uint32_t s = 0; s < b; s++)
				h = fnv(h, pages[s / 8] + (s % 8) * 512, 512);
			printf("read fnv %016llx\n", (unsigned long long)h);
		} else if (sscanf(line, "raw %u %u %llu %u %u %u", &op, &nseg, &a, &first, &last, &gref) == 6) {
			struct blkif_request *r = new_request((uint8_t)op, a);
			r->nr_segments = (uint8_t)nseg;
			for (int i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
				r->seg[i] = (struct blkif_segment){gref, (uint8_t)first, (uint8_t)last, 0};
			granted[0] = true;
			grant_readonly[0] = true;
			kick();
		} else if (sscanf(line, "flood %llu", &a) == 1) {
			req_prod_pvt += (uint32_t)a;
			kick();
		} else if (!strncmp(line, "stats", 5)) {
			printf("stats requests %llu errors %llu read %llu written %llu\n",
			       (unsigned long long)back.requests, (unsigned long long)back.errors,
			       (unsigned long long)back.sectors_read, (unsigned long long)back.sectors_written);
		}
		fflush(stdout);
	}
	return fclose(image) != 0;
}
