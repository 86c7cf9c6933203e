/**
 * @file xen.h
 * @brief Xen's public hypercall ABI, the part Hypatia implements (docs/hypercalls.md).
 *
 * Numbers, sub-operations, error values and structure layouts are Xen's
 * (xen/include/public/: xen.h, sched.h, version.h, features.h, vcpu.h,
 * memory.h, event_channel.h, grant_table.h, hvm/hvm_op.h, hvm/params.h,
 * arch-x86/cpuid.h), written out again here for x86-64 so that a guest
 * written against this header runs on real Xen, and Xen's own guests
 * (Linux, Mini-OS) run on Hypatia. The hypervisor includes this header too:
 * one definition serves both sides, and the static assertions at the end
 * hold every offset to the one in Xen's headers.
 */
#ifndef GUEST_XEN_H
#define GUEST_XEN_H

#include <stdint.h>

/** @name Hypercall numbers, in RAX (xen.h, `__HYPERVISOR_*`)
 * @{ */
#define HYPERCALL_set_timer_op 15     /**< not offered: -ENOSYS (the periodic timer is vcpu_op's) */
#define HYPERCALL_memory_op 12        /**< (XENMEM_*, arg) */
#define HYPERCALL_xen_version 17      /**< (XENVER_*, arg) */
#define HYPERCALL_console_io 18       /**< (CONSOLEIO_*, count, buffer) */
#define HYPERCALL_grant_table_op 20   /**< (GNTTABOP_*, array of structures, count) */
#define HYPERCALL_vcpu_op 24          /**< (VCPUOP_*, vcpu id, arg) */
#define HYPERCALL_sched_op 29         /**< (SCHEDOP_*, arg) */
#define HYPERCALL_event_channel_op 32 /**< (EVTCHNOP_*, arg) */
#define HYPERCALL_hvm_op 34           /**< (HVMOP_*, arg) */
/** How many hypercalls a hypercall page holds (one 32-byte stub each). */
#define HYPERCALL_PAGE_STUBS 128
/** @} */

/** @name Error results, returned negated in RAX (Xen's errno.h: Linux's values)
 * @{ */
#define XEN_EPERM 1   /**< not allowed to this caller */
#define XEN_ENOENT 2  /**< no such object */
#define XEN_ESRCH 3   /**< no such domain */
#define XEN_EFAULT 14 /**< a pointer the hypervisor cannot read or write */
#define XEN_EBUSY 16  /**< in use */
#define XEN_EEXIST 17 /**< already there */
#define XEN_EINVAL 22 /**< a bad argument */
#define XEN_ENOSPC 28 /**< no room left (e.g. no free event-channel port) */
#define XEN_ENOSYS 38 /**< no such hypercall or sub-operation */
/** @} */

/** The caller's own domain, wherever a domid_t is asked for (xen.h). */
#define DOMID_SELF 0x7ff0

/** @name console_io (xen.h)
 * @{ */
#define CONSOLEIO_write 0 /**< RSI = byte count, RDX = buffer; returns 0 */
#define CONSOLEIO_read 1  /**< Dom0 only; -ENOSYS on Hypatia for now */
/** @} */

/** @name sched_op (sched.h)
 * @{ */
#define SCHEDOP_yield 0         /**< give up the rest of the time slice */
#define SCHEDOP_block 1         /**< unmask events and sleep until one is pending */
#define SCHEDOP_shutdown 2      /**< arg = struct sched_shutdown; does not return */
#define SCHEDOP_shutdown_code 5 /**< arg = struct sched_shutdown: the reason reported later */
/** @} */

/** @name Shutdown reasons (sched.h). Hypatia also takes any reason from 0x10
 * up as a test guest's exit code (docs/exit-codes.md).
 * @{ */
#define SHUTDOWN_poweroff 0   /**< exited normally */
#define SHUTDOWN_reboot 1     /**< wants to be restarted */
#define SHUTDOWN_suspend 2    /**< saved its state for a resume */
#define SHUTDOWN_crash 3      /**< crashed */
#define SHUTDOWN_watchdog 4   /**< its watchdog expired */
#define SHUTDOWN_soft_reset 5 /**< wants a soft reset */
/** The first reason that is a Hypatia exit code, not one of Xen's. */
#define SHUTDOWN_HYPATIA_EXIT_CODE 0x10
/** @} */

