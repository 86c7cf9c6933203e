/**
 * @file save_stream.h
 * @brief The domain save image: Xen's migration stream (libxc format, version 3).
 *
 * `xl save`, `xl restore` and the migrations of labs 5-6 move a domain as one
 * byte stream, laid out as Xen's toolstack lays it out (Xen's
 * docs/specs/libxc-migration-stream.pandoc):
 *
 *  - an image header, 24 bytes: marker 0xFFFFFFFFFFFFFFFF, id "XENF"
 *    (0x58454E46), version 3, options (bit 0: big-endian) — id, version and
 *    options in network byte order, so that a stream of any origin is
 *    recognised; everything after it is little-endian;
 *  - a domain header, 16 bytes: type (1 x86 PV, 2 x86 HVM), page shift (12),
 *    the Xen version it came from;
 *  - records, each {u32 type, u32 body length, body, zeros to a multiple of 8},
 *    the last one END. A record whose type has bit 31 set is optional: a
 *    reader that does not know it skips it (the kit's own state travels so).
 *
 * The writer and the reader here know only that framing, PAGE_DATA's layout
 * and the kit's stream checksum; what a record holds is the saver's business.
 * Every byte goes through two callbacks, so the same code writes a file on
 * Dom0's disk (`xl save`) and a migration over the hosts' link.
 */
#ifndef DOM0_SAVE_STREAM_H
#define DOM0_SAVE_STREAM_H

#include <stdbool.h>
#include <stdint.h>

/** @name Record types (Xen's libxc-migration-stream.pandoc, and the kit's optional ones)
 * @{ */
#define SAVE_REC_END 0x00000000u
#define SAVE_REC_PAGE_DATA 0x00000001u
#define SAVE_REC_SHARED_INFO 0x00000007u
#define SAVE_REC_X86_TSC_INFO 0x00000008u
#define SAVE_REC_HVM_CONTEXT 0x00000009u
#define SAVE_REC_HVM_PARAMS 0x0000000au
#define SAVE_REC_VERIFY 0x0000000du
#define SAVE_REC_STATIC_DATA_END 0x00000010u
#define SAVE_REC_OPTIONAL 0x80000000u           /**< bit 31: a reader may skip the record */
#define SAVE_REC_KIT_CHECKSUM (SAVE_REC_OPTIONAL | 0x4859) /**< CRC-32 of every byte before it */
/** @} */

#define SAVE_DOMAIN_X86_PV 1u  /**< domain header type */
#define SAVE_DOMAIN_X86_HVM 2u
#define SAVE_STREAM_VERSION 3u
#define SAVE_PAGE_SIZE 4096u
#define SAVE_RECORD_MAX (16u << 20) /**< the largest body this reader takes */

/** Where the bytes go or come from: 0, or -1 (the disk or the link failed). */
struct save_io {
	void *context;
	int (*write)(void *context, const void *data, uint32_t length);
	int (*read)(void *context, void *data, uint32_t length); /**< exactly @p length bytes, or -1 */
};

/** A stream being written or read. */
struct save_stream {
	struct save_io *io;
	uint64_t offset;       /**< bytes so far, for error messages */
	uint32_t crc;          /**< CRC-32 of every byte so far */
	uint32_t domain_type;  /**< from the domain header */
	uint32_t xen_major, xen_minor;
	bool checksum_seen;
	char error[160];       /**< what was wrong, when a call failed */
};

/** Start a stream: the image and domain headers. 0 or -1. */
int save_write_headers(struct save_stream *s, struct save_io *io, uint32_t domain_type);
/** One record: header, @p length bytes of @p body (may be NULL with length 0), padding. */
int save_write_record(struct save_stream *s, uint32_t type, const void *body, uint32_t length);
/** A PAGE_DATA record of @p count pages (pfns[i] names pages[i]); every page is data (type NOTAB). */
int save_write_pages(struct save_stream *s, const uint64_t *pfns, const void *pages, uint32_t count);
/** End a stream: the kit's checksum record, then END. */
int save_write_end(struct save_stream *s);

/** Read and check both headers; -1 with s->error saying what is wrong. */
int save_read_headers(struct save_stream *s, struct save_io *io);
/**
 * Read the next record into @p body (at most @p size bytes); fills @p type and
 * @p length. Skips optional records it does not know, checks the checksum
 * record. 0, or -1 with s->error ("truncated at byte N", "damaged", ...).
 */
int save_read_record(struct save_stream *s, uint32_t *type, void *body, uint32_t size, uint32_t *length);
/** Split a PAGE_DATA body (read into an 8-byte aligned buffer): its count, pfn list and page data,
 *  checked against its length; -1 if malformed. */
int save_parse_pages(struct save_stream *s, const void *body, uint32_t length, uint32_t *count,
		     const uint64_t **pfns, const uint8_t **pages);

#endif
