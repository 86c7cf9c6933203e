/*
 * evtchn_pingpong — two domains play ping-pong over an interdomain event
 * channel (Xen's EVTCHNOP_alloc_unbound, bind_interdomain, send, status,
 * close), and a third tries what it must not (lab 4).
 *
 * No xenstore yet, so the domains learn each other from their command
 * lines, and port numbers are deterministic (the lowest free one, and a
 * fresh domain has none bound):
 *   role=ping peer=B       allocates port 1 for B, waits until B binds it,
 *                          then sends; each reply is a round
 *   role=pong peer=A port=1  binds to A's port 1 (retrying while A has not
 *                          allocated it yet), answers every event
 *   role=attack victim=A   sends on, closes, binds and allocates ports that
 *                          are not its own: every call refused, the game
 *                          undisturbed
 * Rounds: 20 + nonce % 40 (rounds=N sets them). With bench=1 (make bench)
 * ping also prints `BENCH null_hypercall N cycles` (xen_version, N times)
 * and `BENCH evtchn_round_trip N cycles` (the rounds, TSC cycles under
 * -icount), and the waits skip their status checks. Events are polled (pending bit of the
 * shared-info page, SCHEDOP_yield between looks): no upcall needed.
 * pv build, or the image build as an HVM domain; natively: SKIP.
 */
#include "guest.h"
#include "hypercall.h"
#include "x86.h"

#define MAX_WAIT 20000 /* yields before giving up on the other domain */

static uint8_t own_shared_page[4096] __attribute__((aligned(4096)));
static struct shared_info *info;
static bool bench;

static int64_t port_op(unsigned cmd, uint32_t port)
{
	struct evtchn_port_arg arg = {.port = port};
	return xen_event_channel_op(cmd, &arg);
}

static void yield(void)
{
	xen_sched_op(SCHEDOP_yield, NULL);
}

/* Take port @port's event if it is pending: clear its pending bit. */
static bool take_event(uint32_t port)
{
	uint64_t bit = 1ull << (port % 64);
	return __atomic_fetch_and(&info->evtchn_pending[port / 64], ~bit, __ATOMIC_SEQ_CST) & bit;
}

static struct evtchn_status status_of(uint32_t port)
{
	struct evtchn_status s = {.dom = DOMID_SELF, .port = port};
	if (xen_event_channel_op(EVTCHNOP_status, &s) != 0)
		guest_fail("status(%u) failed", port);
	return s;
}

/* The next event on @port; fails if the other end is gone (the port is
 * then unbound) or silent for too long. */
static void wait_event(uint32_t port, unsigned round)
{
	for (unsigned i = 0; i < MAX_WAIT; i++) {
		if (take_event(port))
			return;
		if (!bench && status_of(port).status != EVTCHNSTAT_interdomain)
			guest_fail("round %u: the other end of port %u closed", round, port);
		yield();
	}
	guest_fail("no event on port %u in round %u", port, round);
}

static void ping(uint64_t nonce, unsigned peer, unsigned rounds)
{
	struct evtchn_alloc_unbound alloc = {.dom = DOMID_SELF, .remote_dom = (uint16_t)peer};
	int64_t r = xen_event_channel_op(EVTCHNOP_alloc_unbound, &alloc);
	uint32_t port = alloc.port;
	struct evtchn_status s = status_of(port);
	gprintf("alloc_unbound(remote d%u): %ld, port %u; status %u, unbound for d%u\n", peer, r, port, s.status,
		s.u.unbound_dom);
	struct evtchn_alloc_unbound foreign = {.dom = (uint16_t)peer, .remote_dom = DOMID_SELF};
	gprintf("alloc_unbound in d%u's table: %ld\n", peer, xen_event_channel_op(EVTCHNOP_alloc_unbound, &foreign));
	unsigned waited = 0;
	while ((s = status_of(port)).status != EVTCHNSTAT_interdomain)
		if (++waited == MAX_WAIT)
			guest_fail("d%u never bound port %u", peer, port);
		else
			yield();
	gprintf("bound: status %u, remote d%u port %u\n", s.status, s.u.interdomain.dom, s.u.interdomain.port);
	if (bench) {
		uint64_t start = rdtsc();
		for (unsigned i = 0; i < rounds; i++)
			xen_version(XENVER_version, NULL);
		gprintf("BENCH null_hypercall %u %lu\n", rounds, rdtsc() - start);
	}
	unsigned got = 0;
	uint64_t start = rdtsc();
	for (unsigned round = 1; round <= rounds; round++) {
		if (port_op(EVTCHNOP_send, port) != 0)
			guest_fail("send failed in round %u", round);
		wait_event(port, round);
		got++;
	}
	if (bench)
		gprintf("BENCH evtchn_round_trip %u %lu\n", rounds, rdtsc() - start);
	gprintf("ping: %u rounds, %u replies, nonce %lu\n", rounds, got, nonce);
	r = port_op(EVTCHNOP_close, port);
	gprintf("close(%u): %ld; status %u\n", port, r, status_of(port).status);
}