/** Argument of SCHEDOP_shutdown and SCHEDOP_shutdown_code. */
struct sched_shutdown {
	uint32_t reason; /**< SHUTDOWN_* */
};

/** @name xen_version (version.h)
 * @{ */
#define XENVER_version 0      /**< returns major << 16 | minor; arg unused */
#define XENVER_extraversion 1 /**< arg = char[16], e.g. ".0-hypatia" */
#define XENVER_get_features 6 /**< arg = struct xen_feature_info */
/** Length of the XENVER_extraversion string buffer, NUL included. */
#define XEN_EXTRAVERSION_LEN 16
/** @} */

/** Argument of XENVER_get_features. */
struct xen_feature_info {
	uint32_t submap_idx; /**< in: which 32 features (0 is the only one; others: -EINVAL) */
	uint32_t submap;     /**< out: one bit per XENFEAT_* of that group */
};

/** @name Feature bits of submap 0 (features.h)
 * @{ */
#define XENFEAT_auto_translated_physmap 2 /**< the guest sees only its own (pseudo-)physical frames */
#define XENFEAT_hvm_callback_vector 8     /**< HVM_PARAM_CALLBACK_IRQ may name a vector */
#define XENFEAT_hvm_safe_pvclock 9        /**< the PV clock is safe to use in an HVM guest */
/** @} */

/** @name memory_op (memory.h)
 * @{ */
#define XENMEM_add_to_physmap 7  /**< arg = struct xen_add_to_physmap */
#define XENMAPSPACE_shared_info 0 /**< idx 0: the shared-info page */
#define XENMAPSPACE_grant_table 1 /**< idx i: frame i of the domain's grant table (lab 4) */
/** @} */

/** Argument of XENMEM_add_to_physmap: make page @c idx of @c space appear at @c gpfn. */
struct xen_add_to_physmap {
	uint16_t domid;  /**< DOMID_SELF (only the caller's own domain) */
	uint16_t size;   /**< for the gmfn_range space only */
	uint32_t space;  /**< XENMAPSPACE_* */
	uint64_t idx;    /**< index within the space */
	uint64_t gpfn;   /**< guest frame number where it appears */
};

/** @name vcpu_op (vcpu.h)
 * @{ */
#define VCPUOP_set_periodic_timer 6  /**< arg = struct vcpu_set_periodic_timer: VIRQ_TIMER every period */
#define VCPUOP_stop_periodic_timer 7 /**< arg unused */
/** @} */

/** Argument of VCPUOP_set_periodic_timer. */
struct vcpu_set_periodic_timer {
	uint64_t period_ns; /**< period in nanoseconds (Xen refuses less than 1 ms with -EINVAL) */
};

/** @name event_channel_op (event_channel.h)
 * @{ */
#define EVTCHNOP_bind_interdomain 0 /**< arg = struct evtchn_bind_interdomain */
#define EVTCHNOP_alloc_unbound 6    /**< arg = struct evtchn_alloc_unbound */
#define EVTCHNOP_bind_virq 1    /**< arg = struct evtchn_bind_virq */
#define EVTCHNOP_close 3        /**< arg = struct evtchn_port_arg */
#define EVTCHNOP_send 4         /**< arg = struct evtchn_port_arg */
#define EVTCHNOP_status 5       /**< arg = struct evtchn_status */
#define EVTCHNOP_bind_ipi 7     /**< arg = struct evtchn_bind_ipi */
#define EVTCHNOP_unmask 9       /**< arg = struct evtchn_port_arg */
#define EVTCHNOP_init_control 11 /**< the FIFO ABI: -ENOSYS keeps a guest on the 2-level one */
/** @} */

/** @name Virtual IRQs (xen.h)
 * @{ */
#define VIRQ_TIMER 0   /**< the vCPU's timer (vcpu_op's periodic timer) */
#define VIRQ_DEBUG 1   /**< debug request */
#define VIRQ_CONSOLE 2 /**< Dom0: the hypervisor's console has input */
/** @} */

/** @name Event-channel states, as EVTCHNOP_status reports them
 * @{ */
