/*
 * evtchn_send.c — LAB 4: a send that crosses domains (labs/lab4/README.md, part 1).
 *
 * An interdomain port holds, in struct evtchn (event_channel.h), the other
 * domain (remote_domain) and the port there (value). A send on it raises
 * that remote port, with the same steps a VIRQ or an IPI takes
 * (evtchn_raise: pending bit, mask, selector, upcall).
 */
#include "console.h"
#include "domain.h"
#include "event_channel.h"

/*
 * LAB 4: EVTCHNOP_send on @port of domain @d, an EVTCHNSTAT_interdomain
 * port (event_channel.c checked that much). Find the domain at the other
 * end (domain_by_domid(e->remote_domain); NULL once it is gone) and its
 * port (e->value); raise that port with evtchn_raise() only if it is still
 * EVTCHNSTAT_interdomain and points back at (@d, @port) — the other side
 * may have closed it and bound the number to something else. Either way
 * the send returns 0 (Xen drops an event with nobody to take it).
 */
int64_t evtchn_send_interdomain(struct domain *d, uint32_t port)
{
	(void)d, (void)port;
	static bool said; /* once: a guest may retry many times */
	if (!said && (said = true))
		kprintf("[hv] LAB 4: evtchn_send_interdomain() not implemented (kernel/dom/evtchn_send.c)\n");
	return -XEN_ENOSYS;
}
