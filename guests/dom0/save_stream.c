/*
 * save_stream.c — writing and reading Xen's migration stream (save_stream.h).
 *
 * The reader trusts nothing: a save file may be truncated, damaged, of
 * another version or not a save file at all, and a restore must refuse it
 * before it creates anything. So every length is checked against what the
 * record may hold and what is left, padding must be zeros, and the kit's
 * checksum record (a CRC-32 of every byte before it) must match.
 */
#include "save_stream.h"
#include "crc32.h"
#include "dom0_env.h"

#define IMAGE_MARKER 0xffffffffffffffffull
#define IMAGE_ID 0x58454e46u /* "XENF" */
#define OPTION_BIG_ENDIAN 1u
#define PAGE_SHIFT 12
#define XEN_MAJOR 4 /* the version the kit's xen_version reports (docs/hypercalls.md) */
#define XEN_MINOR 17
#define PFN_TYPE_SHIFT 60
#define PFN_TYPE_NOTAB 0x0ull /* an ordinary page, its data follows (XEN_DOMCTL_PFINFO_NOTAB) */

static void put32(uint8_t *p, uint32_t x)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(x >> (8 * i));
}
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t get32_be(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int fail(struct save_stream *s, const char *what)
{
	dom0_snprintf(s->error, sizeof(s->error), "%s (at byte %llu)", what, (unsigned long long)s->offset);
	return -1;
}

static int emit(struct save_stream *s, const void *data, uint32_t length)
{
	if (length && s->io->write(s->io->context, data, length))
		return fail(s, "the save file or link could not be written");
	s->crc = crc32_update(s->crc, data, length);
	s->offset += length;
	return 0;
}

static int take(struct save_stream *s, void *data, uint32_t length, const char *what)
{
	if (length && s->io->read(s->io->context, data, length)) {
		char text[120];
		dom0_snprintf(text, sizeof(text), "truncated: %s needs %u more bytes", what, length);
		return fail(s, text);
	}
	s->crc = crc32_update(s->crc, data, length);
	s->offset += length;
	return 0;
}

int save_write_headers(struct save_stream *s, struct save_io *io, uint32_t domain_type)
{
	uint8_t h[24 + 16] = {0};
	memset(s, 0, sizeof(*s));
	s->io = io;
	s->domain_type = domain_type;
	memset(h, 0xff, 8);
	h[8] = 'X', h[9] = 'E', h[10] = 'N', h[11] = 'F'; /* id, big-endian: 0x58454E46 */
	h[15] = SAVE_STREAM_VERSION;                      /* version, big-endian; options 0: little-endian */
	put32(h + 24, domain_type);
	h[28] = PAGE_SHIFT;
	put32(h + 32, XEN_MAJOR);
	put32(h + 36, XEN_MINOR);
	return emit(s, h, sizeof(h));
}

int save_write_record(struct save_stream *s, uint32_t type, const void *body, uint32_t length)
{
	static const uint8_t zeros[8];
	uint8_t h[8];
	put32(h, type);
	put32(h + 4, length);
	if (emit(s, h, 8) || emit(s, body, length))
		return -1;
	return emit(s, zeros, (8 - length % 8) % 8);
}

int save_write_pages(struct save_stream *s, const uint64_t *pfns, const void *pages, uint32_t count)
{
	static const uint8_t zeros[8];
	uint8_t h[16];
	uint64_t length = 8 + 8ull * count + (uint64_t)SAVE_PAGE_SIZE * count;
	if (length > SAVE_RECORD_MAX)
		return fail(s, "too many pages for one PAGE_DATA record");
	put32(h, SAVE_REC_PAGE_DATA);
	put32(h + 4, (uint32_t)length);
	put32(h + 8, count);
	put32(h + 12, 0);
	if (emit(s, h, sizeof(h)))
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		uint64_t entry = pfns[i] | PFN_TYPE_NOTAB << PFN_TYPE_SHIFT;
		uint8_t e[8];
		put32(e, (uint32_t)entry);
		put32(e + 4, (uint32_t)(entry >> 32));
		if (emit(s, e, 8))
			return -1;
	}
	if (emit(s, pages, SAVE_PAGE_SIZE * count))
		return -1;
	return emit(s, zeros, (uint32_t)((8 - length % 8) % 8));
}

int save_write_end(struct save_stream *s)
{
	uint8_t body[8] = {0};
	put32(body, s->crc); /* the CRC-32 of every byte before this record */
	if (save_write_record(s, SAVE_REC_KIT_CHECKSUM, body, sizeof(body)))
		return -1;
	return save_write_record(s, SAVE_REC_END, NULL, 0);
}

