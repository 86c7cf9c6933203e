/*
 * domctl.c — what only Dom0 may ask: making and ending domains (domctl,
 * hypercall 36), giving them memory (memory_op populate_physmap on another
 * domain) and mapping their memory into its own (add_to_physmap_batch with
 * XENMAPSPACE_gmfn_foreign). Xen's numbers and layouts
 * (guests/include/xen_domctl.h, from xen/include/public/domctl.h and
 * memory.h).
 *
 * The split is Xen's (DESIGN §10): the hypervisor keeps mechanisms — an
 * empty, paused domain; frames on request; a vCPU's entry state; a count of
 * pauses — and Dom0's toolstack keeps policy: which kernel, where it goes,
 * when it runs (guests/dom0/xl_build.c). A domain other than Dom0 that asks
 * gets Xen's answer, -EPERM, and nothing changes.
 *
 * Every per-domain structure here is plain data (pause count, shutdown
 * reason, the foreign-mapping array), so labs 5-6 can save and restore it.
 */
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "hypercall.h"
#include "memlayout.h"
#include "mm.h"
#include "paging.h"
#include "string.h"
#include "svm.h"
#include "vcpu.h"
#include "vdev.h"
#include "vmx.h"
#include "x86.h"
#include "xen_domctl.h"

#define XEN_EACCES 13
#define XEN_ENOMEM 12
#define MAX_MEMORY (1ull << 30) /* as a boot module's mem= (domain.c) */

/* A domain id Dom0 names: DOMID_SELF is the caller. */
static struct domain *target(struct vcpu *v, uint16_t id)
{
	return id == DOMID_SELF ? v->domain : domain_lookup(id);
}

/* XEN_DOMCTL_createdomain: an empty, paused domain — no memory, no vCPU
 * context — of the kind the flags say. Its id: the one asked for if free,
 * else (0 or a reserved id asked) the next. */
static int64_t create_domain(struct xen_domctl *op)
{
	const struct xen_domctl_createdomain *c = &op->u.createdomain;
	bool hvm = c->flags & XEN_DOMCTL_CDF_hvm;
	if (c->flags & ~(XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap) || c->max_vcpus > 1 ||
	    ((c->flags & XEN_DOMCTL_CDF_hap) && !hvm))
		return -XEN_EINVAL;
	if (hvm && !(cpu.svm ? svm_enable() : vmx_enable()))
		return -XEN_EINVAL;
	unsigned id = op->domain;
	if (id == 0 || id >= DOMID_FIRST_RESERVED)
		while (domain_lookup(id = next_domain_id++) || id == 0)
			;
	else if (domain_lookup(id))
		return -XEN_EEXIST;
	struct domain *d = kzalloc(sizeof(*d));
	if (!d)
		return -XEN_ENOMEM;
	d->id = id;
	ksnprintf(d->name, sizeof(d->name), "d%u", id);
	d->hvm = hvm;
	d->paging = !hvm ? PAGING_DIRECT : (c->flags & XEN_DOMCTL_CDF_hap) ? PAGING_NESTED : PAGING_SHADOW;
	d->lazy_memory = d->paging == PAGING_NESTED;
	d->ept = d->lazy_memory && domain_backend(true) == &vmx_vcpu_ops;
	d->umip = true;
	d->state = DOMAIN_RUNNABLE;
	d->pause_count = 1;
	d->created_tsc = rdtsc();
	if (!domain_table_add(d)) {
		kfree(d);
		return -XEN_ENOSPC;
	}
	op->domain = (uint16_t)id;
	kprintf("[hv] d%u created by Dom0: %s, paused, no memory yet\n", id,
		!hvm ? "pv" : d->paging == PAGING_NESTED ? "hvm, nested paging" : "hvm, shadow paging");
	return 0;
}

/* XEN_DOMCTL_max_mem: the domain's guest-physical size. Hypatia sets it
 * once, before any page is given (its p2m is one array of that size). */
static int64_t set_max_memory(struct domain *d, uint64_t max_kb)
{
	uint64_t bytes = max_kb << 10;
	if (max_kb > MAX_MEMORY >> 10 || bytes < (1ull << 20) || bytes % PAGE_SIZE)
		return -XEN_EINVAL;
	if (d->p2m || d->pml4)
		return d->p2m && d->memory_bytes == bytes ? 0 : -XEN_EBUSY;
	d->memory_bytes = bytes;
	if (!domain_alloc_tables(d)) { /* what was allocated goes with the domain (domain_destroy) */
		kfree(d->p2m), d->p2m = NULL;
		d->memory_bytes = d->page_count = 0;
		return -XEN_ENOMEM;
	}
	return 0;
}

