/*
 * lapic_timer.c — the local APIC's timer (Intel SDM Vol. 3A §11.5.4).
 *
 * Three modes, chosen by LVT timer bits 18:17:
 * - one-shot (00): a write to the initial-count register (0x380) loads the
 *   current count (0x390), which counts down at the bus clock divided by the
 *   divide configuration (0x3e0); at 0 the timer interrupt is raised once
 *   and the count stays 0.
 * - periodic (01): the same, but at 0 the count reloads from the initial count.
 * - TSC-deadline (10, §11.5.4.1): the counts are unused; the interrupt comes
 *   when the TSC reaches the value written to IA32_TSC_DEADLINE (MSR
 *   0x6e0), which then reads 0. Writing 0 disarms it.
 * A masked timer still counts (and reloads); only the interrupt is held back.
 *
 * As with the PIT (pit.c), nothing ticks in the background: the count is
 * computed from the host TSC at which it was loaded, and the run loop
 * (vlapic_timer_update, from update_timers in virt/vcpu.c) raises the
 * interrupt once the due time has passed — at the guest's next exit, or, if
 * it halts, at exactly that time (the idle loop in dom/schedule.c asks
 * vlapic_timer_next()). The bus clock, #LAPIC_BUS_HZ, is derived from the
 * TSC's rate as the platform clock measured it, so PIT, TSC and APIC timer
 * agree.
 */
#include "domain.h"
#include "lapic.h"
#include "vcpu.h"
#include "x86.h"

#define LVT_MASKED (1u << 16)
#define TIMER_MODE(lvt) (((lvt) >> 17) & 3)
#define MODE_ONE_SHOT 0
#define MODE_PERIODIC 1
#define MODE_TSC_DEADLINE 2

/* The divide configuration (Figure 11-10): bits 3, 1, 0 encode 2, 4, ...,
 * 128, and 111b is 1. */
static uint64_t divisor(const struct vlapic *a)
{
	unsigned code = ((a->timer_divide >> 1) & 4) | (a->timer_divide & 3);
	return code == 7 ? 1 : 2ull << code;
}

/* The two rates in fixed point (no 128-bit division in the kernel):
 * TSC cycles per bus cycle in 40.24, bus cycles per TSC cycle in 32.32. */
static uint64_t tsc_per_bus_fixed, bus_per_tsc_fixed;

static void measure_rates(void)
{
	uint64_t tsc_hz = vpit_tsc_hz();
	tsc_per_bus_fixed = (tsc_hz << 24) / LAPIC_BUS_HZ;
	bus_per_tsc_fixed = (LAPIC_BUS_HZ << 32) / tsc_hz;
}

/* Host TSC cycles for @p bus_cycles of the APIC bus clock. */
static uint64_t bus_to_tsc(uint64_t bus_cycles)
{
	if (!tsc_per_bus_fixed)
		measure_rates();
	return (uint64_t)(((unsigned __int128)bus_cycles * tsc_per_bus_fixed) >> 24);
}

/* Timer ticks (bus cycles / divisor) since the count was loaded. */
static uint64_t ticks_since_load(const struct vlapic *a, uint64_t now)
{
	if (!bus_per_tsc_fixed)
		measure_rates();
	uint64_t tsc = now > a->timer_start ? now - a->timer_start : 0;
	uint64_t bus = (uint64_t)(((unsigned __int128)tsc * bus_per_tsc_fixed) >> 32);
	return bus / divisor(a);
}

/* One period of the count in host TSC cycles (at least 1). */
static uint64_t period_tsc(const struct vlapic *a)
{
	uint64_t tsc = bus_to_tsc((uint64_t)a->timer_initial * divisor(a));
	return tsc ? tsc : 1;
}

/* The timer fires: the interrupt if not masked (§11.5.4). */
static void fire(struct vcpu *v)
{
	struct vlapic *a = &v->lapic;
	a->timer_interrupts++;
	if (!(a->lvt[LVT_TIMER] & LVT_MASKED) && (v->msr.apic_base & APIC_BASE_ENABLE))
		vlapic_accept(v, a->lvt[LVT_TIMER] & 0xff);
}

