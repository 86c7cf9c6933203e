/*
 * xc.h — Dom0's calls into the hypervisor's control interface, after Xen's
 * libxenctrl (tools/libs/ctrl): one small function per domctl or memory_op,
 * each returning 0 (or a count) or Xen's negative errno.
 */
#ifndef DOM0_XC_H
#define DOM0_XC_H

#include "hypercall.h"
#include "xen_domctl.h"

/** True once Dom0 found itself on a Xen-compatible hypervisor (main.c); false natively. */
extern bool xc_on_xen;

/** A new, empty, paused domain (HVM with nested paging if @p hvm, else PV); its id in @p domid. */
int64_t xc_domain_create(bool hvm, uint16_t *domid);
/** Its guest-physical size, @p kib KiB. */
int64_t xc_domain_max_mem(uint16_t domid, uint64_t kib);
/** Frames at @p count guest frame numbers @p gfns of @p domid; how many were given. */
int64_t xc_domain_populate(uint16_t domid, const uint64_t *gfns, uint64_t count);
/** Map frame @p gfn of @p domid at Dom0's page @p gpfn (XENMAPSPACE_gmfn_foreign). */
int64_t xc_map_foreign(uint16_t domid, uint64_t gfn, uint64_t gpfn);
/** Undo the mapping at Dom0's page @p gpfn. */
int64_t xc_unmap_foreign(uint64_t gpfn);
/** vCPU 0's entry state: RIP, RSP, RDI (the command line's guest-physical address). */
int64_t xc_vcpu_set_entry(uint16_t domid, uint64_t rip, uint64_t rsp, uint64_t rdi);
/** XEN_DOMCTL_getdomaininfo of exactly @p domid (-ESRCH: none). */
int64_t xc_domain_info(uint16_t domid, struct xen_domctl_getdomaininfo *info);
/** Pause, unpause, destroy. */
int64_t xc_domain_pause(uint16_t domid);
int64_t xc_domain_unpause(uint16_t domid);
int64_t xc_domain_destroy(uint16_t domid);
/** Give the rest of Dom0's slice to the other domains (natively: nothing). */
void xc_yield(void);
/** Xen's errno as a word: "EPERM", "ESRCH", ... */
const char *xc_error_name(int64_t error);

#endif
