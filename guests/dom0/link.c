/*
 * link.c — reliable messages over the NE2000 (link.h gives the frame format).
 */
#include "link.h"
#include "crc32.h"
#include "guest.h"
#include "x86.h"

#define MAGIC 0x4859
#define KIND_DATA 1
#define KIND_ACK 2
#define FLAG_LAST 1
#define ETH_HEADER 14
#define LINK_HEADER 16

static const uint8_t broadcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static void put16(uint8_t *p, uint16_t x) { p[0] = (uint8_t)x; p[1] = (uint8_t)(x >> 8); }
static void put32(uint8_t *p, uint32_t x) { put16(p, (uint16_t)x); put16(p + 2, (uint16_t)(x >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }

int link_init(struct link *l, struct ne2k *card)
{
	memset(l, 0, sizeof(*l));
	l->card = card;
	/* 11932 PIT ticks are 10 ms (the 8254 counts at 1.193182 MHz). */
	uint64_t cycles = guest_pit_countdown(11932, 1ull << 40);
	if (cycles == 0)
		return -1;
	l->tsc_per_ms = cycles / 10 ? cycles / 10 : 1;
	return 0;
}

static int send_frame(struct link *l, const uint8_t mac[6], uint8_t kind, uint8_t flags, uint32_t seq,
		      const void *payload, uint16_t length)
{
	static uint8_t frame[NE2K_FRAME_MAX];
	memcpy(frame, mac, 6);
	memcpy(frame + 6, l->card->mac, 6);
	frame[12] = LINK_ETHERTYPE >> 8; /* EtherType is big-endian on the wire */
	frame[13] = LINK_ETHERTYPE & 0xff;
	uint8_t *h = frame + ETH_HEADER;
	put16(h, MAGIC);
	h[2] = kind;
	h[3] = flags;
	put32(h + 4, seq);
	put16(h + 8, length);
	put16(h + 10, 0);
	put32(h + 12, 0);
	if (length)
		memcpy(h + LINK_HEADER, payload, length);
	put32(h + 12, crc32_update(0, h, LINK_HEADER + length));
	return ne2k_send(l->card, frame, ETH_HEADER + LINK_HEADER + length);
}

/* One frame of ours from the card: 1 with its fields, 0 if none, -1 for a damaged one. */
static int take_frame(struct link *l, uint8_t *frame, uint8_t **header, uint16_t *length)
{
	int n = ne2k_receive(l->card, frame, NE2K_FRAME_MAX);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	if (n < ETH_HEADER + LINK_HEADER || frame[12] != LINK_ETHERTYPE >> 8 || frame[13] != (LINK_ETHERTYPE & 0xff))
		return 0; /* not ours: someone else's traffic */
	if (memcmp(frame, l->card->mac, 6) && memcmp(frame, broadcast_mac, 6))
		return 0;
	if (l->drop_every && ++l->drop_count % l->drop_every == 0) {
		l->dropped_on_purpose++;
		return 0;
	}
	uint8_t *h = frame + ETH_HEADER;
	uint16_t len = get16(h + 8);
	uint32_t crc = get32(h + 12);
	put32(h + 12, 0);
	if (get16(h) != MAGIC || len > n - ETH_HEADER - LINK_HEADER || crc32_update(0, h, LINK_HEADER + len) != crc) {
		l->bad_frames++;
		return -1;
	}
	*header = h;
	*length = len;
	return 1;
}

/* The conversation with @mac, started on first use (slot 0 is reused when all are taken). */
static struct link_peer *peer(struct link *l, const uint8_t *mac)
{
	for (int i = 0; i < LINK_PEERS; i++)
		if (l->peers[i].used && !memcmp(l->peers[i].mac, mac, 6))
			return &l->peers[i];
	int slot = 0;
	for (int i = 0; i < LINK_PEERS; i++)
		if (!l->peers[i].used) {
			slot = i;
			break;
		}
	l->peers[slot] = (struct link_peer){.used = true};
	memcpy(l->peers[slot].mac, mac, 6);
	return &l->peers[slot];
}

static bool expired(struct link *l, uint64_t start, uint64_t ms)
{
	return rdtsc() - start > ms * l->tsc_per_ms;
}

int link_send(struct link *l, const uint8_t mac[6], const void *message, uint32_t length)
{
	static uint8_t frame[NE2K_FRAME_MAX];
	const uint8_t *data = message;
	struct link_peer *p = peer(l, mac);
	uint32_t done = 0;
	do {
		uint16_t n = (uint16_t)(length - done < LINK_PAYLOAD_MAX ? length - done : LINK_PAYLOAD_MAX);
		uint8_t flags = done + n == length ? FLAG_LAST : 0;
		bool acknowledged = false;
		for (int attempt = 0; attempt < LINK_TRIES && !acknowledged; attempt++) {
			if (attempt)
				l->retransmits++;
			if (send_frame(l, mac, KIND_DATA, flags, p->send_seq, data + done, n))
				continue;
			for (uint64_t start = rdtsc(); !acknowledged && !expired(l, start, LINK_TIMEOUT_MS);) {
				uint8_t *h;
				uint16_t len;
				if (take_frame(l, frame, &h, &len) == 1 && h[2] == KIND_ACK && get32(h + 4) == p->send_seq &&
				    !memcmp(frame + 6, mac, 6))
					acknowledged = true;
			}
		}
		if (!acknowledged)
			return -1;
		p->send_seq++;
		done += n;
	} while (done < length);
	return 0;
}

int64_t link_receive(struct link *l, uint8_t from[6], void *buffer, uint32_t size, uint64_t timeout_ms)
{
	static uint8_t frame[NE2K_FRAME_MAX];
	uint8_t *out = buffer;
	uint32_t have = 0;
	for (uint64_t start = rdtsc(); !expired(l, start, timeout_ms);) {
		uint8_t *h;
		uint16_t len;
		if (take_frame(l, frame, &h, &len) != 1 || h[2] != KIND_DATA)
			continue;
		uint32_t seq = get32(h + 4);
		const uint8_t *sender = frame + 6;
		struct link_peer *p = peer(l, sender);
		if (have && memcmp(from, sender, 6))
			continue; /* another host, while a message from one is half here: it will send again */
		if (seq != p->receive_seq) {
			/* A frame we took already (its acknowledgement was lost): acknowledge it again. */
			if (seq + 1 == p->receive_seq) {
				l->duplicates++;
				send_frame(l, sender, KIND_ACK, 0, seq, NULL, 0);
			}
			continue;
		}
		if (have + len > size)
			return -1;
		memcpy(out + have, h + LINK_HEADER, len);
		have += len;
		memcpy(from, sender, 6);
		send_frame(l, sender, KIND_ACK, 0, seq, NULL, 0);
		p->receive_seq++;
		if (h[3] & FLAG_LAST)
			return have;
		start = rdtsc(); /* the next fragment gets the whole timeout again */
	}
	return -1;
}

void link_dally(struct link *l, uint64_t ms)
{
	static uint8_t frame[NE2K_FRAME_MAX];
	for (uint64_t start = rdtsc(); !expired(l, start, ms);) {
		uint8_t *h;
		uint16_t len;
		if (take_frame(l, frame, &h, &len) == 1 && h[2] == KIND_DATA &&
		    get32(h + 4) + 1 == peer(l, frame + 6)->receive_seq) {
			l->duplicates++;
			send_frame(l, frame + 6, KIND_ACK, 0, get32(h + 4), NULL, 0);
		}
	}
}
