/*
 * hypercall.c — the calls a guest makes to the hypervisor on purpose, with
 * Xen's numbers, sub-operations, structures and errors (guests/include/xen.h,
 * docs/hypercalls.md), so that what a student writes here holds on Xen and
 * Xen's own guests find what they expect.
 *
 * The same handlers serve every backend: a PV guest arrives here through
 * `int $0x82`, an HVM guest (lab 3) through VMMCALL/VMCALL, directly or from
 * its hypercall page (xen_cpuid.c). Arguments are untrusted: a structure is
 * copied in from guest memory before it is looked at (so the guest cannot
 * change it under our feet) and the results are copied back out; a pointer
 * that does not lead to guest memory is -EFAULT.
 */
#include "console.h"
#include "domain.h"
#include "domctl.h"
#include "event_channel.h"
#include "grant_table.h"
#include "hypercall.h"
#include "memlayout.h"
#include "pv.h"
#include "shadow.h"
#include "string.h"
#include "timer.h"
#include "vcpu.h"
#include "x86.h"
#include "xen_domctl.h"

/* Guest pointers are the guest's virtual addresses: through its own page
 * tables under shadow or nested paging, equal to guest-physical ones in
 * paging mode "direct" (pv_access_guest knows both). */
bool copy_from_guest(struct vcpu *v, void *dst, uint64_t va, size_t size)
{
	return pv_access_guest(v, va, dst, size, ACCESS_READ | PV_ACCESS_SUPERVISOR);
}

bool copy_to_guest(struct vcpu *v, uint64_t va, const void *src, size_t size)
{
	return pv_access_guest(v, va, (void *)src, size, ACCESS_WRITE | PV_ACCESS_SUPERVISOR);
}

/* CONSOLEIO_write: @count bytes at @buffer, line-buffered by the domain's
 * console ("[dN] " before each line). Every page is checked before the
 * first byte is printed, so a bad buffer prints nothing. Xen returns 0. */
static int64_t console_io(struct vcpu *v, uint64_t cmd, uint64_t count, uint64_t buffer)
{
	if (cmd == CONSOLEIO_read)
		return console_read(v, count, buffer); /* the hypervisor's console input is Dom0's */
	if (cmd != CONSOLEIO_write)
		return -XEN_ENOSYS;
	count = (uint32_t)count; /* an unsigned int in Xen's prototype */
	char chunk[128];
	if (buffer + count < buffer)
		return -XEN_EFAULT;
	for (uint64_t page = ALIGN_DOWN(buffer, PAGE_SIZE); page < buffer + count; page += PAGE_SIZE)
		if (!copy_from_guest(v, chunk, MAX(page, buffer), 1))
			return -XEN_EFAULT;
	for (uint64_t done = 0; done < count;) {
		uint64_t n = MIN(count - done, sizeof(chunk));
		if (!copy_from_guest(v, chunk, buffer + done, n))
			return -XEN_EFAULT;
		for (uint64_t i = 0; i < n; i++)
			domain_console_putc(v->domain, chunk[i]);
		done += n;
	}
	return 0;
}

static const char *const shutdown_reasons[] = {"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"};

/* SCHEDOP_shutdown. Xen's reasons 0-5 end the domain as the guest says
 * (restarting or keeping a suspended one is the toolstack's, labs 4-5); a
 * reason from 0x10 up is a Hypatia test guest's exit code (docs/exit-codes.md),
 * logged as the debug-exit port's would be. */
static int64_t shutdown(struct vcpu *v, uint32_t reason)
{
	if (reason == SHUTDOWN_crash) {
		domain_crash(v->domain, "the guest shut down with reason crash");
	} else if (reason < ARRAY_SIZE(shutdown_reasons)) {
		kprintf("[hv] d%u shut down: %s\n", v->domain->id, shutdown_reasons[reason]);
		domain_exit(v->domain, 0);
		v->domain->shutdown_reason = reason;
	} else if (reason >= SHUTDOWN_HYPATIA_EXIT_CODE) {
		domain_exit(v->domain, reason);
	} else {
		return -XEN_EINVAL;
	}
	return 0;
}

