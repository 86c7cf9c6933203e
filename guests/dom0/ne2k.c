/*
 * ne2k.c — the NE2000 by polling (ne2k.h says why this card).
 *
 * The DP8390 (National Semiconductor's data sheet, "DP8390D/NS32490D Network
 * Interface Controller", 1996) keeps frames in the card's own 16 KiB RAM,
 * 256-byte pages 0x40-0x7f on an NE2000. The host moves bytes in and out of
 * that RAM through "remote DMA": it writes a start address and a byte count,
 * starts a remote read or write, and then moves words through the data port
 * (base + 0x10). Transmission sends what sits at TPSR; reception fills a ring
 * of pages between PSTART and PSTOP, each frame behind a 4-byte header
 * (status, next page, length), CURR where the card writes next and BNRY just
 * behind what the host has read.
 */
#include "ne2k.h"
#include "guest.h"
#include "x86.h"

/* Page-0 registers (data sheet, "Register Descriptions"); page 1 holds PAR0-5, CURR, MAR0-7. */
#define CR 0x00      /* command: page select (bits 6-7), remote DMA (3-5), TXP (2), STA (1), STP (0) */
#define PSTART 0x01
#define PSTOP 0x02
#define BNRY 0x03
#define TPSR 0x04
#define TBCR0 0x05
#define TBCR1 0x06
#define ISR 0x07     /* interrupt status: written 1s clear */
#define RSAR0 0x08
#define RSAR1 0x09
#define RBCR0 0x0a
#define RBCR1 0x0b
#define RCR 0x0c
#define TCR 0x0d
#define DCR 0x0e
#define IMR 0x0f
#define PAR0 0x01    /* page 1 */
#define CURR 0x07    /* page 1 */
#define MAR0 0x08    /* page 1 */
#define DATA 0x10
#define RESET 0x1f

#define CR_STP 0x01
#define CR_STA 0x02
#define CR_TXP 0x04
#define CR_RD_READ 0x08
#define CR_RD_WRITE 0x10
#define CR_RD_ABORT 0x20
#define CR_PAGE1 0x40

#define ISR_PRX 0x01  /* packet received */
#define ISR_PTX 0x02  /* packet transmitted */
#define ISR_TXE 0x08  /* transmit error */
#define ISR_OVW 0x10  /* receive ring overwrite */
#define ISR_RDC 0x40  /* remote DMA complete */
#define ISR_RST 0x80  /* reset state */

#define DCR_WORD 0x01 /* 16-bit transfers */
#define DCR_LS 0x08   /* normal operation (not loopback) */
#define DCR_FIFO8 0x40
#define RCR_AB 0x04   /* accept broadcast */
#define TCR_LOOPBACK 0x02

/* The NE2000's buffer: 6 pages to transmit from, the rest a receive ring. */
#define TX_PAGE 0x40
#define RX_FIRST 0x46
#define RX_STOP 0x80

#define POLL_LIMIT 1000000u

static uint8_t reg_in(struct ne2k *c, int reg) { return inb((uint16_t)(c->base + reg)); }
static void reg_out(struct ne2k *c, int reg, uint8_t value) { outb((uint16_t)(c->base + reg), value); }

static int wait_isr(struct ne2k *c, uint8_t bits)
{
	for (uint32_t i = 0; i < POLL_LIMIT; i++) {
		uint8_t isr = reg_in(c, ISR);
		if (isr & bits) {
			reg_out(c, ISR, isr & bits); /* acknowledge exactly what was awaited */
			return isr;
		}
	}
	return -1;
}

/* Set up a remote DMA of @count bytes at card address @address in direction @command. */
static void remote_dma(struct ne2k *c, uint16_t address, uint16_t count, uint8_t command)
{
	reg_out(c, RBCR0, (uint8_t)count);
	reg_out(c, RBCR1, (uint8_t)(count >> 8));
	reg_out(c, RSAR0, (uint8_t)address);
	reg_out(c, RSAR1, (uint8_t)(address >> 8));
	reg_out(c, CR, command | CR_STA);
}

/* Copy @count bytes from card memory at @address (a word at a time; @count rounded up). */
static int card_read(struct ne2k *c, uint16_t address, void *buffer, uint16_t count)
{
	uint8_t *out = buffer;
	uint16_t words = (uint16_t)((count + 1) / 2);
	remote_dma(c, address, (uint16_t)(words * 2), CR_RD_READ);
	for (uint16_t i = 0; i < words; i++) {
		uint16_t w = inw((uint16_t)(c->base + DATA));
		out[2 * i] = (uint8_t)w;
		if (2 * i + 1 < count)
			out[2 * i + 1] = (uint8_t)(w >> 8);
	}
	return wait_isr(c, ISR_RDC) < 0 ? -1 : 0;
}