void vlapic_timer_update(struct vcpu *v)
{
	struct vlapic *a = &v->lapic;
	if (!a->timer_due)
		return;
	uint64_t now = rdtsc();
	if (now < a->timer_due)
		return;
	fire(v);
	switch (TIMER_MODE(a->lvt[LVT_TIMER])) {
	case MODE_PERIODIC: {
		/* Periods missed while the guest was not running are merged into
		 * this one interrupt, as an IRR bit merges requests; the count keeps
		 * its phase. */
		uint64_t period = period_tsc(a), missed = (now - a->timer_due) / period;
		a->timer_start = a->timer_due + missed * period;
		a->timer_due = a->timer_start + period;
		break;
	}
	case MODE_TSC_DEADLINE:
		a->tsc_deadline = 0; /* §11.5.4.1: reads 0 once it fired */
		a->timer_due = 0;
		break;
	default:
		a->timer_due = 0;
	}
}

uint64_t vlapic_timer_next(const struct vcpu *v)
{
	const struct vlapic *a = &v->lapic;
	return (a->lvt[LVT_TIMER] & LVT_MASKED) ? 0 : a->timer_due;
}

uint32_t vlapic_timer_current(struct vcpu *v)
{
	struct vlapic *a = &v->lapic;
	if (TIMER_MODE(a->lvt[LVT_TIMER]) == MODE_TSC_DEADLINE || !a->timer_initial)
		return 0;
	vlapic_timer_update(v);
	uint64_t ticks = ticks_since_load(a, rdtsc());
	if (TIMER_MODE(a->lvt[LVT_TIMER]) == MODE_PERIODIC)
		return (uint32_t)(a->timer_initial - ticks % a->timer_initial);
	return ticks >= a->timer_initial ? 0 : (uint32_t)(a->timer_initial - ticks);
}

/* Start counting from @p count (one-shot or periodic), now. */
static void load(struct vlapic *a, uint32_t count)
{
	a->timer_initial = count;
	a->timer_start = rdtsc();
	a->timer_due = count ? a->timer_start + period_tsc(a) : 0;
}

void vlapic_timer_set_initial(struct vcpu *v, uint32_t count)
{
	struct vlapic *a = &v->lapic;
	if (TIMER_MODE(a->lvt[LVT_TIMER]) == MODE_TSC_DEADLINE)
		return; /* §11.5.4.1: the initial count is ignored in TSC-deadline mode */
	load(a, count);
}

void vlapic_timer_set_divide(struct vcpu *v, uint32_t value)
{
	struct vlapic *a = &v->lapic;
	/* A new divisor applies from now on: keep the current count, count the
	 * rest at the new rate. */
	uint32_t current = vlapic_timer_current(v);
	bool counting = a->timer_due && TIMER_MODE(a->lvt[LVT_TIMER]) != MODE_TSC_DEADLINE;
	a->timer_divide = value;
	if (!counting)
		return;
	uint64_t now = rdtsc();
	a->timer_start = now - bus_to_tsc((uint64_t)(a->timer_initial - current) * divisor(a));
	a->timer_due = now + bus_to_tsc((uint64_t)current * divisor(a));
}

void vlapic_timer_set_lvt(struct vcpu *v, uint32_t value)
{
	struct vlapic *a = &v->lapic;
	unsigned before = TIMER_MODE(a->lvt[LVT_TIMER]), after = TIMER_MODE(value);
	if (after == 3) /* reserved mode: kept as one-shot */
		value &= ~(3u << 17);
	a->lvt[LVT_TIMER] = value;
	/* Switching into or out of TSC-deadline mode disarms the timer (§11.5.4.1). */
	if ((before == MODE_TSC_DEADLINE) != (TIMER_MODE(value) == MODE_TSC_DEADLINE)) {
		a->timer_initial = 0;
		a->timer_due = 0;
		a->tsc_deadline = 0;
	}
}

void vlapic_timer_set_deadline(struct vcpu *v, uint64_t deadline)
{
	struct vlapic *a = &v->lapic;
	if (TIMER_MODE(a->lvt[LVT_TIMER]) != MODE_TSC_DEADLINE)
		return; /* §11.5.4.1: ignored in the other modes */
	a->tsc_deadline = deadline;
	if (!deadline) {
		a->timer_due = 0;
		return;
	}
	/* The deadline is in the guest's TSC: host TSC + the vCPU's offset. A
	 * deadline already passed fires at once. */
	uint64_t host = deadline - v->msr.tsc_offset;
	a->timer_due = (int64_t)(host - rdtsc()) > 0 ? host : rdtsc();
	if (!a->timer_due)
		a->timer_due = 1;
}