int save_read_headers(struct save_stream *s, struct save_io *io)
{
	uint8_t h[24], d[16];
	memset(s, 0, sizeof(*s));
	s->io = io;
	if (take(s, h, sizeof(h), "the image header"))
		return -1;
	for (int i = 0; i < 8; i++)
		if (h[i] != 0xff)
			return fail(s, "not a Xen save image: no 0xFF marker at its start");
	if (get32_be(h + 8) != IMAGE_ID)
		return fail(s, "not a Xen save image: its id is not \"XENF\"");
	uint32_t version = get32_be(h + 12);
	if (version != SAVE_STREAM_VERSION) {
		char text[100];
		dom0_snprintf(text, sizeof(text), "a version-%u save image: this toolstack reads version %u", version,
			      SAVE_STREAM_VERSION);
		return fail(s, text);
	}
	if ((h[16] << 8 | h[17]) & OPTION_BIG_ENDIAN)
		return fail(s, "a big-endian save image: x86 hosts write little-endian ones");
	if (take(s, d, sizeof(d), "the domain header"))
		return -1;
	s->domain_type = get32(d);
	if (s->domain_type != SAVE_DOMAIN_X86_PV && s->domain_type != SAVE_DOMAIN_X86_HVM)
		return fail(s, "the domain header names neither an x86 PV nor an x86 HVM domain");
	if ((d[4] | d[5] << 8) != PAGE_SHIFT)
		return fail(s, "pages other than 4 KiB");
	s->xen_major = get32(d + 8);
	s->xen_minor = get32(d + 12);
	return 0;
}

int save_read_record(struct save_stream *s, uint32_t *type, void *body, uint32_t size, uint32_t *length)
{
	for (;;) {
		uint8_t h[8], pad[8];
		uint32_t crc_before = s->crc;
		if (take(s, h, 8, "a record header"))
			return -1;
		*type = get32(h);
		*length = get32(h + 4);
		if (*length > SAVE_RECORD_MAX || (*length > size && !(*type & SAVE_REC_OPTIONAL))) {
			char text[100];
			dom0_snprintf(text, sizeof(text), "damaged: a record of type 0x%x claims %u bytes", *type, *length);
			return fail(s, text);
		}
		bool skip = (*type & SAVE_REC_OPTIONAL) && *type != SAVE_REC_KIT_CHECKSUM;
		if (skip) { /* an optional record this reader does not know: read past it */
			uint8_t chunk[256];
			for (uint32_t left = *length; left;) {
				uint32_t n = left < sizeof(chunk) ? left : (uint32_t)sizeof(chunk);
				if (take(s, chunk, n, "an optional record"))
					return -1;
				left -= n;
			}
		} else if (take(s, body, *length, "a record's body")) {
			return -1;
		}
		uint32_t padding = (8 - *length % 8) % 8;
		if (take(s, pad, padding, "a record's padding"))
			return -1;
		for (uint32_t i = 0; i < padding; i++)
			if (pad[i])
				return fail(s, "damaged: a record's padding is not zeros");
		if (*type == SAVE_REC_KIT_CHECKSUM) {
			if (*length != 8)
				return fail(s, "damaged: the checksum record has the wrong size");
			if (get32(body) != crc_before)
				return fail(s, "damaged: the stream's checksum does not match its bytes");
			s->checksum_seen = true;
			continue;
		}
		if (skip)
			continue;
		if (*type == SAVE_REC_END && !s->checksum_seen)
			return fail(s, "damaged: the stream ends without the kit's checksum record");
		return 0;
	}
}

int save_parse_pages(struct save_stream *s, const void *body, uint32_t length, uint32_t *count,
		     const uint64_t **pfns, const uint8_t **pages)
{
	const uint8_t *b = body;
	if (length < 8)
		return fail(s, "damaged: a PAGE_DATA record shorter than its count");
	*count = get32(b);
	if (*count == 0 || length != 8 + 8ull * *count + (uint64_t)SAVE_PAGE_SIZE * *count)
		return fail(s, "damaged: a PAGE_DATA record's length does not match its page count");
	*pfns = (const uint64_t *)(b + 8);
	for (uint32_t i = 0; i < *count; i++)
		if ((*pfns)[i] >> PFN_TYPE_SHIFT != PFN_TYPE_NOTAB)
			return fail(s, "a PAGE_DATA record with page types this toolstack does not restore");
	*pages = b + 8 + 8ull * *count;
	return 0;
}