int ne2k_init(struct ne2k *c, uint16_t base)
{
	uint8_t prom[32];
	memset(c, 0, sizeof(*c));
	c->base = base;
	/* A read of the reset port resets the card; it then shows ISR.RST. */
	reg_out(c, RESET, reg_in(c, RESET));
	if (wait_isr(c, ISR_RST) < 0)
		return -1;
	reg_out(c, CR, CR_STP | CR_RD_ABORT);
	reg_out(c, DCR, DCR_WORD | DCR_LS | DCR_FIFO8);
	reg_out(c, RBCR0, 0);
	reg_out(c, RBCR1, 0);
	reg_out(c, RCR, 0x20);          /* monitor mode while setting up: accept nothing */
	reg_out(c, TCR, TCR_LOOPBACK);
	reg_out(c, PSTART, RX_FIRST);
	reg_out(c, PSTOP, RX_STOP);
	reg_out(c, BNRY, RX_FIRST);
	reg_out(c, ISR, 0xff);
	reg_out(c, IMR, 0);             /* no interrupts: Dom0 polls */
	/* The station address PROM sits at card address 0, each byte doubled in word mode. */
	if (card_read(c, 0, prom, sizeof(prom)))
		return -1;
	for (int i = 0; i < 6; i++)
		c->mac[i] = prom[2 * i];
	if (prom[28] != 'W' || prom[30] != 'W')
		return -1; /* NE2000 PROMs end in "WW" (bytes 0x1c and 0x1e) */
	reg_out(c, CR, CR_PAGE1 | CR_STP | CR_RD_ABORT);
	for (int i = 0; i < 6; i++)
		reg_out(c, PAR0 + i, c->mac[i]);
	for (int i = 0; i < 8; i++)
		reg_out(c, MAR0 + i, 0);    /* no multicast */
	reg_out(c, CURR, RX_FIRST);
	c->next_page = RX_FIRST;
	reg_out(c, CR, CR_STA | CR_RD_ABORT);
	reg_out(c, TCR, 0);             /* normal transmission */
	reg_out(c, RCR, RCR_AB);        /* our address and broadcasts */
	c->present = true;
	return 0;
}

int ne2k_send(struct ne2k *c, const void *frame, unsigned length)
{
	const uint8_t *in = frame;
	uint8_t padded[NE2K_FRAME_MIN];
	if (length > NE2K_FRAME_MAX)
		return -1;
	if (length < NE2K_FRAME_MIN) {
		memset(padded, 0, sizeof(padded));
		memcpy(padded, frame, length);
		in = padded;
		length = NE2K_FRAME_MIN;
	}
	uint16_t words = (uint16_t)((length + 1) / 2);
	remote_dma(c, TX_PAGE << 8, (uint16_t)(words * 2), CR_RD_WRITE);
	for (uint16_t i = 0; i < words; i++) {
		uint16_t lo = in[2 * i], hi = 2u * i + 1 < length ? in[2 * i + 1] : 0;
		outw((uint16_t)(c->base + DATA), (uint16_t)(lo | hi << 8));
	}
	if (wait_isr(c, ISR_RDC) < 0)
		return -1;
	reg_out(c, TPSR, TX_PAGE);
	reg_out(c, TBCR0, (uint8_t)length);
	reg_out(c, TBCR1, (uint8_t)(length >> 8));
	reg_out(c, CR, CR_STA | CR_TXP | CR_RD_ABORT);
	int isr = wait_isr(c, ISR_PTX | ISR_TXE);
	if (isr < 0 || (isr & ISR_TXE))
		return -1;
	c->sent++;
	return 0;
}

int ne2k_receive(struct ne2k *c, void *frame, unsigned size)
{
	uint8_t header[4];
	reg_out(c, CR, CR_PAGE1 | CR_STA | CR_RD_ABORT);
	uint8_t current = reg_in(c, CURR);
	reg_out(c, CR, CR_STA | CR_RD_ABORT);
	if (current == c->next_page)
		return 0; /* the card has written nothing new */
	if (card_read(c, (uint16_t)(c->next_page << 8), header, sizeof(header)))
		return -1;
	uint8_t next = header[1];
	unsigned length = (unsigned)(header[2] | header[3] << 8);
	if (next < RX_FIRST || next >= RX_STOP || length < 4 + 14 || length > 4 + NE2K_FRAME_MAX + 4) {
		/* A damaged ring: start it again empty rather than read garbage. */
		reg_out(c, CR, CR_PAGE1 | CR_STA | CR_RD_ABORT);
		reg_out(c, CURR, RX_FIRST);
		reg_out(c, CR, CR_STA | CR_RD_ABORT);
		reg_out(c, BNRY, RX_FIRST);
		c->next_page = RX_FIRST;
		c->dropped++;
		return -1;
	}
	length -= 4; /* the count includes the header */
	unsigned copy = length < size ? length : size;
	/* The frame may wrap from the ring's end to its start. */
	uint16_t start = (uint16_t)((c->next_page << 8) + 4);
	unsigned before_end = (unsigned)((RX_STOP << 8) - start);
	int err = 0;
	if (copy <= before_end) {
		err = card_read(c, start, frame, (uint16_t)copy);
	} else {
		err = card_read(c, start, frame, (uint16_t)before_end) ||
		      card_read(c, RX_FIRST << 8, (uint8_t *)frame + before_end, (uint16_t)(copy - before_end));
	}
	c->next_page = next;
	/* BNRY trails the next page to read by one: the card never writes past it. */
	reg_out(c, BNRY, next == RX_FIRST ? RX_STOP - 1 : next - 1);
	reg_out(c, ISR, ISR_PRX | ISR_OVW);
	if (err)
		return -1;
	c->received++;
	return (int)copy;
}
