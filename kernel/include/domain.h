/**
 * @file domain.h
 * @brief Domains: a guest's memory, its vCPU, its console, its life.
 */
#ifndef HYPATIA_DOMAIN_H
#define HYPATIA_DOMAIN_H

#include "types.h"
#include "event_channel.h"
#include "grant_table.h"
#include "shadow.h"
#include "vdev.h"

struct vcpu;

/** Where a domain is in its life. */
enum domain_state {
	DOMAIN_RUNNABLE, /**< has work to do */
	DOMAIN_EXITED,   /**< the guest asked to stop (debug-exit port or shutdown hypercall) */
	DOMAIN_CRASHED,  /**< the guest did something fatal; only it suffered */
};

/** How guest-virtual addresses reach guest memory. */
enum paging_mode {
	PAGING_DIRECT, /**< lab 1: the hypervisor maps guest memory; guest-virtual == guest-physical */
	PAGING_SHADOW, /**< lab 2: shadow page tables */
	PAGING_NESTED, /**< lab 3: NPT / EPT */
};

/** Longest domain name, NUL included. */
#define DOMAIN_NAME_MAX 32
/** Longest guest console line kept before it is flushed. */
#define DOMAIN_CONSOLE_LINE 256

/** Most frames of other domains Dom0 may have mapped at once (the builder maps a window at a time). */
#define DOMAIN_FOREIGN_MAX 64

/** One page of another domain that Dom0 mapped into its own physmap (XENMAPSPACE_gmfn_foreign). Plain data. */
struct foreign_map {
	uint64_t gpfn;         /**< where, in Dom0's guest-physical space */
	uint64_t foreign_gfn;  /**< which page of the other domain */
	uint16_t domid;        /**< the other domain */
};

/** One guest. */
struct domain {
	unsigned id;                     /**< d1, d2, ... (d0 is reserved for Dom0) */
	char name[DOMAIN_NAME_MAX];      /**< from name= */
	enum domain_state state;         /**< where it is in its life */
	enum paging_mode paging;         /**< how its memory is mapped */
	bool hvm;                        /**< runs on a hardware-assisted backend (type=hvm; implied by mode=nested) */
	bool lazy_memory;                /**< RAM is populated on first touch (nested paging) */
	bool ept;                        /**< @c pml4 is an Intel EPT (VMX), not an x86 page table (SVM's NPT) */
	uint64_t pages_populated;        /**< lazy_memory: pages populated so far */
	bool dirty_logging;              /**< writes are tracked in @c dirty_bitmap (lab 6's live migration) */
	uint8_t *dirty_bitmap;           /**< one bit per guest page written since logging began */
	uint64_t dirty_pages;            /**< bits set in @c dirty_bitmap */
	uint64_t memory_bytes;           /**< guest-physical memory size */
	uint64_t *p2m;                   /**< guest frame number -> host-physical address */
	uint64_t page_count;             /**< entries of @c p2m */
	uint64_t pml4;                   /**< the address space it runs in (pv direct), its nested page table, or (mode=shadow) the current shadow's kernel root */
	struct vcpu *vcpu;               /**< its only vCPU (SMP guests later) */
	uint32_t exit_code;              /**< what the guest wrote to the debug-exit port */
	char console[DOMAIN_CONSOLE_LINE]; /**< the guest's console line being assembled */
	struct shadow_stats shadow;      /**< mode=shadow: counters */
	struct shadow_cache shadow_cache; /**< mode=shadow: the shadow address spaces (lab 2, part 2) */
	uint64_t mmio_scratch;           /**< the MMIO test device's scratch register */
	uint64_t mmio_accesses;          /**< accesses the MMIO test device has seen */
	struct vuart uart;               /**< emulated 16550A on COM1 */
	struct vrtc rtc;                 /**< emulated CMOS RTC */
	struct vfw_cfg fw_cfg;           /**< QEMU's fw_cfg interface */
	bool umip;                       /**< run with CR4.UMIP (option umip=0 turns it off, lab 1's lesson) */
	struct vpic pic;                 /**< emulated 8259 pair */
	struct vpit pit;                 /**< emulated 8254 */
	uint64_t shared_info_gpa;        /**< the shared-info page, Xen's layout (0: none registered; XENMEM_add_to_physmap) */
	struct evtchn_table evtchn;      /**< its event channels and upcall vector (event_channel.h) */
	struct grant_table grant;        /**< its grant table's frames and the grants it has mapped (grant_table.h) */
	uint64_t timer_period_ticks;     /**< VCPUOP_set_periodic_timer: period in hypervisor ticks (0: off) */
	uint64_t timer_next_tick;        /**< VCPUOP_set_periodic_timer: when VIRQ_TIMER is raised next */
	unsigned console_length;         /**< characters in @c console */
	bool privileged;                 /**< Dom0 (the module marked `dom0`): domctl, foreign mapping, its disk's ports, the console's input */
	unsigned pause_count;            /**< XEN_DOMCTL_pausedomain minus unpausedomain: runs only at 0 (a new domain starts at 1) */
	uint32_t shutdown_reason;        /**< why it stopped (Xen's SHUTDOWN_*, or a test guest's exit code), for getdomaininfo */
	uint64_t cpu_time_tsc;           /**< TSC cycles its vCPU has run, for getdomaininfo (xl list's Time(s)) */
	bool flush_nested;               /**< its nested page table lost entries: flush its TLB before it runs again */
	uint64_t created_tsc;            /**< TSC at XEN_DOMCTL_createdomain (0: a boot module); for the creation figure */
	struct foreign_map foreign[DOMAIN_FOREIGN_MAX]; /**< Dom0: the other domains' frames it has mapped */
	unsigned foreign_count;          /**< entries of @c foreign in use */
};