static void get_domain_info(struct vcpu *v, struct domain *d, struct xen_domctl_getdomaininfo *info)
{
	memset(info, 0, sizeof(*info));
	info->domain = (uint16_t)d->id;
	info->flags = (d->hvm ? XEN_DOMINF_hvm_guest : 0) | (d->paging == PAGING_NESTED ? XEN_DOMINF_hap : 0) |
		      (d->pause_count ? XEN_DOMINF_paused : 0) | (d == v->domain ? XEN_DOMINF_running : 0);
	if (d->state != DOMAIN_RUNNABLE)
		info->flags |= XEN_DOMINF_shutdown | (d->shutdown_reason & XEN_DOMINF_shutdownmask)
							     << XEN_DOMINF_shutdownshift;
	else if (d != v->domain && d->vcpu && d->vcpu->halted)
		info->flags |= XEN_DOMINF_blocked;
	info->tot_pages = d->pages_populated;
	info->max_pages = d->page_count;
	info->shared_info_frame = d->shared_info_gpa / PAGE_SIZE;
	/* TSC cycles to ns at the rate the platform clock measured. */
	uint64_t hz = vpit_tsc_hz();
	info->cpu_time = d->cpu_time_tsc / hz * 1000000000ull + d->cpu_time_tsc % hz * 1000000000ull / hz;
	info->nr_online_vcpus = d->vcpu ? 1 : 0;
	info->max_vcpu_id = d->vcpu ? 0 : ~0u;
	info->gpaddr_bits = 48;
}

/* XEN_DOMCTL_setvcpucontext, Hypatia's subset for PV and HVM alike: RIP,
 * RSP, RDI and RFLAGS of user_regs. Xen takes an HVM vCPU's state through
 * sethvmcontext (its save-record format); Hypatia starts every HVM domain in
 * long mode on identity tables it builds (the boot modules' contract), so
 * the same four registers say all a builder has to. */
static int64_t set_vcpu_context(struct vcpu *v, struct domain *d, const struct xen_domctl_vcpucontext *c)
{
	struct vcpu_guest_context ctxt;
	if (c->vcpu != 0)
		return -XEN_EINVAL;
	if (!d->p2m || d->vcpu)
		return -XEN_EBUSY; /* no memory yet, or its context was set already */
	if (!copy_from_guest(v, &ctxt, c->ctxt, sizeof(ctxt)))
		return -XEN_EFAULT;
	if (!domain_start_vcpu(d, ctxt.user_regs.rip, ctxt.user_regs.rsp, ctxt.user_regs.rdi, true))
		return -XEN_ENOMEM;
	d->vcpu->regs.rflags = (ctxt.user_regs.rflags & ~(uint64_t)RFLAGS_IF) | 0x2;
	return 0;
}

static int64_t destroy_domain(struct vcpu *v, struct domain *d)
{
	if (d == v->domain)
		return -XEN_EINVAL; /* Dom0 ends by shutting down */
	if (d->console_length)
		domain_console_putc(d, '\n');
	unsigned id = d->id;
	size_t frames = frame_free_count(), heap = heap_bytes_in_use(), pages = d->pages_populated;
	domain_table_remove(d);
	domain_destroy(d);
	/* What a domain cost: its own pages, and the hypervisor's share (its
	 * tables, VMCB or XSAVE area, p2m, struct domain). */
	kprintf("[hv] d%u destroyed by Dom0: freed %lu pages of its memory, %lu of the hypervisor's, %lu heap bytes\n",
		id, pages, frame_free_count() - frames - pages, heap - heap_bytes_in_use());
	return 0;
}

int64_t domctl(struct vcpu *v, uint64_t arg)
{
	struct xen_domctl op;
	if (!v->domain->privileged)
		return -XEN_EPERM;
	if (!copy_from_guest(v, &op, arg, sizeof(op)))
		return -XEN_EFAULT;
	if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
		return -XEN_EACCES;
	if (op.cmd == XEN_DOMCTL_createdomain) {
		int64_t r = create_domain(&op);
		return r ? r : copy_to_guest(v, arg, &op, sizeof(op)) ? 0 : -XEN_EFAULT;
	}
	struct domain *d = target(v, op.domain);
	if (!d)
		return -XEN_ESRCH;
	switch (op.cmd) {
	case XEN_DOMCTL_destroydomain:
		return destroy_domain(v, d);
	case XEN_DOMCTL_pausedomain:
		if (d == v->domain)
			return -XEN_EINVAL;
		d->pause_count++;
		return 0;
	case XEN_DOMCTL_unpausedomain:
		if (!d->pause_count || !d->vcpu)
			return -XEN_EINVAL; /* not paused, or nothing to run yet */
		d->pause_count--;
		return 0;
	case XEN_DOMCTL_getdomaininfo:
		get_domain_info(v, d, &op.u.getdomaininfo);
		return copy_to_guest(v, arg, &op, sizeof(op)) ? 0 : -XEN_EFAULT;
	case XEN_DOMCTL_max_mem:
		return set_max_memory(d, op.u.max_mem.max_memkb);
	case XEN_DOMCTL_setvcpucontext:
		return set_vcpu_context(v, d, &op.u.vcpucontext);
	default:
		return -XEN_ENOSYS;
	}
}

