/*
 * pit.c — an emulated 8254, channel 0: the PC's system timer on IRQ 0.
 *
 * The guest writes a control word to port 0x43 (channel, access mode,
 * counting mode) and the divisor to port 0x40; the counter runs at
 * 1.193182 MHz, so IRQ 0 fires every divisor / 1193182 seconds (Intel 8254
 * data sheet). Guest time here advances with the hypervisor's own timer
 * ticks, so the emulated period is rounded to whole ticks.
 */
#include "domain.h"
#include "timer.h"
#include "vdev.h"

#define PIT_HZ 1193182ull

static void load_count(struct domain *d)
{
	struct vpit *p = &d->pit;
	uint64_t divisor = p->reload ? p->reload : 65536;
	p->period_ticks = (divisor * TIMER_HZ + PIT_HZ / 2) / PIT_HZ;
	if (p->period_ticks == 0)
		p->period_ticks = 1;
	p->next_tick = timer_ticks() + p->period_ticks;
	p->running = true;
}

uint32_t vpit_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)d, (void)port, (void)size;
	return 0; /* reading back the count is not emulated */
}

void vpit_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	struct vpit *p = &d->pit;
	uint8_t v = (uint8_t)value;
	if (port == 0x43) {
		if ((v >> 6) != 0) /* channels 1 and 2 are not emulated */
			return;
		p->access = (v >> 4) & 3;
		p->mode = (v >> 1) & 7;
		p->write_high_next = false;
		p->running = false;
		return;
	}
	if (port != 0x40)
		return;
	switch (p->access) {
	case 1:
		p->reload = v;
		load_count(d);
		break;
	case 2:
		p->reload = (uint16_t)(v << 8);
		load_count(d);
		break;
	case 3:
		if (!p->write_high_next) {
			p->reload = (p->reload & 0xff00) | v;
			p->write_high_next = true;
		} else {
			p->reload = (uint16_t)((p->reload & 0x00ff) | (v << 8));
			p->write_high_next = false;
			load_count(d);
		}
		break;
	}
}

void vpit_update(struct domain *d, uint64_t now)
{
	struct vpit *p = &d->pit;
	if (!p->running || now < p->next_tick)
		return;
	vpic_raise_irq(d, 0);
	if (p->mode == 0) { /* one-shot: "interrupt on terminal count" */
		p->running = false;
		return;
	}
	/* Periodic. A guest that missed periods gets one interrupt, not a burst. */
	p->next_tick += p->period_ticks * ((now - p->next_tick) / p->period_ticks + 1);
}
