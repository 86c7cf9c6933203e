/**
 * @file ne2k.h
 * @brief Dom0's network card: an NE2000 (National Semiconductor DP8390 core) on the ISA bus.
 *
 * The hosts of labs 5-6 talk through it (DESIGN §10): each host is one QEMU
 * process, its card `-device ne2k_isa` (port 0x300), the cards joined by
 * QEMU's `-netdev stream` over 127.0.0.1. The NE2000 is driven by port I/O
 * only — the card's 16 KiB buffer is reached through its "remote DMA" data
 * port, not by DMA into host memory — so Dom0 needs no IOMMU (ne2k.c says how).
 */
#ifndef DOM0_NE2K_H
#define DOM0_NE2K_H

#include <stdbool.h>
#include <stdint.h>

#define NE2K_FRAME_MAX 1514 /**< an Ethernet frame without its CRC (the card adds and strips it) */
#define NE2K_FRAME_MIN 60   /**< shorter frames are padded with zeros */

/** The card, once found. */
struct ne2k {
	bool present;
	uint16_t base;       /**< its I/O base (0x300) */
	uint8_t mac[6];      /**< from the card's address PROM */
	uint8_t next_page;   /**< the receive ring's next packet, as this driver has read it */
	uint64_t sent, received, dropped; /**< frames */
};

/** Find and start the card at @p base; 0, or -1 when no NE2000 answers there. */
int ne2k_init(struct ne2k *card, uint16_t base);
/** Send one frame (destination MAC first); 0, or -1 (too long, or the card reported an error). */
int ne2k_send(struct ne2k *card, const void *frame, unsigned length);
/** Take the next received frame if there is one: its length, 0 if none waits, -1 on a ring error. */
int ne2k_receive(struct ne2k *card, void *frame, unsigned size);

#endif
