/*
 * event_channel.c — Xen's event channels, 2-level ABI: the one way the
 * hypervisor (and, from lab 4 on, another domain) signals a guest.
 *
 * An event channel is a *port* of a domain, a small number the guest got by
 * binding it to a source: a virtual IRQ such as the vCPU's timer
 * (EVTCHNOP_bind_virq), an IPI of its own (bind_ipi), or another
 * domain's port (lab 4): one domain allocates a port *unbound*, naming who
 * may connect to it (alloc_unbound), the other binds a port of its own to
 * it (bind_interdomain); from then on a send on either end raises the other
 * (the student's evtchn_send_interdomain, evtchn_send.c), and closing one
 * end leaves the other unbound again, as in Xen. The state of every port is split in two:
 * - what only the hypervisor may change — what the port is bound to — in
 *   struct evtchn_table (domain->evtchn), here;
 * - what both sides change, in the domain's shared-info page (xen.h): one
 *   *pending* and one *mask* bit per port (evtchn_pending[], evtchn_mask[]),
 *   and per vCPU a selector word saying which 64-port groups have something
 *   pending (evtchn_pending_sel) and the upcall's pending byte and mask.
 *
 * Raising port p (Xen's evtchn_2l_set_pending) sets its pending bit; if it
 * was clear and the port is not masked, it sets the selector bit of p's
 * group; if that was clear, it sets evtchn_upcall_pending; if that was
 * clear, the vCPU gets an *upcall*: its callback vector, delivered through
 * the guest's IDT (PV) or injected (HVM) as soon as the guest's mask
 * (evtchn_upcall_mask, or RFLAGS.IF for HVM) allows. Every "stop if it was
 * already set" is what makes a storm of events cost the guest one upcall.
 * The guest's handler clears evtchn_upcall_pending, then exchanges the
 * selector for 0 and, group by group, the pending bits it finds unmasked.
 *
 * The guest and the hypervisor write the page concurrently (one day on
 * other CPUs): every read-modify-write here is a locked atomic, as the
 * guest's own are.
 */
#include "domain.h"
#include "event_channel.h"
#include "hypercall.h"
#include "memlayout.h"
#include "vcpu.h"
#include "xen.h"

struct domain *domain_by_domid(unsigned id)
{
	for (unsigned i = 0; i < domain_count; i++)
		if (domain_table[i] && domain_table[i]->id == id && domain_table[i]->state == DOMAIN_RUNNABLE)
			return domain_table[i];
	return NULL;
}

struct shared_info *domain_shared_info(struct domain *d)
{
	uint64_t gpa = d->shared_info_gpa;
	paddr_t hpa = gpa ? domain_gpa_to_hpa(d, gpa) : 0;
	return hpa ? phys_to_virt(hpa) : NULL;
}

/* Set bit @bit of *@word; true if it was set already. */
static bool test_and_set(uint64_t *word, unsigned bit)
{
	return __atomic_fetch_or(word, 1ull << bit, __ATOMIC_SEQ_CST) & (1ull << bit);
}

/* The last two steps of a raise, shared with unmask: the selector bit of
 * the port's group, then the upcall. */
static void mark_upcall(struct shared_info *info, unsigned vcpu, unsigned port)
{
	struct vcpu_info *vi = &info->vcpu_info[vcpu];
	if (test_and_set(&vi->evtchn_pending_sel, port / 64))
		return;
	/* Delivery itself happens before the guest next runs, as long as the
	 * byte stays set: evtchn_upcall_pending(). */
	__atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
}

/* A port became pending since the scheduler last looked (evtchn_take_wakeup). */
static bool wakeup;

bool evtchn_take_wakeup(void)
{
	bool was = wakeup;
	wakeup = false;
	return was;
}