#define EVTCHNSTAT_closed 0      /**< not in use */
#define EVTCHNSTAT_unbound 1     /**< waiting for another domain to bind */
#define EVTCHNSTAT_interdomain 2 /**< connected to another domain */
#define EVTCHNSTAT_virq 4        /**< bound to a virtual IRQ */
#define EVTCHNSTAT_ipi 5         /**< bound to an inter-processor event of the domain */
/** @} */

/** Ports of the 2-level ABI on x86-64: 64 words of 64 bits. Port 0 is never valid. */
#define EVTCHN_2L_PORTS 4096

/** Argument of EVTCHNOP_bind_virq. */
struct evtchn_bind_virq {
	uint32_t virq; /**< in: VIRQ_* */
	uint32_t vcpu; /**< in: the vCPU it is delivered to */
	uint32_t port; /**< out: the new port */
};

/** Argument of EVTCHNOP_alloc_unbound: a port of @c dom that @c remote_dom may bind. */
struct evtchn_alloc_unbound {
	uint16_t dom;        /**< in: DOMID_SELF (only a privileged caller may name another) */
	uint16_t remote_dom; /**< in: who may bind it (DOMID_SELF: the caller) */
	uint32_t port;       /**< out: the new port */
};

/** Argument of EVTCHNOP_bind_interdomain: connect a new local port to @c remote_port of @c remote_dom. */
struct evtchn_bind_interdomain {
	uint16_t remote_dom;  /**< in: the domain that allocated the port (DOMID_SELF: the caller) */
	uint16_t pad;
	uint32_t remote_port; /**< in: its port, unbound and allocated for the caller */
	uint32_t local_port;  /**< out: the caller's new port */
};

/** Argument of EVTCHNOP_bind_ipi. */
struct evtchn_bind_ipi {
	uint32_t vcpu; /**< in: the vCPU it is delivered to */
	uint32_t port; /**< out: the new port */
};

/** Argument of EVTCHNOP_close, EVTCHNOP_send and EVTCHNOP_unmask (Xen: evtchn_close, _send, _unmask). */
struct evtchn_port_arg {
	uint32_t port; /**< in: the port */
};

/** Argument of EVTCHNOP_status. */
struct evtchn_status {
	uint16_t dom;    /**< in: DOMID_SELF */
	uint16_t pad;
	uint32_t port;   /**< in: the port */
	uint32_t status; /**< out: EVTCHNSTAT_* */
	uint32_t vcpu;   /**< out: the vCPU it is delivered to */
	union {
		uint16_t unbound_dom; /**< EVTCHNSTAT_unbound: who may bind */
		struct {
			uint16_t dom;  /**< the remote domain */
			uint16_t pad;
			uint32_t port; /**< its port */
		} interdomain;        /**< EVTCHNSTAT_interdomain */
		uint32_t virq;        /**< EVTCHNSTAT_virq: the VIRQ_* */
	} u;                          /**< out: what the state needs */
};

/** @name grant_table_op (grant_table.h), grant tables version 1
 * @{ */
#define GNTTABOP_map_grant_ref 0   /**< arg = struct gnttab_map_grant_ref[count] */
#define GNTTABOP_unmap_grant_ref 1 /**< arg = struct gnttab_unmap_grant_ref[count] */
#define GNTTABOP_setup_table 2     /**< arg = struct gnttab_setup_table[count] */
#define GNTTABOP_copy 5            /**< arg = struct gnttab_copy[count] */
#define GNTTABOP_query_size 6      /**< arg = struct gnttab_query_size[count] */
#define GNTTABOP_set_version 8     /**< arg = struct gnttab_set_version[count] */
/** @} */

/** A grant reference: an index into the granter's table. */
typedef uint32_t grant_ref_t;
/** A mapping's handle, returned by map_grant_ref, given to unmap_grant_ref. */
typedef uint32_t grant_handle_t;

/** One entry of a version-1 grant table (8 bytes, 512 per 4 KiB frame): what the granter offers. */
struct grant_entry_v1 {
	uint16_t flags; /**< GTF_*: the type, the permissions, and (set by the hypervisor) reading/writing */
	uint16_t domid; /**< the domain that may use this grant */
	uint32_t frame; /**< the granter's frame (guest frame number) being granted */
};

/** Entries of a version-1 grant table per 4 KiB frame. */
#define GRANT_ENTRIES_PER_FRAME (4096 / 8)

