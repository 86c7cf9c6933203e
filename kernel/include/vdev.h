/**
 * @file vdev.h
 * @brief Emulated interrupt controller (8259 PIC pair) and timer (8254 PIT) for guests.
 *
 * A guest programs these exactly as it would the real chips; the hypervisor
 * keeps their state per domain and turns "IRQ 0 fired" into a virtual
 * interrupt the vCPU receives when its (virtual) interrupt flag allows.
 */
#ifndef HYPATIA_VDEV_H
#define HYPATIA_VDEV_H

#include "types.h"

struct domain;

/** One emulated 8259A (Intel 8259A data sheet): the registers a PC OS uses. */
struct vpic_chip {
	uint8_t irr;         /**< interrupt request register: raised, not yet taken */
	uint8_t isr;         /**< in-service register: taken, not yet EOI'd */
	uint8_t imr;         /**< interrupt mask register (OCW1) */
	uint8_t vector_base; /**< ICW2: vector of IRQ 0 of this chip */
	uint8_t init_step;   /**< 0 = ready; 1..3 = expecting ICW2..ICW4 */
	bool icw4_needed;    /**< ICW1 bit 0 */
	bool read_isr;       /**< OCW3 selected ISR (else IRR) for reads of the command port */
};

/** The master/slave pair; the slave cascades into master IRQ 2. */
struct vpic {
	struct vpic_chip chip[2]; /**< [0] master (ports 0x20/0x21), [1] slave (0xa0/0xa1) */
};

/** The emulated 8254, channel 0 (the system timer on IRQ 0). */
struct vpit {
	uint16_t reload;      /**< the divisor programmed (0 means 65536) */
	uint8_t access;       /**< 1 lobyte, 2 hibyte, 3 lobyte then hibyte */
	uint8_t mode;         /**< counter mode (0 one-shot, 2/3 periodic) */
	bool write_high_next; /**< lobyte/hibyte access: the next write is the high byte */
	bool running;         /**< a count has been loaded */
	uint64_t period_ticks; /**< the period in hypervisor timer ticks (at least 1) */
	uint64_t next_tick;   /**< hypervisor tick at which IRQ 0 fires next */
};

/** Raise interrupt request line @p irq (0-15) of @p d's PIC. */
void vpic_raise_irq(struct domain *d, unsigned irq);
/**
 * The vector of the highest-priority interrupt the PIC would deliver now,
 * or -1 if none. Does not acknowledge it.
 */
int vpic_pending_vector(const struct domain *d);
/** The CPU takes the interrupt vpic_pending_vector() named: IRR -> ISR. */
void vpic_acknowledge(struct domain *d);
/** PIC port read (0x20, 0x21, 0xa0, 0xa1). */
uint32_t vpic_read(struct domain *d, uint16_t port, unsigned size);
/** PIC port write. */
void vpic_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);

/** PIT port read (0x40-0x43). */
uint32_t vpit_read(struct domain *d, uint16_t port, unsigned size);
/** PIT port write. */
void vpit_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);
/** Advance the PIT to hypervisor tick @p now, raising IRQ 0 if a period ended. */
void vpit_update(struct domain *d, uint64_t now);

#endif