static void pong(unsigned peer, uint32_t remote_port, unsigned rounds)
{
	struct evtchn_bind_interdomain bind = {.remote_dom = (uint16_t)peer, .remote_port = remote_port};
	int64_t r;
	unsigned tries = 0;
	while ((r = xen_event_channel_op(EVTCHNOP_bind_interdomain, &bind)) == -XEN_EINVAL && ++tries < MAX_WAIT)
		yield(); /* the peer has not allocated it yet */
	uint32_t port = bind.local_port;
	gprintf("bind_interdomain(d%u port %u): %ld, local port %u\n", peer, remote_port, r, port);
	if (r != 0)
		guest_fail("could not bind");
	/* Xen raises the new port at once, in case an event was sent before. */
	gprintf("pending after the bind: %u\n", take_event(port));
	struct evtchn_status s = status_of(port);
	gprintf("status %u, remote d%u port %u\n", s.status, s.u.interdomain.dom, s.u.interdomain.port);
	bind.remote_port = remote_port;
	gprintf("bind_interdomain again: %ld\n", xen_event_channel_op(EVTCHNOP_bind_interdomain, &bind));
	unsigned got = 0;
	for (unsigned round = 1; round <= rounds; round++) {
		wait_event(port, round);
		got++;
		if (port_op(EVTCHNOP_send, port) != 0)
			guest_fail("send failed in round %u", round);
	}
	gprintf("pong: %u pings answered\n", got);
	unsigned waited = 0;
	while ((s = status_of(port)).status == EVTCHNSTAT_interdomain)
		if (++waited == MAX_WAIT)
			guest_fail("the peer never closed");
		else
			yield();
	int64_t sent = port_op(EVTCHNOP_send, port); /* nobody there: dropped, 0 */
	gprintf("after the peer closed: status %u, unbound for d%u; send: %ld; close: %ld\n", s.status,
		s.u.unbound_dom, sent, port_op(EVTCHNOP_close, port));
}

/* Every call on another domain's ports is refused; the game goes on. */
static void attack(uint64_t nonce, unsigned victim)
{
	unsigned refused = 0;
	for (uint32_t port = 1; port <= 8; port++)
		refused += port_op(EVTCHNOP_send, port) == -XEN_EINVAL;
	gprintf("send on ports 1-8, none its own: %u of 8 -EINVAL\n", refused);
	gprintf("close(1): %ld\n", port_op(EVTCHNOP_close, 1));
	struct evtchn_bind_interdomain bind = {.remote_dom = (uint16_t)victim, .remote_port = 1};
	gprintf("bind_interdomain(d%u port 1, not meant for it): %ld\n", victim,
		xen_event_channel_op(EVTCHNOP_bind_interdomain, &bind));
	bind.remote_dom = (uint16_t)(100 + nonce % 100);
	gprintf("bind_interdomain(d%u, no such domain): %ld\n", bind.remote_dom,
		xen_event_channel_op(EVTCHNOP_bind_interdomain, &bind));
	struct evtchn_alloc_unbound alloc = {.dom = (uint16_t)victim, .remote_dom = DOMID_SELF};
	gprintf("alloc_unbound in d%u's table: %ld\n", victim, xen_event_channel_op(EVTCHNOP_alloc_unbound, &alloc));
	struct evtchn_status s = {.dom = (uint16_t)victim, .port = 1};
	gprintf("status of d%u's port 1: %ld\n", victim, xen_event_channel_op(EVTCHNOP_status, &s));
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	bool pv = strcmp(guest_platform(), "pv") == 0;
	if (!pv && !hypercall_find_xen())
		guest_skip("event channels need the pv build or an HVM domain (this is %s)", guest_platform());
	char role[16] = "";
	guest_cmdline_get("role", role, sizeof(role));
	unsigned rounds = guest_cmdline_u64("rounds", 20 + nonce % 40);
	bench = guest_cmdline_u64("bench", 0);
	gprintf("evtchn_pingpong: nonce=%lu role=%s\n", nonce, role);
	if (pv) {
		info = guest_shared_info();
	} else {
		info = (struct shared_info *)own_shared_page;
		if (xen_map_shared_info(info) != 0)
			guest_fail("add_to_physmap(shared_info) failed");
	}
	if (strcmp(role, "ping") == 0)
		ping(nonce, guest_cmdline_u64("peer", 0), rounds);
	else if (strcmp(role, "pong") == 0)
		pong(guest_cmdline_u64("peer", 0), guest_cmdline_u64("port", 1), rounds);
	else if (strcmp(role, "attack") == 0)
		attack(nonce, guest_cmdline_u64("victim", 1));
	else
		guest_error("role= must be ping, pong or attack");
	guest_pass();
}
