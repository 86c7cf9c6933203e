/**
 * @file xen_domctl.h
 * @brief Xen's control interface, the part Dom0's toolstack uses: domctl and
 * the memory_op sub-operations that act on another domain.
 *
 * Numbers and layouts are Xen's (xen/include/public/domctl.h, memory.h,
 * arch-x86/xen.h, arch-x86/xen-x86_64.h), checked field by field below with
 * static assertions; the hypervisor and Dom0 both include this header. Only
 * Dom0 may use any of it: another domain gets -EPERM (domctl) or -ESRCH /
 * -EPERM (memory_op on a domain not its own), as on Xen.
 */
#ifndef GUEST_XEN_DOMCTL_H
#define GUEST_XEN_DOMCTL_H

#include <stdint.h>

/** Hypercall 36: arg = struct xen_domctl. */
#define HYPERCALL_domctl 36
/** domctl.interface_version Xen 4.20's header gives; another one is -EACCES on Xen (-EINVAL here). */
#define XEN_DOMCTL_INTERFACE_VERSION 0x00000018
/** Domain ids from here up are not ordinary domains (DOMID_SELF is 0x7ff0). */
#define DOMID_FIRST_RESERVED 0x7ff0

/** @name domctl commands (domctl.h)
 * @{ */
#define XEN_DOMCTL_createdomain 1    /**< a new, empty, paused domain; its id comes back in domctl.domain */
#define XEN_DOMCTL_destroydomain 2   /**< end it and free everything it holds */
#define XEN_DOMCTL_pausedomain 3     /**< pause count + 1 */
#define XEN_DOMCTL_unpausedomain 4   /**< pause count - 1: it runs at 0 */
#define XEN_DOMCTL_getdomaininfo 5   /**< struct xen_domctl_getdomaininfo of exactly that domain */
#define XEN_DOMCTL_max_mem 11        /**< how much memory it may have (KiB) */
#define XEN_DOMCTL_setvcpucontext 12 /**< vCPU 0's entry state (struct vcpu_guest_context) */
/** @} */

/** @name createdomain flags
 * @{ */
#define XEN_DOMCTL_CDF_hvm (1u << 0) /**< hardware-virtualized (else PV) */
#define XEN_DOMCTL_CDF_hap (1u << 1) /**< with nested paging (else shadow paging) */
/** @} */

/** @name getdomaininfo flags; the shutdown reason is in bits 16-23
 * @{ */
#define XEN_DOMINF_dying (1u << 0)
#define XEN_DOMINF_hvm_guest (1u << 1)
#define XEN_DOMINF_shutdown (1u << 2)
#define XEN_DOMINF_paused (1u << 3)
#define XEN_DOMINF_blocked (1u << 4)
#define XEN_DOMINF_running (1u << 5)
#define XEN_DOMINF_hap (1u << 8)
#define XEN_DOMINF_shutdownshift 16
#define XEN_DOMINF_shutdownmask 255
/** @} */

/** x86's struct xen_arch_domainconfig (arch-x86/xen.h). */
struct xen_arch_domainconfig {
	uint32_t emulation_flags;
	uint32_t misc_flags;
};

/** XEN_DOMCTL_createdomain (IN; Hypatia reads flags and max_vcpus, which must be 0 or 1). */
struct xen_domctl_createdomain {
	uint32_t ssidref;
	uint8_t handle[16];
	uint32_t flags;          /**< XEN_DOMCTL_CDF_* */
	uint32_t iommu_opts;
	uint32_t max_vcpus;
	uint32_t max_evtchn_port;
	int32_t max_grant_frames;
	int32_t max_maptrack_frames;
	uint32_t grant_opts;
	struct {
		uint16_t opts;
		uint16_t nr;
	} altp2m;
	uint32_t vmtrace_size;
	uint32_t cpupool_id;
	struct xen_arch_domainconfig arch;
};

/** XEN_DOMCTL_getdomaininfo (OUT). */
struct xen_domctl_getdomaininfo {
	uint16_t domain;
	uint16_t pad1;
	uint32_t flags;              /**< XEN_DOMINF_*, shutdown reason in bits 16-23 */
	uint64_t tot_pages;          /**< pages it has */
	uint64_t max_pages;          /**< pages it may have (max_mem) */
	uint64_t outstanding_pages;
	uint64_t shr_pages;
	uint64_t paged_pages;
	uint64_t shared_info_frame;  /**< its shared-info page's frame (0: none) */
	uint64_t cpu_time;           /**< nanoseconds its vCPU has run */
	uint32_t nr_online_vcpus;
	uint32_t max_vcpu_id;
	uint32_t ssidref;
	uint8_t handle[16];
	uint32_t cpupool;
	uint8_t gpaddr_bits;
	uint8_t pad2[7];
	struct xen_arch_domainconfig arch_config;
};

/** XEN_DOMCTL_max_mem (IN). */
struct xen_domctl_max_mem {
	uint64_t max_memkb;
};

/** XEN_DOMCTL_setvcpucontext (IN): @c ctxt points at a struct vcpu_guest_context. */
struct xen_domctl_vcpucontext {
	uint32_t vcpu;
	uint32_t pad;
	uint64_t ctxt;
};

/** The domctl argument: a command, the interface version, the domain, and the command's structure. */
struct xen_domctl {
	uint32_t cmd;
	uint32_t interface_version;
	uint16_t domain;
	uint16_t pad[3];
	union {
		struct xen_domctl_createdomain createdomain;
		struct xen_domctl_getdomaininfo getdomaininfo;
		struct xen_domctl_max_mem max_mem;
		struct xen_domctl_vcpucontext vcpucontext;
		uint8_t pad[128];
	} u;
};

