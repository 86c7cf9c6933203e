/*
 * evtchn_send.c — LAB 4: a send that crosses domains (labs/lab4/README.md, part 1).
 *
 * An interdomain port holds, in struct evtchn (event_channel.h), the other
 * domain (remote_domain) and the port there (value). A send on it raises
 * that remote port, with the same steps a VIRQ or an IPI takes
 * (evtchn_raise: pending bit, mask, selector, upcall).
 */
#include "domain.h"
#include "event_channel.h"

int64_t evtchn_send_interdomain(struct domain *d, uint32_t port)
{
	const struct evtchn *e = &d->evtchn.port[port];
	struct domain *remote = domain_by_domid(e->remote_domain);
	/* The other end must still be connected to this very port; a domain
	 * gone, or a port closed and reused, gets nothing. */
	if (!remote || e->value == 0 || e->value >= EVTCHN_PORTS)
		return 0;
	const struct evtchn *r = &remote->evtchn.port[e->value];
	if (r->state != EVTCHNSTAT_interdomain || r->remote_domain != d->id || r->value != port)
		return 0;
	evtchn_raise(remote, e->value);
	return 0;
}
