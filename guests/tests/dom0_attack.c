/*
 * dom0_attack — a DomU that tries what only Dom0 may do (lab 4, DESIGN §10):
 * domctl on Dom0 and on itself, giving memory to another domain, mapping
 * Dom0's memory (a foreign mapping), undoing a mapping, reading the
 * hypervisor's console. Each must fail with Xen's error and change nothing;
 * the grader checks Dom0 and the other domains afterwards (xl list).
 *
 * Prints, for each try, `attack <what>: <result>`; the domain ids it aims
 * at beside Dom0 come from the nonce (one that does not exist: -ESRCH).
 */
#include "guest.h"
#include "hypercall.h"
#include "xen_domctl.h"

static int64_t domctl(uint32_t cmd, uint16_t domid)
{
	static struct xen_domctl op;
	memset(&op, 0, sizeof(op));
	op.cmd = cmd;
	op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op.domain = domid;
	if (cmd == XEN_DOMCTL_max_mem)
		op.u.max_mem.max_memkb = 1024;
	return hypercall3(HYPERCALL_domctl, (uint64_t)(uintptr_t)&op, 0, 0);
}

static uint8_t target_page[4096] __attribute__((aligned(4096)));

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	bool pv = strcmp(guest_platform(), "pv") == 0;
	if (!pv && !hypercall_find_xen())
		guest_skip("dom0_attack needs the pv build or an HVM domain (this is %s)", guest_platform());
	uint16_t missing = (uint16_t)(1000 + nonce % 1000);
	gprintf("attack: nonce=%llu, missing domain %u\n", (unsigned long long)nonce, missing);
	gprintf("attack createdomain: %lld\n", (long long)domctl(XEN_DOMCTL_createdomain, 0));
	gprintf("attack pausedomain d0: %lld\n", (long long)domctl(XEN_DOMCTL_pausedomain, 0));
	gprintf("attack destroydomain d0: %lld\n", (long long)domctl(XEN_DOMCTL_destroydomain, 0));
	gprintf("attack max_mem d0: %lld\n", (long long)domctl(XEN_DOMCTL_max_mem, 0));
	gprintf("attack getdomaininfo self: %lld\n", (long long)domctl(XEN_DOMCTL_getdomaininfo, DOMID_SELF));

	uint64_t gfn = 1 + nonce % 64;
	struct xen_memory_reservation r = {.extent_start = (uint64_t)(uintptr_t)&gfn, .nr_extents = 1, .domid = 0};
	gprintf("attack populate_physmap d0: %lld\n", (long long)xen_memory_op(XENMEM_populate_physmap, &r));
	r.domid = missing;
	gprintf("attack populate_physmap d%u: %lld\n", missing, (long long)xen_memory_op(XENMEM_populate_physmap, &r));

	uint64_t gpfn = (uint64_t)(uintptr_t)target_page / 4096;
	int32_t err = 0;
	struct xen_add_to_physmap_batch b = {.domid = DOMID_SELF, .space = XENMAPSPACE_gmfn_foreign, .size = 1,
					     .foreign_domid = 0, .idxs = (uint64_t)(uintptr_t)&gfn,
					     .gpfns = (uint64_t)(uintptr_t)&gpfn, .errs = (uint64_t)(uintptr_t)&err};
	target_page[0] = (uint8_t)nonce;
	gprintf("attack map d0 page 0x%llx: %lld\n", (unsigned long long)gfn,
		(long long)xen_memory_op(XENMEM_add_to_physmap_batch, &b));
	gprintf("attack own page kept: %s\n", target_page[0] == (uint8_t)nonce ? "yes" : "no");
	struct xen_remove_from_physmap rm = {.domid = 0, .gpfn = gpfn};
	gprintf("attack remove_from_physmap d0: %lld\n", (long long)xen_memory_op(XENMEM_remove_from_physmap, &rm));
	char buffer[16];
	gprintf("attack console read: %lld\n",
		(long long)hypercall3(HYPERCALL_console_io, CONSOLEIO_read, sizeof(buffer), (uint64_t)(uintptr_t)buffer));
	guest_pass();
}
