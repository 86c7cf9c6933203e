/*
 * pit.c — an emulated 8254 (three counters) and the PC's port 0x61.
 *
 * The guest writes a control word to port 0x43 (counter, access mode,
 * counting mode) and a count to the counter's port (0x40-0x42); each counter
 * counts down at 1.193182 MHz (Intel 8254 data sheet, "Operation" and
 * "Mode definitions"). Counter 0's output drives IRQ 0, the system timer.
 * Counter 2's gate and output are wired to port 0x61 bits 0 and 5, which is
 * how Linux measures the TSC's frequency: gate on, mode 0, a known count,
 * then poll the output or read the counter while reading the TSC.
 *
 * Nothing here runs in the background: a counter's value is computed from
 * the time it was loaded and the current time, vpit_clock(), itself derived
 * from the TSC the guest reads (the TSC's rate is measured once against the
 * hypervisor's own tick). So the guest's TSC and its PIT always agree.
 */
#include "domain.h"
#include "timer.h"
#include "vdev.h"
#include "x86.h"

#define CALIBRATION_TICKS 5

static uint64_t tsc_origin;
static uint64_t pit_per_tsc_fixed; /* 8254 clocks per TSC cycle, 32.32 fixed point */
static uint64_t measured_tsc_hz;   /* the same measurement, for the local APIC's timer */

/* Measure the TSC's rate against the hypervisor's tick (the host PIT at
 * TIMER_HZ): a few whole tick periods, once, the first time a guest needs
 * the time. */
static void calibrate(void)
{
	uint64_t flags = read_rflags();
	timer_wait_ticks(1); /* start on a tick edge */
	uint64_t start = rdtsc();
	timer_wait_ticks(CALIBRATION_TICKS);
	uint64_t tsc_hz = (rdtsc() - start) * TIMER_HZ / CALIBRATION_TICKS;
	if (!(flags & RFLAGS_IF))
		cli();
	if (tsc_hz < VPIT_HZ)
		tsc_hz = VPIT_HZ; /* a TSC slower than the PIT: make the best of it */
	pit_per_tsc_fixed = (VPIT_HZ << 32) / tsc_hz;
	measured_tsc_hz = tsc_hz;
	tsc_origin = rdtsc();
}

uint64_t vpit_clock_at(uint64_t tsc)
{
	if (!pit_per_tsc_fixed)
		calibrate();
	return tsc > tsc_origin ? (uint64_t)(((unsigned __int128)(tsc - tsc_origin) * pit_per_tsc_fixed) >> 32) : 0;
}

uint64_t vpit_clock(void)
{
	return vpit_clock_at(rdtsc());
}

uint64_t vpit_tsc_hz(void)
{
	if (!pit_per_tsc_fixed)
		calibrate();
	return measured_tsc_hz;
}

/* Clocks since the count was loaded. */
static uint64_t elapsed(const struct vpit_channel *c, uint64_t now)
{
	return now > c->load_time ? now - c->load_time : 0;
}

/* The counter's value now (what a read or a latch returns). Modes 2 and 3
 * reload themselves; mode 3 counts down by two (half a square wave per pass). */
static uint16_t current_count(const struct vpit_channel *c, uint64_t now)
{
	if (!c->counting)
		return (uint16_t)c->count;
	uint64_t d = elapsed(c, now);
	switch (c->mode) {
	case 2:
		return (uint16_t)(c->count - d % c->count);
	case 3:
		return (uint16_t)(c->count - (2 * d) % c->count);
	default: /* 0, 1, 4, 5: count down and wrap through 0xffff */
		return (uint16_t)((c->count - d) & 0xffff);
	}
}

/* The counter's OUT pin now. */
static bool output(const struct vpit_channel *c, uint64_t now)
{
	if (!c->counting)
		return c->mode != 0; /* after a control word: low in mode 0, high otherwise */
	uint64_t d = elapsed(c, now);
	switch (c->mode) {
	case 0: /* interrupt on terminal count: rises at 0 and stays */
		return d >= c->count;
	case 1: /* one-shot: low while counting */
		return d >= c->count;
	case 2: /* rate generator: low for one clock per period */
		return d % c->count != c->count - 1;
	case 3: /* square wave: high for the first half */
		return d % c->count < (c->count + 1) / 2;
	default: /* 4, 5: strobe, low for one clock at 0 */
		return d != c->count;
	}
}

/* When OUT of counter 0 next rises (an IRQ 0 edge), after @p after; 0 = never. */
static uint64_t next_rising_edge(const struct vpit_channel *c, uint64_t after)
{
	if (!c->counting)
		return 0;
	uint64_t d = elapsed(c, after);
	switch (c->mode) {
	case 2:
	case 3: /* once per period, at its start */
		return c->load_time + (d / c->count + 1) * c->count;
	case 0:
	case 1: /* once, at terminal count */
		return d < c->count ? c->load_time + c->count : 0;
	default:
		return d < c->count + 1 ? c->load_time + c->count + 1 : 0;
	}
}

static void load_count(struct domain *d, unsigned n, uint16_t value)
{
	struct vpit_channel *c = &d->pit.channel[n];
	c->count = value ? value : 0x10000u;
	c->load_time = vpit_clock();
	/* Modes 1 and 5 wait for a gate edge, which counters 0 and 1 never see
	 * (their gates are tied high): they count from the load, as QEMU's do. */
	c->counting = true;
	if (n == 0)
		c->next_irq = next_rising_edge(c, c->load_time);
}