void evtchn_raise(struct domain *d, unsigned port)
{
	struct shared_info *info = domain_shared_info(d);
	if (!info) /* no page registered: there is nowhere to record the event */
		return;
	if (test_and_set(&info->evtchn_pending[port / 64], port % 64))
		return;
	wakeup = true;
	if (__atomic_load_n(&info->evtchn_mask[port / 64], __ATOMIC_SEQ_CST) & (1ull << (port % 64)))
		return;
	mark_upcall(info, d->evtchn.port[port].vcpu, port);
}

void evtchn_send_virq(struct domain *d, unsigned virq)
{
	uint32_t port = virq < EVTCHN_VIRQS ? d->evtchn.virq_port[virq] : 0;
	if (port)
		evtchn_raise(d, port);
}

bool evtchn_upcall_pending(struct vcpu *v)
{
	struct domain *d = v->domain;
	if (!d->evtchn.callback_vector)
		return false;
	struct shared_info *info = domain_shared_info(d);
	if (!info)
		return false;
	/* With an empty selector there is nothing to tell: the byte is then
	 * the PV PIC's hint (pv_publish_pending), not an event. */
	struct vcpu_info *vi = &info->vcpu_info[v->id];
	return __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) &&
	       __atomic_load_n(&vi->evtchn_pending_sel, __ATOMIC_SEQ_CST);
}

/* The lowest closed port, or 0 if every one is open. */
static uint32_t free_port(struct evtchn_table *t)
{
	for (uint32_t p = 1; p < EVTCHN_PORTS; p++)
		if (t->port[p].state == EVTCHNSTAT_closed)
			return p;
	return 0;
}

/* A port number the guest gave: 1 .. EVTCHN_PORTS-1 (Xen: -EINVAL otherwise). */
static struct evtchn *port_of(struct domain *d, uint32_t port)
{
	return port > 0 && port < EVTCHN_PORTS ? &d->evtchn.port[port] : NULL;
}

static int64_t bind_virq(struct vcpu *v, struct evtchn_bind_virq *b)
{
	struct evtchn_table *t = &v->domain->evtchn;
	if (b->virq >= EVTCHN_VIRQS)
		return -XEN_EINVAL;
	if (b->vcpu != 0) /* one vCPU per domain for now */
		return -XEN_ENOENT;
	if (t->virq_port[b->virq])
		return -XEN_EEXIST;
	uint32_t port = free_port(t);
	if (!port)
		return -XEN_ENOSPC;
	t->port[port] = (struct evtchn){.state = EVTCHNSTAT_virq, .vcpu = 0, .value = b->virq};
	t->virq_port[b->virq] = port;
	b->port = port;
	return 0;
}

static int64_t bind_ipi(struct vcpu *v, struct evtchn_bind_ipi *b)
{
	struct evtchn_table *t = &v->domain->evtchn;
	if (b->vcpu != 0)
		return -XEN_ENOENT;
	uint32_t port = free_port(t);
	if (!port)
		return -XEN_ENOSPC;
	t->port[port] = (struct evtchn){.state = EVTCHNSTAT_ipi, .vcpu = 0};
	b->port = port;
	return 0;
}

/* The other end of interdomain port @port of @d goes back to unbound,
 * waiting for @d again (Xen's evtchn_close). */
static void disconnect(struct domain *d, uint32_t port)
{
	struct evtchn *e = &d->evtchn.port[port];
	struct domain *remote = domain_by_domid(e->remote_domain);
	struct evtchn *r = remote ? port_of(remote, e->value) : NULL;
	if (r && r->state == EVTCHNSTAT_interdomain && r->remote_domain == d->id && r->value == port)
		*r = (struct evtchn){.state = EVTCHNSTAT_unbound, .vcpu = r->vcpu, .remote_domain = (uint16_t)d->id};
}

/* EVTCHNOP_alloc_unbound: a port of the caller's that @remote_dom may bind.
 * Only a privileged domain may allocate in another's table (Xen's XSM_TARGET). */