/**
 * Create a domain from the ELF64 guest image at @p image (@p size bytes) and
 * its options @p options (`name= mem= mode=`; the rest becomes the guest's
 * command line). Prints a clear line and returns NULL when the image or the
 * options are bad; nothing is left half-created.
 */
struct domain *domain_create(const void *image, size_t size, const char *options);
/**
 * domain_create() for a Linux bzImage with its initial RAM disk @p initrd
 * (@p initrd_size bytes; NULL and 0 for none), which only a bzImage takes.
 */
struct domain *domain_create_with_initrd(const void *image, size_t size, const char *options, const void *initrd,
					 size_t initrd_size);
/** Free everything the domain holds. */
void domain_destroy(struct domain *domain);
/** End @p domain because of something fatal it did; logs one line with the reason and RIP. */
void domain_crash(struct domain *domain, const char *fmt, ...) PRINTF_LIKE(2, 3);
/** The guest wrote @p code to the debug-exit port: it is done. */
void domain_exit(struct domain *domain, uint32_t code);
/** A byte from the guest's console: lines are printed prefixed with "[dN] ". */
void domain_console_putc(struct domain *domain, char c);
/**
 * Dirty logging: guest page @p gpa was written (by the guest, through a
 * write-protection fault, or by the hypervisor); set its bit.
 */
void domain_mark_dirty(struct domain *domain, uint64_t gpa);
/**
 * Give guest-physical page @p gpa a frame (lazy_memory domains): allocate it,
 * record it in the p2m, map it in the nested page table. False if the page
 * is outside the domain or already populated (or host memory ran out: then
 * the domain is crashed).
 */
bool domain_populate(struct domain *domain, uint64_t gpa);
/**
 * Map guest-physical page @p gpa to host frame @p hpa in the domain's nested
 * page table (pml4), in its vendor's format: AMD's NPT or Intel's EPT.
 * Writable only if @p writable. False if out of memory for a table.
 */
bool domain_map_nested(struct domain *domain, uint64_t gpa, paddr_t hpa, bool writable);
/** Host-physical address of guest-physical @p gpa, or 0 if outside the domain's memory or not populated yet. */
paddr_t domain_gpa_to_hpa(const struct domain *domain, uint64_t gpa);
/**
 * Copy @p size bytes from guest-physical @p gpa into @p dst.
 * Returns false (copying nothing) if any byte lies outside the domain.
 */
bool domain_read(const struct domain *domain, uint64_t gpa, void *dst, size_t size);
/** Copy into guest memory; false if any byte lies outside the domain. */
bool domain_write(struct domain *domain, uint64_t gpa, const void *src, size_t size);

/** Most domains that can exist at once: beyond it, host memory is the limit (a small DomU costs its memory and about 70 KiB of the hypervisor's). */
#define DOMAIN_MAX 1024
/** The live domains (NULL-padded), in creation order. */
extern struct domain *domain_table[DOMAIN_MAX];
/** How many entries of #domain_table are in use. */
extern unsigned domain_count;
/** The id the next DomU gets (Dom0 is 0). */
extern unsigned next_domain_id;

/** Create a domain for each multiboot module and run them all, time-sliced; returns when all ended (or Dom0 did). */
void domains_run_all(void);
/** The live domain with id @p id, or NULL. */
struct domain *domain_lookup(unsigned id);
/** Add @p domain to #domain_table (the scheduler runs it once unpaused); false if the table is full. */
bool domain_table_add(struct domain *domain);
/** Take @p domain out of #domain_table (before domain_destroy()). */
void domain_table_remove(struct domain *domain);

struct vcpu_ops;
/** The backend a domain runs on: pv, or the CPU's hardware-assisted one (SVM, else VMX). */
const struct vcpu_ops *domain_backend(bool hvm);
/** Allocate @p domain's p2m (memory_bytes / 4 KiB entries, empty) and the root of its address space or nested page table. */
bool domain_alloc_tables(struct domain *domain);
/**
 * Create vCPU 0 if it does not exist and give it its entry state: RIP, RSP,
 * RDI (the command line's address, Hypatia's boot contract); an HVM domain
 * starts in long mode on identity tables the hypervisor builds in its memory
 * (the four pages below its last, shadow.c). False if out of memory.
 */
bool domain_start_vcpu(struct domain *domain, uint64_t rip, uint64_t rsp, uint64_t rdi, bool shadow_cache);
/** Undo every foreign mapping @p domain is part of: Dom0's of it, or, for Dom0, its own of others (domctl.c). */
void foreign_unmap_all(struct domain *domain);

#endif
