/*
 * blkback.c — the block backend (blkback.h): the ring, the checks, the I/O.
 */
#include "blkback.h"
#include "dom0_env.h"

#define SECTOR_SIZE 512

void blkback_init(struct blkback *b, struct blkif_sring *sring, struct blkback_disk *disk,
		  struct blkback_grants *grants)
{
	memset(b, 0, sizeof(*b));
	b->sring = sring;
	b->disk = disk;
	b->grants = grants;
	/* Every request before the last response was answered already: start after it. */
	b->req_cons = b->rsp_prod_pvt = sring->header.rsp_prod;
	sring->header.req_event = b->req_cons + 1;
}

static void cut_off(struct blkback *b, const char *why)
{
	b->cut_off = true;
	dom0_snprintf(b->why, sizeof(b->why), "%s", why);
}

/* Do one request, already copied out of the ring: the response's status. */
static int16_t do_request(struct blkback *b, const struct blkif_request *r)
{
	if (r->operation == BLKIF_OP_FLUSH_DISKCACHE)
		return b->disk->flush && b->disk->flush(b->disk->context) ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY;
	if (r->operation != BLKIF_OP_READ && r->operation != BLKIF_OP_WRITE)
		return BLKIF_RSP_EOPNOTSUPP;
	bool writing = r->operation == BLKIF_OP_WRITE;
	if (writing && b->disk->readonly)
		return BLKIF_RSP_ERROR;
	if (r->nr_segments == 0 || r->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	/* Check every segment, and the whole span against the disk, before touching anything. */
	uint64_t total = 0;
	for (int i = 0; i < r->nr_segments; i++) {
		const struct blkif_segment *s = &r->seg[i];
		if (s->first_sect > s->last_sect || s->last_sect >= BLKIF_SECTORS_PER_PAGE)
			return BLKIF_RSP_ERROR;
		total += (uint64_t)(s->last_sect - s->first_sect + 1);
	}
	if (r->sector_number > b->disk->sectors || total > b->disk->sectors - r->sector_number)
		return BLKIF_RSP_ERROR; /* past the disk's end */
	uint64_t sector = r->sector_number;
	for (int i = 0; i < r->nr_segments; i++) {
		const struct blkif_segment *s = &r->seg[i];
		/* A read writes into the frontend's page: it must be granted writable. */
		uint8_t *page = b->grants->map(b->grants->context, s->gref, !writing);
		if (!page)
			return BLKIF_RSP_ERROR;
		uint32_t count = (uint32_t)(s->last_sect - s->first_sect + 1);
		uint8_t *at = page + s->first_sect * SECTOR_SIZE;
		int err = writing ? b->disk->write(b->disk->context, sector, at, count)
				  : b->disk->read(b->disk->context, sector, at, count);
		b->grants->unmap(b->grants->context, page);
		if (err)
			return BLKIF_RSP_ERROR;
		if (writing)
			b->sectors_written += count;
		else
			b->sectors_read += count;
		sector += count;
	}
	return BLKIF_RSP_OKAY;
}

int blkback_serve(struct blkback *b, bool *notify)
{
	volatile struct xen_sring_header *h = &b->sring->header;
	int answered = 0;
	*notify = false;
	if (b->cut_off)
		return -1;
	do {
		uint32_t produced = h->req_prod;
		xen_mb(); /* the index before the requests it covers */
		if ((uint32_t)(produced - b->req_cons) > BLKIF_RING_SIZE) {
			char why[160];
			dom0_snprintf(why, sizeof(why), "req_prod %u is more than a ring (%u) ahead of the %u requests taken",
				      produced, BLKIF_RING_SIZE, b->req_cons);
			cut_off(b, why);
			return -1;
		}
		while (b->req_cons != produced) {
			/* Copy the request out first: the frontend may change the slot at any time. */
			struct blkif_request r;
			memcpy(&r, (const void *)&b->sring->ring[b->req_cons % BLKIF_RING_SIZE].request, sizeof(r));
			b->req_cons++;
			int16_t status = do_request(b, &r);
			b->requests++;
			b->errors += status != BLKIF_RSP_OKAY;
			struct blkif_response *rsp = &b->sring->ring[b->rsp_prod_pvt % BLKIF_RING_SIZE].response;
			memset(rsp, 0, sizeof(*rsp));
			rsp->id = r.id;
			rsp->operation = r.operation;
			rsp->status = status;
			b->rsp_prod_pvt++;
			answered++;
		}
		if (xen_ring_push(&h->rsp_prod, &h->rsp_event, b->rsp_prod_pvt))
			*notify = true;
	} while (xen_ring_final_check(&h->req_prod, &h->req_event, b->req_cons));
	return answered;
}