static int64_t sched_op(struct vcpu *v, uint64_t cmd, uint64_t arg, uint64_t unused)
{
	(void)unused;
	struct sched_shutdown s;
	switch (cmd) {
	case SCHEDOP_yield:
		v->halted = false;
		v->yielded = true;
		return 0;
	case SCHEDOP_block:
		/* Unmask events and sleep until one is delivered (a PV guest's
		 * HLT does the same with its virtual IF). An HVM vCPU sleeps only
		 * with RFLAGS.IF = 1: only an interrupt it can take wakes it. */
		if (!v->domain->hvm)
			pv_set_virtual_if(v, true);
		v->halted = !v->domain->hvm || (v->regs.rflags & RFLAGS_IF);
		return 0;
	case SCHEDOP_shutdown:
		if (!copy_from_guest(v, &s, arg, sizeof(s)))
			return -XEN_EFAULT;
		return shutdown(v, s.reason);
	default:
		return -XEN_ENOSYS;
	}
}

static int64_t xen_version(struct vcpu *v, uint64_t cmd, uint64_t arg, uint64_t unused)
{
	(void)unused;
	static const char extraversion[XEN_EXTRAVERSION_LEN] = ".0-hypatia";
	struct xen_feature_info features;
	switch (cmd) {
	case XENVER_version:
		return XEN_VERSION_MAJOR << 16 | XEN_VERSION_MINOR;
	case XENVER_extraversion:
		return copy_to_guest(v, arg, extraversion, sizeof(extraversion)) ? 0 : -XEN_EFAULT;
	case XENVER_get_features:
		if (!copy_from_guest(v, &features, arg, sizeof(features)))
			return -XEN_EFAULT;
		if (features.submap_idx != 0)
			return -XEN_EINVAL;
		/* No guest of Hypatia ever sees a host frame number; an HVM one
		 * may take its upcalls on a vector. */
		features.submap = 1u << XENFEAT_auto_translated_physmap |
				  (v->domain->hvm ? 1u << XENFEAT_hvm_callback_vector : 0);
		return copy_to_guest(v, arg, &features, sizeof(features)) ? 0 : -XEN_EFAULT;
	default:
		return -XEN_ENOSYS;
	}
}

/* XENMEM_add_to_physmap(XENMAPSPACE_shared_info): the guest frame @gpfn
 * becomes the domain's shared-info page. (Xen maps a page of its own there
 * instead of the RAM page; here the RAM page is the shared-info page, which
 * the guest cannot tell apart. Xen's PV guests find theirs through
 * start_info; Hypatia's register it this way too.) */
static int64_t map_shared_info(struct vcpu *v, const struct xen_add_to_physmap *x)
{
	struct domain *d = v->domain;
	if (x->domid != DOMID_SELF && x->domid != d->id)
		return -XEN_ESRCH; /* another domain's memory: Dom0's business (lab 4) */
	if (x->space == XENMAPSPACE_grant_table) /* lab 4: frame idx of its grant table */
		return grant_table_place_frame(d, x->idx, x->gpfn);
	if (x->space != XENMAPSPACE_shared_info || x->idx != 0)
		return -XEN_EINVAL;
	uint64_t gpa = x->gpfn * PAGE_SIZE;
	static const uint8_t zeros[PAGE_SIZE];
	if (x->gpfn == 0 || x->gpfn >= d->page_count || !domain_write(d, gpa, zeros, sizeof(zeros)))
		return -XEN_EINVAL;
	bool enabled = !pv_interrupts_masked(v);
	d->shared_info_gpa = gpa;
	if (!d->hvm) /* a PV guest's virtual IF now lives in the page; an HVM guest has its RFLAGS.IF */
		pv_set_virtual_if(v, enabled);
	return 0;
}

static int64_t memory_op(struct vcpu *v, uint64_t cmd, uint64_t arg, uint64_t unused)
{
	(void)unused;
	struct xen_add_to_physmap x;
	if (cmd == XENMEM_populate_physmap || cmd == XENMEM_add_to_physmap_batch || cmd == XENMEM_remove_from_physmap)
		return memory_op_other_domain(v, cmd, arg); /* Dom0's (domctl.c) */
	if (cmd != XENMEM_add_to_physmap)
		return -XEN_ENOSYS;
	if (!copy_from_guest(v, &x, arg, sizeof(x)))
		return -XEN_EFAULT;
	return map_shared_info(v, &x);
}

/* VCPUOP_set_periodic_timer: VIRQ_TIMER every period_ns (Xen refuses less
 * than 1 ms), in whole hypervisor ticks (TIMER_HZ), at least one. */