static int64_t alloc_unbound(struct vcpu *v, struct evtchn_alloc_unbound *a)
{
	struct domain *d = v->domain;
	if (a->dom != DOMID_SELF && a->dom != d->id)
		return domain_by_domid(a->dom) ? -XEN_EPERM : -XEN_ESRCH;
	uint32_t port = free_port(&d->evtchn);
	if (!port)
		return -XEN_ENOSPC;
	uint16_t remote = a->remote_dom == DOMID_SELF ? (uint16_t)d->id : a->remote_dom;
	d->evtchn.port[port] = (struct evtchn){.state = EVTCHNSTAT_unbound, .vcpu = 0, .remote_domain = remote};
	a->port = port;
	return 0;
}

/* EVTCHNOP_bind_interdomain: connect a new port to @remote_port of
 * @remote_dom, which must be unbound and allocated for the caller. */
static int64_t bind_interdomain(struct vcpu *v, struct evtchn_bind_interdomain *b)
{
	struct domain *d = v->domain;
	struct domain *remote = domain_by_domid(b->remote_dom == DOMID_SELF ? d->id : b->remote_dom);
	if (!remote)
		return -XEN_ESRCH;
	struct evtchn *r = port_of(remote, b->remote_port);
	if (!r || r->state != EVTCHNSTAT_unbound || r->remote_domain != d->id)
		return -XEN_EINVAL;
	uint32_t port = free_port(&d->evtchn);
	if (!port)
		return -XEN_ENOSPC;
	d->evtchn.port[port] = (struct evtchn){.state = EVTCHNSTAT_interdomain, .vcpu = 0,
					       .remote_domain = (uint16_t)remote->id, .value = b->remote_port};
	r->state = EVTCHNSTAT_interdomain;
	r->value = port;
	b->local_port = port;
	/* Xen raises the new local port at once: an event sent to the unbound
	 * port before the bind would otherwise be lost. */
	evtchn_raise(d, port);
	return 0;
}

void evtchn_release(struct domain *d)
{
	for (uint32_t p = 1; p < EVTCHN_PORTS; p++)
		if (d->evtchn.port[p].state == EVTCHNSTAT_interdomain)
			disconnect(d, p);
}

static int64_t close_port(struct vcpu *v, uint32_t port)
{
	struct domain *d = v->domain;
	struct evtchn *e = port_of(d, port);
	if (!e || e->state == EVTCHNSTAT_closed)
		return -XEN_EINVAL;
	if (e->state == EVTCHNSTAT_virq)
		d->evtchn.virq_port[e->value] = 0;
	if (e->state == EVTCHNSTAT_interdomain)
		disconnect(d, port);
	*e = (struct evtchn){0};
	/* A port used again must not start out pending. */
	struct shared_info *info = domain_shared_info(d);
	if (info)
		__atomic_fetch_and(&info->evtchn_pending[port / 64], ~(1ull << (port % 64)), __ATOMIC_SEQ_CST);
	return 0;
}

static int64_t send(struct vcpu *v, uint32_t port)
{
	struct evtchn *e = port_of(v->domain, port);
	if (!e)
		return -XEN_EINVAL;
	switch (e->state) {
	case EVTCHNSTAT_ipi:
		evtchn_raise(v->domain, port);
		return 0;
	case EVTCHNSTAT_unbound: /* nobody at the other end yet: dropped, as in Xen */
		return 0;
	case EVTCHNSTAT_interdomain: { /* LAB 4: kernel/dom/evtchn_send.c */
		bool woken = evtchn_take_wakeup();
		int64_t result = evtchn_send_interdomain(v->domain, port);
		/* The other domain has an event now: it runs next, as Xen's credit
		 * scheduler boosts a vCPU an event wakes — the sender gives up the
		 * rest of its slice. On one CPU that is what makes a round trip
		 * between two domains cost two hypercalls, not four. */
		if (evtchn_take_wakeup())
			v->yielded = true;
		if (woken || v->yielded)
			wakeup = true;
		return result;
	}
	default: /* closed, or a VIRQ (only the hypervisor raises those) */
		return -XEN_EINVAL;
	}
}

