/*
 * xc.c — Dom0's control calls (xc.h): fill Xen's structure, make the
 * hypercall (domctl 36, memory_op 12), hand back Xen's answer.
 */
#include "dom0.h"
#include "xc.h"

bool xc_on_xen;

static int64_t domctl(struct xen_domctl *op)
{
	op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	return hypercall3(HYPERCALL_domctl, (uint64_t)(uintptr_t)op, 0, 0);
}

static int64_t domctl_simple(uint32_t cmd, uint16_t domid)
{
	struct xen_domctl op = {.cmd = cmd, .domain = domid};
	return domctl(&op);
}

int64_t xc_domain_create(bool hvm, uint16_t *domid)
{
	struct xen_domctl op = {.cmd = XEN_DOMCTL_createdomain, .domain = 0};
	op.u.createdomain.flags = hvm ? XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap : 0;
	op.u.createdomain.max_vcpus = 1;
	op.u.createdomain.max_grant_frames = -1;
	op.u.createdomain.max_maptrack_frames = -1;
	int64_t r = domctl(&op);
	if (r == 0)
		*domid = op.domain;
	return r;
}

int64_t xc_domain_max_mem(uint16_t domid, uint64_t kib)
{
	struct xen_domctl op = {.cmd = XEN_DOMCTL_max_mem, .domain = domid};
	op.u.max_mem.max_memkb = kib;
	return domctl(&op);
}

int64_t xc_domain_populate(uint16_t domid, const uint64_t *gfns, uint64_t count)
{
	struct xen_memory_reservation r = {
		.extent_start = (uint64_t)(uintptr_t)gfns, .nr_extents = count, .extent_order = 0, .domid = domid};
	return xen_memory_op(XENMEM_populate_physmap, &r);
}

int64_t xc_map_foreign(uint16_t domid, uint64_t gfn, uint64_t gpfn)
{
	int32_t err = 0;
	struct xen_add_to_physmap_batch b = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_gmfn_foreign,
		.size = 1,
		.foreign_domid = domid,
		.idxs = (uint64_t)(uintptr_t)&gfn,
		.gpfns = (uint64_t)(uintptr_t)&gpfn,
		.errs = (uint64_t)(uintptr_t)&err,
	};
	int64_t r = xen_memory_op(XENMEM_add_to_physmap_batch, &b);
	return r ? r : err;
}

int64_t xc_unmap_foreign(uint64_t gpfn)
{
	struct xen_remove_from_physmap r = {.domid = DOMID_SELF, .gpfn = gpfn};
	return xen_memory_op(XENMEM_remove_from_physmap, &r);
}

int64_t xc_vcpu_set_entry(uint16_t domid, uint64_t rip, uint64_t rsp, uint64_t rdi)
{
	static struct vcpu_guest_context ctxt;
	memset(&ctxt, 0, sizeof(ctxt));
	ctxt.user_regs.rip = rip;
	ctxt.user_regs.rsp = rsp;
	ctxt.user_regs.rdi = rdi;
	ctxt.user_regs.rflags = 0x2;
	struct xen_domctl op = {.cmd = XEN_DOMCTL_setvcpucontext, .domain = domid};
	op.u.vcpucontext.vcpu = 0;
	op.u.vcpucontext.ctxt = (uint64_t)(uintptr_t)&ctxt;
	return domctl(&op);
}

int64_t xc_domain_info(uint16_t domid, struct xen_domctl_getdomaininfo *info)
{
	struct xen_domctl op = {.cmd = XEN_DOMCTL_getdomaininfo, .domain = domid};
	int64_t r = domctl(&op);
	if (r == 0)
		*info = op.u.getdomaininfo;
	return r;
}

int64_t xc_domain_pause(uint16_t domid)
{
	return domctl_simple(XEN_DOMCTL_pausedomain, domid);
}

int64_t xc_domain_unpause(uint16_t domid)
{
	return domctl_simple(XEN_DOMCTL_unpausedomain, domid);
}

int64_t xc_domain_destroy(uint16_t domid)
{
	return domctl_simple(XEN_DOMCTL_destroydomain, domid);
}

void xc_yield(void)
{
	if (xc_on_xen)
		xen_sched_op(SCHEDOP_yield, NULL);
}

const char *xc_error_name(int64_t error)
{
	switch (-error) {
	case XEN_EPERM: return "EPERM (not this domain's to ask)";
	case XEN_ENOENT: return "ENOENT";
	case XEN_ESRCH: return "ESRCH (no such domain)";
	case 12: return "ENOMEM (out of host memory)";
	case 13: return "EACCES (domctl interface version)";
	case XEN_EFAULT: return "EFAULT";
	case XEN_EBUSY: return "EBUSY";
	case XEN_EEXIST: return "EEXIST";
	case XEN_EINVAL: return "EINVAL";
	case XEN_ENOSPC: return "ENOSPC";
	case XEN_ENOSYS: return "ENOSYS (not offered by this hypervisor)";
	default: return "an unknown error";
	}
}