/** @name Grant-entry flags (grant_table.h, GTF_*)
 * @{ */
#define GTF_invalid 0           /**< type: no grant */
#define GTF_permit_access 1     /**< type: the domain @c domid may map or copy @c frame */
#define GTF_type_mask 3         /**< bits 1:0 are the type */
#define GTF_readonly (1u << 2)  /**< the grantee may only read */
#define GTF_reading (1u << 3)   /**< set by the hypervisor: mapped or in use for reading */
#define GTF_writing (1u << 4)   /**< set by the hypervisor: mapped or in use for writing */
/** @} */

/** @name map_grant_ref flags (grant_table.h, GNTMAP_*)
 * @{ */
#define GNTMAP_device_map (1u << 0)      /**< a device (bus) address too: not offered (no IOMMU) */
#define GNTMAP_host_map (1u << 1)        /**< map at @c host_addr (the caller's guest-physical address) */
#define GNTMAP_readonly (1u << 2)        /**< map read-only */
#define GNTMAP_application_map (1u << 3) /**< PV user-space mapping: not offered */
#define GNTMAP_contains_pte (1u << 4)    /**< @c host_addr names a PTE: not offered */
/** @} */

/** @name copy flags (grant_table.h, GNTCOPY_*)
 * @{ */
#define GNTCOPY_source_gref (1u << 0) /**< source.u is a grant reference of source.domid (else a frame of the caller) */
#define GNTCOPY_dest_gref (1u << 1)   /**< dest.u likewise */
/** @} */

/** @name Grant statuses (grant_table.h, GNTST_*), in each structure's @c status
 * @{ */
#define GNTST_okay 0                /**< done */
#define GNTST_general_error (-1)    /**< refused: bad flags, wrong grantee, revoked, read-only, ... */
#define GNTST_bad_domain (-2)       /**< no such domain */
#define GNTST_bad_gntref (-3)       /**< a reference outside the table (or no map flags) */
#define GNTST_bad_handle (-4)       /**< no such mapping */
#define GNTST_bad_virt_addr (-5)    /**< @c host_addr cannot take a mapping */
#define GNTST_bad_dev_addr (-6)     /**< a bad device address to unmap */
#define GNTST_no_device_space (-7)  /**< out of I/O MMU space */
#define GNTST_permission_denied (-8) /**< not this caller's to ask */
#define GNTST_bad_page (-9)         /**< the frame is not valid for the operation */
#define GNTST_bad_copy_arg (-10)    /**< a copy crossing a page boundary */
#define GNTST_address_too_big (-11) /**< transfer: page address too large */
#define GNTST_eagain (-12)          /**< not done, try again */
#define GNTST_no_space (-13)        /**< out of space (mapping handles) */
/** @} */

/** Argument of GNTTABOP_map_grant_ref (32 bytes). */
struct gnttab_map_grant_ref {
	uint64_t host_addr;     /**< in: where (page-aligned guest-physical address of the caller) */
	uint32_t flags;         /**< in: GNTMAP_* (host_map, optionally readonly) */
	grant_ref_t ref;        /**< in: the reference in @c dom's table */
	uint16_t dom;           /**< in: the granter */
	int16_t status;         /**< out: GNTST_* */
	grant_handle_t handle;  /**< out: the mapping, for unmap */
	uint64_t dev_bus_addr;  /**< out: device address (0: not offered) */
};

/** Argument of GNTTABOP_unmap_grant_ref (24 bytes). */
struct gnttab_unmap_grant_ref {
	uint64_t host_addr;    /**< in: where it was mapped */
	uint64_t dev_bus_addr; /**< in: 0 */
	grant_handle_t handle; /**< in: from map_grant_ref */
	int16_t status;        /**< out: GNTST_* */
};

/** Argument of GNTTABOP_setup_table (24 bytes). */
struct gnttab_setup_table {
	uint16_t dom;        /**< in: DOMID_SELF */
	uint32_t nr_frames;  /**< in: frames wanted */
	int16_t status;      /**< out: GNTST_* */
	uint64_t frame_list; /**< in: guest address of nr_frames u64s; out there: the frames (guest frame numbers) */
};