/* --- memory of other domains --------------------------------------------------------- */

/* Give guest frame @gfn of @d a zeroed host frame, mapped as its paging mode
 * wants: in the nested page table (nested), in its address space (pv
 * direct; page 0 left out), or nowhere yet (shadow: by fault). */
static bool populate_page(struct domain *d, uint64_t gfn)
{
	if (gfn >= d->page_count || d->p2m[gfn])
		return false;
	paddr_t frame = frame_alloc();
	bool mapped = !frame ? false
		    : d->paging == PAGING_NESTED ? domain_map_nested(d, gfn * PAGE_SIZE, frame, true)
		    : d->paging == PAGING_DIRECT && gfn ? paging_map(d->pml4, gfn * PAGE_SIZE, frame, PTE_USER | PTE_WRITE)
							: true;
	if (!mapped) {
		if (frame)
			frame_free(frame);
		return false;
	}
	d->p2m[gfn] = frame;
	d->pages_populated++;
	return true;
}

/* XENMEM_populate_physmap on another domain: frames at the frame numbers
 * listed; returns how many were given (Xen's convention: fewer than asked
 * means the next one failed). */
static int64_t populate_physmap(struct vcpu *v, const struct xen_memory_reservation *r)
{
	struct domain *d = target(v, r->domid);
	if (!d)
		return -XEN_ESRCH;
	if (d == v->domain)
		return -XEN_ENOSYS; /* a domain's own memory is fixed on Hypatia (no ballooning yet) */
	if (!v->domain->privileged)
		return -XEN_EPERM;
	if (r->extent_order != 0 || !d->p2m)
		return -XEN_EINVAL;
	uint64_t gfns[64];
	for (uint64_t done = 0; done < r->nr_extents;) {
		uint64_t n = MIN(r->nr_extents - done, ARRAY_SIZE(gfns));
		if (!copy_from_guest(v, gfns, r->extent_start + done * sizeof(uint64_t), n * sizeof(uint64_t)))
			return done ? (int64_t)done : -XEN_EFAULT;
		for (uint64_t i = 0; i < n; i++, done++)
			if (!populate_page(d, gfns[i]))
				return (int64_t)done;
	}
	return (int64_t)r->nr_extents;
}

static int find_foreign(const struct domain *dom0, uint64_t gpfn)
{
	for (unsigned i = 0; i < dom0->foreign_count; i++)
		if (dom0->foreign[i].gpfn == gpfn)
			return (int)i;
	return -1;
}

/* Undo Dom0's mapping number @i: its page there becomes RAM of its own again
 * (fresh, zeroed: Linux's ballooned page, given back), the stale translation
 * flushed before Dom0 runs again. */
static void foreign_unmap(struct domain *dom0, unsigned i)
{
	uint64_t gpfn = dom0->foreign[i].gpfn;
	dom0->p2m[gpfn] = 0;
	dom0->foreign[i] = dom0->foreign[--dom0->foreign_count];
	dom0->flush_nested = true;
	domain_populate(dom0, gpfn * PAGE_SIZE);
}

/* Frame @gfn of @f appears at Dom0's @gpfn (a page of its own RAM, given up
 * for it, as Linux gives up a ballooned page). */
static int32_t foreign_map(struct domain *dom0, struct domain *f, uint64_t gfn, uint64_t gpfn)
{
	if (gfn >= f->page_count || !f->p2m[gfn] || gpfn == 0 || gpfn >= dom0->page_count)
		return -XEN_EINVAL;
	int old = find_foreign(dom0, gpfn);
	if (old >= 0) { /* remapped at once: no page of Dom0's own in between */
		dom0->p2m[gpfn] = 0;
		dom0->foreign[old] = dom0->foreign[--dom0->foreign_count];
	}
	if (dom0->foreign_count >= DOMAIN_FOREIGN_MAX)
		return -XEN_ENOSPC;
	if (dom0->p2m[gpfn]) {
		frame_free(dom0->p2m[gpfn]);
		dom0->p2m[gpfn] = 0;
		dom0->pages_populated--;
	}
	if (!domain_map_nested(dom0, gpfn * PAGE_SIZE, f->p2m[gfn], true))
		return -XEN_ENOMEM;
	dom0->p2m[gpfn] = f->p2m[gfn];
	dom0->foreign[dom0->foreign_count++] = (struct foreign_map){gpfn, gfn, (uint16_t)f->id};
	dom0->flush_nested = true;
	return 0;
}

