/*
 * pic.c — an emulated 8259A pair, as PC operating systems program it.
 *
 * Initialisation is a sequence of writes: ICW1 on the command port, then
 * ICW2 (vector base), ICW3 (cascade wiring) and, if ICW1 asked, ICW4 on the
 * data port. Afterwards the data port is the mask (OCW1) and the command
 * port takes EOIs (OCW2) and register-select commands (OCW3). Priorities
 * are fixed: IRQ 0 highest (Intel 8259A data sheet, "Operation").
 */
#include "domain.h"
#include "vdev.h"

#define ICW1_INIT 0x10
#define ICW1_NEED_ICW4 0x01
#define OCW2_EOI 0x20
#define OCW2_SPECIFIC 0x40
#define OCW3 0x08
#define CASCADE_IRQ 2

static struct vpic_chip *chip_for(struct domain *d, uint16_t port)
{
	return &d->pic.chip[port >= 0xa0];
}

void vpic_raise_irq(struct domain *d, unsigned irq)
{
	if (irq < 8)
		d->pic.chip[0].irr |= 1u << irq;
	else {
		d->pic.chip[1].irr |= 1u << (irq - 8);
		d->pic.chip[0].irr |= 1u << CASCADE_IRQ;
	}
}

/* The lowest-numbered requested, unmasked IRQ with nothing of higher or equal
 * priority in service; -1 if none. */
static int chip_pending(const struct vpic_chip *c)
{
	for (int irq = 0; irq < 8; irq++) {
		if (c->isr & (1u << irq))
			return -1;
		if ((c->irr & ~c->imr) & (1u << irq))
			return irq;
	}
	return -1;
}

int vpic_pending_vector(const struct domain *d)
{
	const struct vpic_chip *master = &d->pic.chip[0], *slave = &d->pic.chip[1];
	if (master->init_step || slave->init_step)
		return -1;
	int irq = chip_pending(master);
	if (irq < 0)
		return -1;
	if (irq == CASCADE_IRQ) {
		int slave_irq = chip_pending(slave);
		return slave_irq < 0 ? -1 : slave->vector_base + slave_irq;
	}
	return master->vector_base + irq;
}

void vpic_acknowledge(struct domain *d)
{
	struct vpic_chip *master = &d->pic.chip[0], *slave = &d->pic.chip[1];
	int irq = chip_pending(master);
	if (irq < 0)
		return;
	master->irr &= ~(1u << irq);
	master->isr |= 1u << irq;
	if (irq == CASCADE_IRQ) {
		int slave_irq = chip_pending(slave);
		if (slave_irq >= 0) {
			slave->irr &= ~(1u << slave_irq);
			slave->isr |= 1u << slave_irq;
		}
	}
}

uint32_t vpic_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)size;
	struct vpic_chip *c = chip_for(d, port);
	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

void vpic_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	struct vpic_chip *c = chip_for(d, port);
	uint8_t v = (uint8_t)value;
	if (!(port & 1)) {
		if (v & ICW1_INIT) {
			*c = (struct vpic_chip){.init_step = 1, .icw4_needed = v & ICW1_NEED_ICW4};
		} else if (v & OCW3) {
			if (v & 0x02)
				c->read_isr = v & 0x01;
		} else if (v & OCW2_EOI) {
			if (v & OCW2_SPECIFIC)
				c->isr &= ~(1u << (v & 7));
			else
				for (int irq = 0; irq < 8; irq++)
					if (c->isr & (1u << irq)) {
						c->isr &= ~(1u << irq);
						break;
					}
		}
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
		c->init_step = 0;
		break;
	default:
		c->imr = v;
	}
}