static uint8_t status_byte(const struct vpit_channel *c)
{
	return (uint8_t)((output(c, vpit_clock()) ? 0x80 : 0) | (c->counting ? 0 : 0x40) | c->access << 4 |
			 c->mode << 1 | c->bcd);
}

static void latch_count(struct vpit_channel *c)
{
	if (!c->latched) {
		c->latch = current_count(c, vpit_clock());
		c->latched = true;
		c->read_msb_next = false;
	}
}

static void control_word(struct domain *d, uint8_t v)
{
	unsigned n = v >> 6;
	if (n == 3) { /* read-back (8254 only): bits 1-3 pick counters */
		for (unsigned i = 0; i < 3; i++) {
			struct vpit_channel *c = &d->pit.channel[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				latch_count(c);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = status_byte(c);
				c->status_latched = true;
			}
		}
		return;
	}
	struct vpit_channel *c = &d->pit.channel[n];
	unsigned access = (v >> 4) & 3;
	if (access == 0) { /* counter latch command */
		latch_count(c);
		return;
	}
	uint8_t mode = (v >> 1) & 7;
	*c = (struct vpit_channel){
		.access = (uint8_t)access,
		.mode = mode > 5 ? mode - 4 : mode, /* 6 and 7 are 2 and 3 */
		.bcd = v & 1,
		.count = c->count ? c->count : 0x10000u,
	};
}

uint32_t vpit_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)size;
	if (port == 0x43)
		return 0xff; /* the control register cannot be read */
	struct vpit_channel *c = &d->pit.channel[port - 0x40];
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t value = c->latched ? c->latch : current_count(c, vpit_clock());
	uint8_t byte;
	if (c->access == 1)
		byte = (uint8_t)value, c->latched = false;
	else if (c->access == 2)
		byte = (uint8_t)(value >> 8), c->latched = false;
	else if (!c->read_msb_next)
		byte = (uint8_t)value, c->read_msb_next = true;
	else
		byte = (uint8_t)(value >> 8), c->read_msb_next = false, c->latched = false;
	return byte;
}

void vpit_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	uint8_t v = (uint8_t)value;
	if (port == 0x43) {
		control_word(d, v);
		return;
	}
	unsigned n = port - 0x40;
	struct vpit_channel *c = &d->pit.channel[n];
	switch (c->access) {
	case 1:
		load_count(d, n, v);
		break;
	case 2:
		load_count(d, n, (uint16_t)(v << 8));
		break;
	case 3:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			if (c->mode == 0) /* mode 0: writing the first byte stops the count (data sheet) */
				c->counting = false;
		} else {
			c->write_msb_next = false;
			load_count(d, n, (uint16_t)(c->write_lsb | v << 8));
		}
		break;
	}
}

/* Port 0x61 ("system control port B"): bit 0 gate of counter 2, bit 1
 * speaker data, bits 2-3 check enables; reads add bit 4, a toggle every
 * 15 us (the old DRAM refresh request), and bit 5, OUT of counter 2. */
uint32_t vpit_port61_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)port, (void)size;
	uint64_t now = vpit_clock();
	const struct vpit_channel *c2 = &d->pit.channel[2];
	bool out2 = output(c2, now);
	return (d->pit.gate2 ? 0x01 : 0) | (d->pit.speaker ? 0x02 : 0) | d->pit.port61_high |
	       ((now / 18) & 1 ? 0x10 : 0) | (out2 ? 0x20 : 0);
}

void vpit_port61_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)port, (void)size;
	bool gate = value & 1;
	struct vpit_channel *c2 = &d->pit.channel[2];
	/* A rising gate restarts counting in modes 1, 2, 3 and 5 (data sheet,
	 * "Gate"); in modes 0 and 4 a low gate only pauses, which is not
	 * modelled: counting continues. */
	if (gate && !d->pit.gate2 && c2->counting && c2->mode != 0 && c2->mode != 4)
		c2->load_time = vpit_clock();
	d->pit.gate2 = gate;
	d->pit.speaker = value & 2;
	d->pit.port61_high = (uint8_t)(value & 0x0c);
}

void vpit_update(struct domain *d, uint64_t now_ticks)
{
	(void)now_ticks;
	struct vpit_channel *c = &d->pit.channel[0];
	if (!c->next_irq)
		return;
	uint64_t now = vpit_clock();
	if (now < c->next_irq)
		return;
	/* One edge however many periods passed: IRR holds one request, as a
	 * real PIC does for a CPU that had interrupts off. */
	vpic_raise_irq(d, 0);
	c->next_irq = next_rising_edge(c, now);
	/* The hypervisor notices edges only when it runs (an exit, its own
	 * tick), so this one may be late. If the next edge is nearer than half
	 * a period, this late one stands for it too: two interrupts a moment
	 * apart would tell the guest its timer runs at many times its rate. */
	if ((c->mode == 2 || c->mode == 3) && c->next_irq - now < c->count / 2)
		c->next_irq += c->count;
}

/* The scheduler's idle loop asks this to wake a halted guest exactly when
 * its next timer interrupt is due, not at the hypervisor's next tick (which
 * would merge a 250 Hz guest's ticks into 100 Hz ones and slow its clock). */
uint64_t vpit_next_interrupt(const struct domain *d)
{
	const struct vpit_channel *c = &d->pit.channel[0];
	if (!c->next_irq || (d->pic.chip[0].imr & 1))
		return 0; /* no edge coming, or IRQ 0 masked: nothing to wake for */
	return c->next_irq;
}