/** Argument of GNTTABOP_query_size (16 bytes). */
struct gnttab_query_size {
	uint16_t dom;           /**< in: DOMID_SELF */
	uint32_t nr_frames;     /**< out: frames in use */
	uint32_t max_nr_frames; /**< out: the most there may be */
	int16_t status;         /**< out: GNTST_* */
};

/** One side of a GNTTABOP_copy. */
struct gnttab_copy_ptr {
	union {
		grant_ref_t ref; /**< with GNTCOPY_*_gref: a reference of @c domid */
		uint64_t gmfn;   /**< without: a frame of the caller */
	} u;                     /**< which page */
	uint16_t domid;          /**< the granter (gref), or DOMID_SELF */
	uint16_t offset;         /**< byte offset in the page */
};

/** Argument of GNTTABOP_copy (40 bytes). */
struct gnttab_copy {
	struct gnttab_copy_ptr source; /**< in */
	struct gnttab_copy_ptr dest;   /**< in */
	uint16_t len;                  /**< in: bytes, within one page on each side */
	uint16_t flags;                /**< in: GNTCOPY_* */
	int16_t status;                /**< out: GNTST_* */
};

/** Argument of GNTTABOP_set_version. */
struct gnttab_set_version {
	uint32_t version; /**< in: 1 (the only one offered); out: the version in use */
};

/** @name hvm_op (hvm/hvm_op.h, hvm/params.h)
 * @{ */
#define HVMOP_set_param 0         /**< arg = struct xen_hvm_param */
#define HVMOP_get_param 1         /**< arg = struct xen_hvm_param */
#define HVM_PARAM_CALLBACK_IRQ 0  /**< how events reach the guest */
/** CALLBACK_IRQ value type (bits 63:56) "vector": bits 7:0 are the vector the upcall is delivered on. */
#define HVM_PARAM_CALLBACK_TYPE_VECTOR 2ull
/** The CALLBACK_IRQ value that delivers upcalls on @p vector. */
#define HVM_CALLBACK_VECTOR(vector) (HVM_PARAM_CALLBACK_TYPE_VECTOR << 56 | (uint8_t)(vector))
/** @} */

/** Argument of HVMOP_set_param and HVMOP_get_param. */
struct xen_hvm_param {
	uint16_t domid; /**< DOMID_SELF */
	uint16_t pad;
	uint32_t index; /**< HVM_PARAM_* */
	uint64_t value; /**< in (set) or out (get) */
};

/** The x86 part of a vcpu_info (arch-x86/xen.h). */
struct arch_vcpu_info {
	uint64_t cr2; /**< a PV guest's CR2 on a page fault */
	uint64_t pad;
};

/** The vCPU's clock (xen.h; not yet kept up to date by Hypatia: all zero). */
struct vcpu_time_info {
	uint32_t version;           /**< odd while the hypervisor updates it */
	uint32_t pad0;
	uint64_t tsc_timestamp;     /**< TSC at the last update */
	uint64_t system_time;       /**< nanoseconds since boot at that TSC */
	uint32_t tsc_to_system_mul; /**< TSC to nanoseconds: (tsc << shift) * mul >> 32 */
	int8_t tsc_shift;           /**< see tsc_to_system_mul */
	uint8_t flags;
	uint8_t pad1[2];
};

/** One vCPU's part of the shared-info page (xen.h; 64 bytes). */
struct vcpu_info {
	uint8_t evtchn_upcall_pending; /**< hypervisor sets: an event waits (the guest clears it) */
	uint8_t evtchn_upcall_mask;    /**< guest sets: no upcall now — a PV guest's virtual IF, inverted */
	uint8_t pad[6];
	uint64_t evtchn_pending_sel;   /**< bit i: word i of evtchn_pending has a port pending */
	struct arch_vcpu_info arch;    /**< x86: CR2 */
	struct vcpu_time_info time;    /**< the vCPU's clock */
};

/** Wall-clock time at system time 0 (xen.h's wc_* fields). */
struct xen_wallclock {
	uint32_t version; /**< odd while the hypervisor updates it */
	uint32_t sec;     /**< seconds since 1970 */
	uint32_t nsec;    /**< and nanoseconds */
	uint32_t sec_hi;  /**< x86-64: bits 63:32 of the seconds */
};

