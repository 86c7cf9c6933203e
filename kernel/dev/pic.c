/*
 * pic.c — an emulated 8259A pair, as PC operating systems program it.
 *
 * Initialisation is a sequence of writes: ICW1 on the command port, then
 * ICW2 (vector base), ICW3 (cascade wiring) and, if ICW1 asked, ICW4 on the
 * data port. Afterwards the data port is the mask (OCW1) and the command
 * port takes EOIs (OCW2) and register-select commands (OCW3). Priorities
 * are fixed: IRQ 0 highest (Intel 8259A data sheet, "Operation").
 *
 * Inputs are edge-triggered, as a PC's ISA lines are: a request is latched
 * in IRR when a line goes from low to high, and stays there until the CPU
 * takes it, whatever the line does meanwhile. The slave's output is master
 * input 2: the master sees a request there while the slave has one to give.
 */
#include "domain.h"
#include "vdev.h"

#define ICW1_INIT 0x10
#define ICW1_NEED_ICW4 0x01
#define ICW4_AUTO_EOI 0x02
#define OCW2_EOI 0x20
#define OCW2_SPECIFIC 0x40
#define OCW3 0x08
#define CASCADE_IRQ 2

static struct vpic_chip *chip_for(struct domain *d, uint16_t port)
{
	return &d->pic.chip[port >= 0xa0];
}

void vpic_set_irq(struct domain *d, unsigned irq, bool level)
{
	if (irq >= 16)
		return;
	struct vpic_chip *c = &d->pic.chip[irq >= 8];
	uint8_t bit = (uint8_t)(1u << (irq % 8));
	if (level && !(c->lines & bit))
		c->irr |= bit;
	c->lines = level ? c->lines | bit : c->lines & ~bit;
}

void vpic_raise_irq(struct domain *d, unsigned irq)
{
	vpic_set_irq(d, irq, true);
	vpic_set_irq(d, irq, false);
}

/* The lowest-numbered requested, unmasked IRQ with nothing of higher or equal
 * priority in service; -1 if none. @p irr is the chip's requests. */
static int chip_pending(const struct vpic_chip *c, uint8_t irr)
{
	if (!(irr & ~c->imr))
		return -1; /* nothing requested: the common case, asked at every exit */
	for (int irq = 0; irq < 8; irq++) {
		if (c->isr & (1u << irq))
			return -1;
		if ((irr & ~c->imr) & (1u << irq))
			return irq;
	}
	return -1;
}

/* The master's requests: its own, plus input 2 while the slave has one. */
static uint8_t master_requests(const struct domain *d)
{
	const struct vpic_chip *slave = &d->pic.chip[1];
	bool slave_out = !slave->init_step && chip_pending(slave, slave->irr) >= 0;
	return (uint8_t)((d->pic.chip[0].irr & ~(1u << CASCADE_IRQ)) | (slave_out ? 1u << CASCADE_IRQ : 0));
}

int vpic_pending_vector(const struct domain *d)
{
	const struct vpic_chip *master = &d->pic.chip[0], *slave = &d->pic.chip[1];
	if (master->init_step)
		return -1;
	int irq = chip_pending(master, master_requests(d));
	if (irq < 0)
		return -1;
	if (irq == CASCADE_IRQ)
		return slave->vector_base + chip_pending(slave, slave->irr);
	return master->vector_base + irq;
}

/* The CPU's interrupt acknowledge: the request moves from IRR to ISR (or,
 * in automatic-EOI mode, is simply taken). */
static void take(struct vpic_chip *c, int irq)
{
	c->irr &= (uint8_t)~(1u << irq);
	if (!c->auto_eoi)
		c->isr |= (uint8_t)(1u << irq);
}

void vpic_acknowledge(struct domain *d)
{
	struct vpic_chip *master = &d->pic.chip[0], *slave = &d->pic.chip[1];
	int irq = chip_pending(master, master_requests(d));
	if (irq < 0)
		return;
	take(master, irq);
	if (irq == CASCADE_IRQ)
		take(slave, chip_pending(slave, slave->irr));
}

uint32_t vpic_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)size;
	struct vpic_chip *c = chip_for(d, port);
	if (port & 1)
		return c->imr;
	if (c->read_isr)
		return c->isr;
	return c == &d->pic.chip[0] ? master_requests(d) : c->irr;
}

static void end_of_interrupt(struct vpic_chip *c, uint8_t command)
{
	if (command & OCW2_SPECIFIC) {
		c->isr &= (uint8_t)~(1u << (command & 7));
		return;
	}
	for (int irq = 0; irq < 8; irq++) /* non-specific: the highest-priority one in service */
		if (c->isr & (1u << irq)) {
			c->isr &= (uint8_t)~(1u << irq);
			return;
		}
}

void vpic_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	struct vpic_chip *c = chip_for(d, port);
	uint8_t v = (uint8_t)value;
	if (!(port & 1)) {
		if (v & ICW1_INIT) {
			/* ICW1 clears the mask and the requests; the wiring's levels stay. */
			*c = (struct vpic_chip){.init_step = 1, .icw4_needed = v & ICW1_NEED_ICW4, .lines = c->lines,
						.elcr = c->elcr};
		} else if (v & OCW3) {
			if (v & 0x02)
				c->read_isr = v & 0x01;
		} else if (v & OCW2_EOI) {
			end_of_interrupt(c, v);
		}
		/* Rotation and priority commands (OCW2 without EOI) are accepted and ignored. */
		return;
	}
	switch (c->init_step) {
	case 1:
		c->vector_base = v & 0xf8;
		c->init_step = 2;
		break;
	case 2:
		c->init_step = c->icw4_needed ? 3 : 0;
		break;
	case 3:
		c->auto_eoi = v & ICW4_AUTO_EOI;
		c->init_step = 0;
		break;
	default:
		c->imr = v;
	}
}

/* The edge/level control registers of PC chipsets (Intel PIIX, "ELCR1/2"):
 * kept so that a guest reads back what it wrote; every line stays edge-triggered. */
uint32_t vpic_elcr_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)size;
	return d->pic.chip[port & 1].elcr;
}

void vpic_elcr_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	/* IRQs 0-2 and 8, 13 cannot be level-triggered on a PC: those bits read 0. */
	d->pic.chip[port & 1].elcr = (uint8_t)value & (port & 1 ? 0xde : 0xf8);
}
