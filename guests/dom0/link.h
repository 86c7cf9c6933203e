/**
 * @file link.h
 * @brief The hosts' link: reliable messages between Dom0s over raw Ethernet.
 *
 * The kit's own protocol (DESIGN §10), the smallest that is reliable on a
 * link that may lose, damage or repeat frames: every frame carries a
 * sequence number and a CRC-32; the receiver acknowledges each data frame it
 * takes; the sender sends one frame at a time and sends it again until it is
 * acknowledged (stop-and-wait ARQ, as in TFTP, RFC 1350), up to a limit.
 * A message longer than a frame travels as fragments, the last one flagged.
 * EtherType 0x88B5 is IEEE 802's "Local Experimental Ethertype 1".
 *
 * Frame after the Ethernet header: u16 magic 0x4859 ("HY"), u8 kind (1 data,
 * 2 acknowledgement), u8 flags (1: a message's last fragment), u32 sequence,
 * u16 payload length, u16 zero, u32 CRC-32 of this header (with the CRC
 * field 0) and the payload; all little-endian.
 */
#ifndef DOM0_LINK_H
#define DOM0_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "ne2k.h"

#define LINK_ETHERTYPE 0x88b5
#define LINK_PAYLOAD_MAX (NE2K_FRAME_MAX - 14 - 16)
#define LINK_TIMEOUT_MS 50  /**< how long a sender waits for an acknowledgement */
#define LINK_TRIES 40       /**< sends of one frame before the link counts as down */

#define LINK_PEERS 16 /**< other hosts this one keeps sequence numbers for */

/** The sequence numbers of the conversation with one other host: each pair of hosts numbers its
 *  own frames, so that any host may talk to several, one after another. */
struct link_peer {
	bool used;
	uint8_t mac[6];
	uint32_t send_seq;    /**< our next data frame to it */
	uint32_t receive_seq; /**< the data frame from it we take next */
};

/** One end of the link. */
struct link {
	struct ne2k *card;
	struct link_peer peers[LINK_PEERS];
	uint64_t tsc_per_ms;        /**< for the timeouts (measured against the PIT) */
	uint32_t drop_every;        /**< fault injection: ignore every Nth frame received (0: none) */
	uint32_t drop_count;
	uint64_t retransmits, bad_frames, duplicates, dropped_on_purpose;
};

/** Set up @p link over @p card; 0, or -1 if the clock cannot be measured. */
int link_init(struct link *link, struct ne2k *card);
/** Send @p length bytes to @p mac reliably; 0, or -1 when the peer never acknowledged. */
int link_send(struct link *link, const uint8_t mac[6], const void *message, uint32_t length);
/**
 * Receive one whole message (of at most @p size bytes) within @p timeout_ms;
 * its length and its sender in @p from, or -1 (timeout, or too long).
 */
int64_t link_receive(struct link *link, uint8_t from[6], void *buffer, uint32_t size, uint64_t timeout_ms);
/**
 * Stay @p ms acknowledging the last data frame again if it comes again: its
 * acknowledgement may have been lost, and its sender will not stop sending
 * it until one arrives (TFTP's "dallying", RFC 1350 §6). For after a session's last message.
 */
void link_dally(struct link *link, uint64_t ms);
#endif