static int64_t status(struct vcpu *v, struct evtchn_status *s)
{
	struct domain *d = v->domain;
	if (s->dom != DOMID_SELF && s->dom != d->id)
		return -XEN_ESRCH; /* another domain's ports: Dom0's business (labs 4-5, to come) */
	if (s->port >= EVTCHN_PORTS)
		return -XEN_EINVAL;
	const struct evtchn *e = &d->evtchn.port[s->port];
	s->status = e->state;
	s->vcpu = e->vcpu;
	s->u.interdomain.dom = 0;
	s->u.interdomain.port = 0;
	if (e->state == EVTCHNSTAT_virq)
		s->u.virq = e->value;
	if (e->state == EVTCHNSTAT_unbound)
		s->u.unbound_dom = e->remote_domain;
	if (e->state == EVTCHNSTAT_interdomain) {
		s->u.interdomain.dom = e->remote_domain;
		s->u.interdomain.port = e->value;
	}
	return 0;
}

/* EVTCHNOP_unmask: clear the mask bit; an event that came while masked
 * now takes the last two steps of the raise it skipped. */
static int64_t unmask(struct vcpu *v, uint32_t port)
{
	struct domain *d = v->domain;
	struct evtchn *e = port_of(d, port);
	struct shared_info *info = domain_shared_info(d);
	if (!e)
		return -XEN_EINVAL;
	if (!info)
		return 0;
	uint64_t bit = 1ull << (port % 64);
	__atomic_fetch_and(&info->evtchn_mask[port / 64], ~bit, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&info->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) & bit)
		mark_upcall(info, e->vcpu, port);
	return 0;
}

int64_t evtchn_op(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
	/* Every argument is a small structure in guest memory: read it, act,
	 * write back what the call returns in it. */
	union {
		struct evtchn_bind_virq bind_virq;
		struct evtchn_bind_ipi bind_ipi;
		struct evtchn_port_arg port;
		struct evtchn_status status;
		struct evtchn_alloc_unbound alloc_unbound;
		struct evtchn_bind_interdomain bind_interdomain;
	} a;
	size_t size;
	switch (cmd) {
	case EVTCHNOP_bind_virq:
		size = sizeof(a.bind_virq);
		break;
	case EVTCHNOP_bind_ipi:
		size = sizeof(a.bind_ipi);
		break;
	case EVTCHNOP_close:
	case EVTCHNOP_send:
	case EVTCHNOP_unmask:
		size = sizeof(a.port);
		break;
	case EVTCHNOP_status:
		size = sizeof(a.status);
		break;
	case EVTCHNOP_alloc_unbound:
		size = sizeof(a.alloc_unbound);
		break;
	case EVTCHNOP_bind_interdomain:
		size = sizeof(a.bind_interdomain);
		break;
	default: /* init_control among them: the guest stays on the 2-level ABI */
		return -XEN_ENOSYS;
	}
	if (!copy_from_guest(v, &a, arg, size))
		return -XEN_EFAULT;
	int64_t result;
	switch (cmd) {
	case EVTCHNOP_bind_virq:
		result = bind_virq(v, &a.bind_virq);
		break;
	case EVTCHNOP_bind_ipi:
		result = bind_ipi(v, &a.bind_ipi);
		break;
	case EVTCHNOP_close:
		return close_port(v, a.port.port);
	case EVTCHNOP_send:
		return send(v, a.port.port);
	case EVTCHNOP_unmask:
		return unmask(v, a.port.port);
	case EVTCHNOP_alloc_unbound:
		result = alloc_unbound(v, &a.alloc_unbound);
		break;
	case EVTCHNOP_bind_interdomain:
		result = bind_interdomain(v, &a.bind_interdomain);
		break;
	default:
		result = status(v, &a.status);
		break;
	}
	if (result == 0 && !copy_to_guest(v, arg, &a, size))
		return -XEN_EFAULT;
	return result;
}