/** x86-64 struct cpu_user_regs (arch-x86/xen-x86_64.h). */
struct cpu_user_regs {
	uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
	uint32_t error_code, entry_vector;
	uint64_t rip;
	uint16_t cs, pad0[1];
	uint8_t saved_upcall_mask, pad1[3];
	uint64_t rflags, rsp;
	uint16_t ss, pad2[3], es, pad3[3], ds, pad4[3], fs, pad5[3], gs, pad6[3];
};

/**
 * The start of x86-64 struct vcpu_guest_context (arch-x86/xen.h): the FPU
 * area, flags and the registers. Xen's structure goes on (trap_ctxt[256],
 * the GDT frames, ctrlreg[8], callbacks, ...: 5168 bytes in all); Hypatia
 * reads this much, so a caller may pass Xen's whole structure or this part.
 */
struct vcpu_guest_context {
	uint8_t fpu_ctxt[512];
	uint64_t flags;
	struct cpu_user_regs user_regs;
};

/** @name memory_op sub-operations on other domains (memory.h)
 * @{ */
#define XENMEM_populate_physmap 6      /**< arg = struct xen_memory_reservation; returns extents done */
#define XENMEM_remove_from_physmap 15  /**< arg = struct xen_remove_from_physmap */
#define XENMEM_add_to_physmap_batch 23 /**< arg = struct xen_add_to_physmap_batch */
#define XENMAPSPACE_gmfn_foreign 4     /**< a frame of another domain (u.foreign_domid) */
/** @} */

/** XENMEM_populate_physmap: give domain @c domid a frame at each of the @c nr_extents frame numbers listed. */
struct xen_memory_reservation {
	uint64_t extent_start; /**< pointer to nr_extents guest frame numbers */
	uint64_t nr_extents;
	uint32_t extent_order; /**< 0: 4 KiB extents (the only size Hypatia offers) */
	uint32_t mem_flags;
	uint16_t domid;
	uint16_t pad[3];
};

/**
 * XENMEM_add_to_physmap_batch. With XENMAPSPACE_gmfn_foreign, frame idxs[i]
 * of domain u.foreign_domid appears at gpfns[i] of domain @c domid (Dom0
 * itself); errs[i] gets each page's result. Xen offers foreign mapping only
 * through the batch (plain add_to_physmap has no field for the other domain).
 */
struct xen_add_to_physmap_batch {
	uint16_t domid;
	uint16_t space;
	uint16_t size;
	uint16_t foreign_domid;
	uint64_t idxs;  /**< pointer to size frame numbers of the foreign domain */
	uint64_t gpfns; /**< pointer to size frame numbers of the caller's physmap */
	uint64_t errs;  /**< pointer to size int32 results */
};

/** XENMEM_remove_from_physmap: undo a mapping made at @c gpfn. */
struct xen_remove_from_physmap {
	uint16_t domid;
	uint16_t pad[3];
	uint64_t gpfn;
};

#define XEN_DOMCTL_OFFSET(type, field) __builtin_offsetof(struct type, field)
_Static_assert(sizeof(struct xen_domctl) == 144 && XEN_DOMCTL_OFFSET(xen_domctl, domain) == 8 &&
		       XEN_DOMCTL_OFFSET(xen_domctl, u) == 16,
	       "xen_domctl layout");
_Static_assert(sizeof(struct xen_domctl_createdomain) == 68 && XEN_DOMCTL_OFFSET(xen_domctl_createdomain, flags) == 20 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_createdomain, max_vcpus) == 28 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_createdomain, grant_opts) == 44 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_createdomain, vmtrace_size) == 52 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_createdomain, arch) == 60,
	       "xen_domctl_createdomain layout");
_Static_assert(sizeof(struct xen_domctl_getdomaininfo) == 112 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, flags) == 4 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, tot_pages) == 8 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, max_pages) == 16 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, shared_info_frame) == 48 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, cpu_time) == 56 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, nr_online_vcpus) == 64 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, handle) == 76 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, cpupool) == 92 &&
		       XEN_DOMCTL_OFFSET(xen_domctl_getdomaininfo, arch_config) == 104,
	       "xen_domctl_getdomaininfo layout");
_Static_assert(sizeof(struct cpu_user_regs) == 200 && XEN_DOMCTL_OFFSET(cpu_user_regs, rdi) == 112 &&
		       XEN_DOMCTL_OFFSET(cpu_user_regs, rip) == 128 && XEN_DOMCTL_OFFSET(cpu_user_regs, rflags) == 144 &&
		       XEN_DOMCTL_OFFSET(cpu_user_regs, rsp) == 152 && XEN_DOMCTL_OFFSET(cpu_user_regs, gs) == 192,
	       "cpu_user_regs layout");
_Static_assert(XEN_DOMCTL_OFFSET(vcpu_guest_context, user_regs) == 520, "vcpu_guest_context layout");
_Static_assert(sizeof(struct xen_memory_reservation) == 32 && XEN_DOMCTL_OFFSET(xen_memory_reservation, domid) == 24,
	       "xen_memory_reservation layout");
_Static_assert(sizeof(struct xen_add_to_physmap_batch) == 32 &&
		       XEN_DOMCTL_OFFSET(xen_add_to_physmap_batch, foreign_domid) == 6 &&
		       XEN_DOMCTL_OFFSET(xen_add_to_physmap_batch, idxs) == 8,
	       "xen_add_to_physmap_batch layout");
_Static_assert(sizeof(struct xen_remove_from_physmap) == 16, "xen_remove_from_physmap layout");

#endif