/** Number of vcpu_info slots in the shared-info page (XEN_LEGACY_MAX_VCPUS). */
#define XEN_LEGACY_MAX_VCPUS 32

/** The shared-info page (xen.h), one per domain. */
struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];   /**< at 0 */
	uint64_t evtchn_pending[EVTCHN_2L_PORTS / 64];     /**< at 2048: bit p = port p pending */
	uint64_t evtchn_mask[EVTCHN_2L_PORTS / 64];        /**< at 2560: bit p = port p masked (guest sets) */
	struct xen_wallclock wallclock;                    /**< at 3072 */
};

/** @name Hypervisor CPUID leaves (arch-x86/cpuid.h) and the hypercall-page MSR
 * @{ */
#define XEN_CPUID_BASE 0x40000000u      /**< "XenVMMXenVMM"; Hypatia's own leaves are at #HYPATIA_CPUID_BASE */
#define XEN_CPUID_SIGNATURE_EBX 0x566e6558u /**< "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4du /**< "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566eu /**< "nVMM" */
#define XEN_CPUID_HVM_VCPU_ID_PRESENT (1u << 3) /**< base+4 EAX: EBX holds the vCPU id */
#define XEN_HYPERCALL_PAGE_MSR 0x40000000u  /**< write a page's guest-physical address: it gets the stubs */
#define HYPATIA_CPUID_BASE 0x40000100u  /**< "HypatiaHypat": the kit's own leaves */
/** @} */

/** The hypervisor's version as XENVER_version and CPUID base+1 report it: Xen 4.17's ABI. */
#define XEN_VERSION_MAJOR 4
/** See #XEN_VERSION_MAJOR. */
#define XEN_VERSION_MINOR 17

_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info is 64 bytes");
_Static_assert(__builtin_offsetof(struct vcpu_info, evtchn_pending_sel) == 8 &&
		       __builtin_offsetof(struct vcpu_info, arch) == 16 && __builtin_offsetof(struct vcpu_info, time) == 32,
	       "vcpu_info layout");
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_pending) == 2048 &&
		       __builtin_offsetof(struct shared_info, evtchn_mask) == 2560 &&
		       __builtin_offsetof(struct shared_info, wallclock) == 3072,
	       "shared_info layout");
_Static_assert(sizeof(struct xen_add_to_physmap) == 24 && __builtin_offsetof(struct xen_add_to_physmap, idx) == 8,
	       "xen_add_to_physmap layout");
_Static_assert(sizeof(struct evtchn_status) == 24 && __builtin_offsetof(struct evtchn_status, u) == 16,
	       "evtchn_status layout");
_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8 && sizeof(struct evtchn_bind_interdomain) == 12 &&
		       __builtin_offsetof(struct evtchn_bind_interdomain, remote_port) == 4,
	       "evtchn_alloc_unbound, evtchn_bind_interdomain layout");
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1 layout");
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32 && __builtin_offsetof(struct gnttab_map_grant_ref, dom) == 16 &&
		       __builtin_offsetof(struct gnttab_map_grant_ref, status) == 18 &&
		       __builtin_offsetof(struct gnttab_map_grant_ref, handle) == 20,
	       "gnttab_map_grant_ref layout");
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24 && __builtin_offsetof(struct gnttab_unmap_grant_ref, status) == 20,
	       "gnttab_unmap_grant_ref layout");
_Static_assert(sizeof(struct gnttab_setup_table) == 24 && __builtin_offsetof(struct gnttab_setup_table, status) == 8 &&
		       __builtin_offsetof(struct gnttab_setup_table, frame_list) == 16,
	       "gnttab_setup_table layout");
_Static_assert(sizeof(struct gnttab_query_size) == 16 && __builtin_offsetof(struct gnttab_query_size, status) == 12,
	       "gnttab_query_size layout");
_Static_assert(sizeof(struct gnttab_copy) == 40 && __builtin_offsetof(struct gnttab_copy, dest) == 16 &&
		       __builtin_offsetof(struct gnttab_copy, len) == 32 && __builtin_offsetof(struct gnttab_copy, status) == 36,
	       "gnttab_copy layout");
_Static_assert(sizeof(struct xen_hvm_param) == 16 && __builtin_offsetof(struct xen_hvm_param, value) == 8,
	       "xen_hvm_param layout");

#endif