/* XENMEM_add_to_physmap_batch, space XENMAPSPACE_gmfn_foreign: Dom0 maps
 * frames of another domain into its own guest-physical space (the builder,
 * later the backends). Dom0 must run on nested paging (its RAM is then a
 * p2m the hypervisor can point elsewhere). */
static int64_t add_to_physmap_batch(struct vcpu *v, const struct xen_add_to_physmap_batch *b)
{
	struct domain *dom0 = v->domain;
	if (b->space != XENMAPSPACE_gmfn_foreign)
		return -XEN_ENOSYS;
	if (!dom0->privileged)
		return -XEN_EPERM;
	if (target(v, b->domid) != dom0 || dom0->paging != PAGING_NESTED)
		return -XEN_EINVAL; /* Hypatia maps into the caller only, and only under nested paging */
	struct domain *f = domain_lookup(b->foreign_domid);
	if (!f)
		return -XEN_ESRCH;
	if (f == dom0)
		return -XEN_EINVAL;
	for (uint16_t i = 0; i < b->size; i++) {
		uint64_t gfn, gpfn;
		if (!copy_from_guest(v, &gfn, b->idxs + i * sizeof(gfn), sizeof(gfn)) ||
		    !copy_from_guest(v, &gpfn, b->gpfns + i * sizeof(gpfn), sizeof(gpfn)))
			return -XEN_EFAULT;
		int32_t err = foreign_map(dom0, f, gfn, gpfn);
		if (!copy_to_guest(v, b->errs + i * sizeof(err), &err, sizeof(err)))
			return -XEN_EFAULT;
	}
	return 0;
}

/* XENMEM_remove_from_physmap: undo a foreign mapping of the caller's. */
static int64_t remove_from_physmap(struct vcpu *v, const struct xen_remove_from_physmap *r)
{
	struct domain *d = target(v, r->domid);
	if (!d)
		return -XEN_ESRCH;
	if (d != v->domain)
		return v->domain->privileged ? -XEN_EINVAL : -XEN_EPERM;
	int i = find_foreign(d, r->gpfn);
	if (i < 0)
		return -XEN_EINVAL; /* only a foreign mapping can be removed (no ballooning yet) */
	foreign_unmap(d, (unsigned)i);
	return 0;
}

void foreign_unmap_all(struct domain *d)
{
	if (d->privileged) { /* Dom0 going: the frames it mapped are their owners' */
		for (unsigned i = 0; i < d->foreign_count; i++)
			d->p2m[d->foreign[i].gpfn] = 0;
		d->foreign_count = 0;
		return;
	}
	struct domain *dom0 = domain_lookup(0);
	for (unsigned i = 0; dom0 && i < dom0->foreign_count;)
		if (dom0->foreign[i].domid == d->id)
			foreign_unmap(dom0, i); /* moves the last entry to i */
		else
			i++;
}

int64_t memory_op_other_domain(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	union {
		struct xen_memory_reservation reservation;
		struct xen_add_to_physmap_batch batch;
		struct xen_remove_from_physmap remove;
	} a;
	size_t size = cmd == XENMEM_populate_physmap		? sizeof(a.reservation)
		      : cmd == XENMEM_add_to_physmap_batch ? sizeof(a.batch)
							   : sizeof(a.remove);
	if (!copy_from_guest(v, &a, arg, size))
		return -XEN_EFAULT;
	switch (cmd) {
	case XENMEM_populate_physmap:
		return populate_physmap(v, &a.reservation);
	case XENMEM_add_to_physmap_batch:
		return add_to_physmap_batch(v, &a.batch);
	default:
		return remove_from_physmap(v, &a.remove);
	}
}

/* CONSOLEIO_read (Dom0): up to @count bytes typed on the hypervisor's
 * console; returns how many (0: none waiting). */
int64_t console_read(struct vcpu *v, uint64_t count, uint64_t buffer)
{
	char c;
	int64_t n = 0;
	int got;
	if (!v->domain->privileged)
		return -XEN_EPERM;
	while ((uint64_t)n < (uint32_t)count && (got = console_getc()) >= 0) {
		c = (char)got;
		if (!copy_to_guest(v, buffer + (uint64_t)n, &c, 1))
			return -XEN_EFAULT;
		n++;
	}
	return n;
}
