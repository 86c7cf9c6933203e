/*
 * hypercall.c — the calls a guest makes to the hypervisor on purpose.
 *
 * The same handlers serve every backend: a PV guest arrives here through
 * `int $0x82`, an HVM guest (lab 3) through VMMCALL/VMCALL. Arguments are
 * untrusted: every pointer is checked against the domain's memory.
 */
#include "console.h"
#include "domain.h"
#include "hypercall.h"
#include "memlayout.h"
#include "pv.h"
#include "timer.h"
#include "vcpu.h"

#define CONSOLE_WRITE_MAX 4096

typedef int64_t (*hypercall_fn)(struct vcpu *v, uint64_t a1, uint64_t a2);

static int64_t hc_console_write(struct vcpu *v, uint64_t buffer, uint64_t length)
{
	char chunk[128];
	if (length > CONSOLE_WRITE_MAX)
		return -HYPERCALL_EINVAL;
	if (buffer > v->domain->memory_bytes || length > v->domain->memory_bytes - buffer || buffer < PAGE_SIZE)
		return -HYPERCALL_EFAULT;
	for (uint64_t done = 0; done < length;) {
		uint64_t n = MIN(length - done, sizeof(chunk));
		domain_read(v->domain, buffer + done, chunk, n);
		for (uint64_t i = 0; i < n; i++)
			domain_console_putc(v->domain, chunk[i]);
		done += n;
	}
	return (int64_t)length;
}

static int64_t hc_yield(struct vcpu *v, uint64_t a1, uint64_t a2)
{
	(void)a1, (void)a2;
	v->halted = false;
	v->yielded = true;
	return 0;
}

static int64_t hc_set_timer(struct vcpu *v, uint64_t period_us, uint64_t vector)
{
	struct domain *d = v->domain;
	if (period_us && (vector < 32 || vector > 255))
		return -HYPERCALL_EINVAL;
	/* Guest time advances in hypervisor ticks: round to whole ticks, at least one. */
	uint64_t ticks = (period_us * TIMER_HZ + 500000) / 1000000;
	d->timer_period_ticks = period_us ? MAX(ticks, 1ull) : 0;
	d->timer_vector = (uint8_t)vector;
	d->timer_next_tick = timer_ticks() + d->timer_period_ticks;
	return 0;
}

static int64_t hc_shutdown(struct vcpu *v, uint64_t code, uint64_t a2)
{
	(void)a2;
	domain_exit(v->domain, (uint32_t)code);
	return 0;
}

static int64_t hc_shared_info(struct vcpu *v, uint64_t gpa, uint64_t a2)
{
	(void)a2;
	if (gpa % PAGE_SIZE || gpa < PAGE_SIZE || gpa >= v->domain->memory_bytes)
		return -HYPERCALL_EFAULT;
	bool enabled = !pv_interrupts_masked(v);
	v->domain->shared_info_gpa = gpa;
	pv_set_virtual_if(v, enabled); /* the mask now lives in the page */
	return 0;
}

static int64_t hc_event_check(struct vcpu *v, uint64_t a1, uint64_t a2)
{
	(void)a1, (void)a2;
	v->regs.rax = 0; /* set before delivery: the handler's frame returns here */
	pv_deliver_pending_interrupt(v);
	return 0;
}

static const hypercall_fn hypercalls[] = {
	[HYPERCALL_CONSOLE_WRITE] = hc_console_write,
	[HYPERCALL_YIELD] = hc_yield,
	[HYPERCALL_SET_TIMER] = hc_set_timer,
	[HYPERCALL_SHUTDOWN] = hc_shutdown,
	[HYPERCALL_SHARED_INFO] = hc_shared_info,
	[HYPERCALL_EVENT_CHECK] = hc_event_check,
};

void hypercall_dispatch(struct vcpu *v)
{
	uint64_t number = v->regs.rax;
	if (number >= ARRAY_SIZE(hypercalls) || !hypercalls[number]) {
		v->regs.rax = (uint64_t)-HYPERCALL_ENOSYS;
		return;
	}
	if (number == HYPERCALL_EVENT_CHECK) {
		hc_event_check(v, 0, 0);
		return;
	}
	v->regs.rax = (uint64_t)hypercalls[number](v, v->regs.rdi, v->regs.rsi);
}