static int64_t vcpu_op(struct vcpu *v, uint64_t cmd, uint64_t vcpu_id, uint64_t arg)
{
	struct domain *d = v->domain;
	struct vcpu_set_periodic_timer timer;
	if (vcpu_id != v->id)
		return -XEN_ENOENT;
	switch (cmd) {
	case VCPUOP_set_periodic_timer: {
		if (!copy_from_guest(v, &timer, arg, sizeof(timer)))
			return -XEN_EFAULT;
		if (timer.period_ns < 1000000)
			return -XEN_EINVAL;
		uint64_t tick_ns = 1000000000 / TIMER_HZ;
		d->timer_period_ticks = MAX((timer.period_ns + tick_ns / 2) / tick_ns, 1ull);
		d->timer_next_tick = timer_ticks() + d->timer_period_ticks;
		return 0;
	}
	case VCPUOP_stop_periodic_timer:
		d->timer_period_ticks = 0;
		return 0;
	default:
		return -XEN_ENOSYS;
	}
}

/* HVMOP_set_param/get_param. Only HVM_PARAM_CALLBACK_IRQ so far, and only
 * its vector form: the vector events are delivered on. Hypatia offers it to
 * PV guests too, whose events arrive through their IDT (Xen's PV guests
 * register a callback address with set_callbacks instead). */
static int64_t hvm_op(struct vcpu *v, uint64_t cmd, uint64_t arg, uint64_t unused)
{
	(void)unused;
	struct domain *d = v->domain;
	struct xen_hvm_param p;
	if (cmd != HVMOP_set_param && cmd != HVMOP_get_param)
		return -XEN_ENOSYS;
	if (!copy_from_guest(v, &p, arg, sizeof(p)))
		return -XEN_EFAULT;
	if (p.domid != DOMID_SELF && p.domid != d->id)
		return -XEN_ESRCH;
	if (p.index != HVM_PARAM_CALLBACK_IRQ)
		return -XEN_EINVAL;
	if (cmd == HVMOP_get_param) {
		p.value = d->evtchn.callback_vector ? HVM_CALLBACK_VECTOR(d->evtchn.callback_vector) : 0;
		return copy_to_guest(v, arg, &p, sizeof(p)) ? 0 : -XEN_EFAULT;
	}
	uint64_t vector = p.value & 0xff;
	if (p.value != 0 && (p.value != HVM_CALLBACK_VECTOR(vector) || vector < 32))
		return -XEN_EINVAL;
	d->evtchn.callback_vector = (uint8_t)vector;
	return 0;
}

static int64_t grant_table(struct vcpu *v, uint64_t cmd, uint64_t arg, uint64_t count)
{
	return grant_table_op(v, cmd, arg, count);
}

static int64_t event_channel_op(struct vcpu *v, uint64_t cmd, uint64_t arg, uint64_t unused)
{
	(void)unused;
	return evtchn_op(v, cmd, arg);
}

static int64_t domctl_op(struct vcpu *v, uint64_t arg, uint64_t unused1, uint64_t unused2)
{
	(void)unused1, (void)unused2;
	return domctl(v, arg);
}

typedef int64_t (*hypercall_fn)(struct vcpu *v, uint64_t a1, uint64_t a2, uint64_t a3);

static const hypercall_fn hypercalls[] = {
	[HYPERCALL_memory_op] = memory_op,
	[HYPERCALL_xen_version] = xen_version,
	[HYPERCALL_console_io] = console_io,
	[HYPERCALL_grant_table_op] = grant_table,
	[HYPERCALL_vcpu_op] = vcpu_op,
	[HYPERCALL_sched_op] = sched_op,
	[HYPERCALL_event_channel_op] = event_channel_op,
	[HYPERCALL_hvm_op] = hvm_op,
	[HYPERCALL_domctl] = domctl_op,
};

void hypercall_dispatch(struct vcpu *v)
{
	uint64_t number = v->regs.rax;
	/* Xen's rule for HVM guests: only the guest's kernel may call. (A PV
	 * guest's user mode never gets here: its INT 0x82 goes through the
	 * guest's own IDT, pv.c.) */
	if (v->domain->hvm && v->cpl != 0) {
		v->regs.rax = (uint64_t)-XEN_EPERM;
		return;
	}
	if (number >= ARRAY_SIZE(hypercalls) || !hypercalls[number]) {
		v->regs.rax = (uint64_t)-XEN_ENOSYS;
		return;
	}
	/* The result is in RAX before anything is delivered: an upcall made
	 * pending by this call returns to the instruction after it. */
	v->regs.rax = (uint64_t)hypercalls[number](v, v->regs.rdi, v->regs.rsi, v->regs.rdx);
}
