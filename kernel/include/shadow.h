/**
 * @file shadow.h
 * @brief Shadow paging (lab 2): the guest owns its page tables, the hypervisor runs it on shadows.
 *
 * The guest's tables map guest-virtual to guest-physical addresses; the CPU
 * needs host-physical ones. The shadow tables the CPU really walks are built
 * lazily, one page per fault, from the guest's tables — a software TLB: a
 * guest CR3 load empties them, INVLPG drops an entry, and a page fault either
 * fills a missing entry (a *hidden* fault, invisible to the guest) or is the
 * guest's own (a *true* fault, delivered with the error code the hardware
 * would give).
 *
 * Part 2 keeps shadows across context switches: a small cache of shadow
 * address spaces keyed by the guest's CR3. So that a cached shadow never
 * goes stale, every guest page that a shadow was built from (every guest
 * page-table page a walk read) is *write-protected* in the shadows; a guest
 * write to one traps, is emulated, and drops the shadow entries derived from
 * the entry it changed.
 */
#ifndef HYPATIA_SHADOW_H
#define HYPATIA_SHADOW_H

#include "types.h"

struct vcpu;
struct domain;

/** @name Kinds of access, for guest_walk()
 *  @{ */
#define ACCESS_READ 0u  /**< a data read */
#define ACCESS_WRITE 1u /**< a data write */
#define ACCESS_FETCH 2u /**< an instruction fetch */
/** Or-ed into the kind: the access is made at CPL 3 (guest user mode), so every level needs U = 1. */
#define ACCESS_USER 4u
/** @} */

/** What a walk of the guest's page tables found. */
struct guest_walk_result {
	uint64_t gpa;    /**< guest-physical address the virtual address maps to (walk succeeded) */
	bool writable;   /**< every level allows writes */
	bool executable; /**< no level sets NX (or EFER.NXE is off) */
	bool large;      /**< the leaf is a 2 MiB page */
	bool dirty;      /**< the leaf's D bit is set (after this walk's own update) */
	bool user;       /**< every level sets U: guest user mode may reach the page */
	uint32_t error;  /**< walk failed: the \#PF error code the hardware would report (P, W, U, RSVD, I/D) */
};

/** Counters a shadow domain prints when it ends. */
struct shadow_stats {
	uint64_t hidden_faults; /**< faults the hypervisor filled without the guest knowing */
	uint64_t true_faults;   /**< faults delivered to the guest */
	uint64_t cr3_loads;     /**< guest CR3 loads (without the cache each empties the shadow) */
	uint64_t invlpgs;       /**< guest INVLPGs */
	uint64_t refused;       /**< mappings refused by policy */
	uint64_t user_entries;  /**< pv: entries into guest user mode (each runs on the user shadow root) */
	uint64_t kernel_entries; /**< pv: returns from guest user mode to its kernel (back on the kernel root) */
	uint64_t cache_hits;    /**< CR3 loads that found their shadow in the cache */
	uint64_t cache_misses;  /**< CR3 loads that had to start an empty shadow */
	uint64_t emulated_pte_writes; /**< guest writes to write-protected page-table pages, emulated */
	uint64_t unprotected;   /**< page-table pages given up (a write the emulator does not handle) */
	uint64_t write_runs;    /**< page tables given up after a run of writes (a process torn down or copied) */
	uint64_t pages_now;     /**< shadow page-table pages held now, every cached space */
	uint64_t pages_max;     /**< the most pages_now ever was */
	uint64_t space_pages_max; /**< the most pages one shadow address space ever held */
};

/**
 * The mark of a shadow entry that is read-only only because the frame it
 * maps is a guest page table: a write through it is a page-table write to
 * emulate. Bit 9 of an entry is ignored by the CPU (SDM Vol. 3A Table 4-19).
 */
#define SHADOW_PTE_PROTECTED (1ull << 9)

/** Shadow address spaces a domain keeps at most (the cache's capacity). */
#define SHADOW_CACHE_SIZE 8
/** Guest page-table pages the cache tracks at most per domain (beyond: it starts over). */
#define SHADOW_PT_PAGES_MAX 256
/** shadow_cache::pt_index of a page table written by an instruction the emulator does not handle: not tracked until the next CR3 load. */
#define SHADOW_PT_LEFT_ALONE 0xffffu
/** Places (level, region) one guest page-table page is tracked at before it counts as "anywhere". */
#define SHADOW_PT_USES 4

/**
 * One cached shadow address space: the shadow of one guest CR3. It holds
 * room for two roots so that a guest-kernel and a guest-user shadow of the
 * same address space can live side by side; root[1] exists once a PV guest entered its user mode.
 */
struct shadow_space {
	bool in_use;         /**< the slot holds a shadow */
	uint64_t guest_cr3;  /**< the key: the guest CR3's table address (bits 51:12) */
	paddr_t root[2];     /**< shadow PML4s (host-physical; 0: none); [0] guest kernel (or HVM), [1] PV guest user mode */
	uint64_t last_used;  /**< the cache's clock when it was last switched to (for LRU eviction) */
	uint64_t pages;      /**< shadow page-table pages it holds, roots included */
};

/** Where a guest page-table page sits in the guest's trees: entry i covers base + i * (the level's span). */
struct shadow_pt_use {
	uint64_t base;  /**< first guest-virtual address the table covers (bits 63:48 clear) */
	uint8_t level;  /**< 3 = PML4 ... 0 = page table */
	uint8_t spaces; /**< bit n: cache slot n has shadow entries derived from it */
};

/** A guest page-table page some cached shadow was built from: write-protected in every shadow. */
struct shadow_pt_page {
	uint64_t gfn;                               /**< its guest frame number */
	struct shadow_pt_use uses[SHADOW_PT_USES];  /**< where walks met it */
	uint8_t use_count;                          /**< entries of @c uses filled */
	bool anywhere;                              /**< met in more places than @c uses holds: a change flushes all */
};

/** A shadow domain's address spaces and what keeps them correct. */
struct shadow_cache {
	bool enabled;        /**< option shadowcache=1 (the default): keep shadows across CR3 loads */
	struct shadow_space spaces[SHADOW_CACHE_SIZE]; /**< the cached shadows (without the cache: spaces[0] only) */
	struct shadow_space *current; /**< the one the guest runs on */
	uint64_t clock;      /**< advances at every CR3 load (LRU stamps) */
	uint16_t *pt_index;  /**< per guest frame: 1 + its index in @c pt_pages, 0 if not tracked, #SHADOW_PT_LEFT_ALONE */
	uint64_t *mapped_at; /**< per guest frame: where shadows map it writable or protected (a reverse map, see shadow_pt.c) */
	struct shadow_pt_page *pt_pages; /**< the tracked page-table pages */
	unsigned pt_count;   /**< entries of @c pt_pages in use */
	bool left_alone;     /**< some page is #SHADOW_PT_LEFT_ALONE: the current shadow is a virtual TLB for it */
	uint64_t last_written_gfn; /**< the page table the last emulated write went to */
	unsigned write_run;  /**< emulated writes in a row to it (shadow_pt.c, "write runs") */
};

/** @name LAB 2 — kernel/virt/shadow_walk.c and kernel/virt/shadow_fault.c
 *  @{ */
/**
 * Walk the guest's 4-level page tables (rooted at vcpu->cr3) for @p gva as
 * the CPU would for an access of kind @p access (at CPL 3 if it has
 * #ACCESS_USER, else at CPL 0). On success fill
 * @p out and, if @p set_accessed_dirty, set the A bits the walk used and the
 * D bit of the leaf for a write. Returns false with out->error set if the
 * access faults; crashes the domain if a table lies outside its memory.
 */
bool guest_walk(struct vcpu *vcpu, uint64_t gva, unsigned access, bool set_accessed_dirty,
		struct guest_walk_result *out);
/**
 * A page fault at @p gva while the guest ran on the shadow tables, with the
 * hardware's error code @p hw_error: fill the shadow (hidden fault) or
 * deliver the fault to the guest (true fault).
 */
void shadow_page_fault(struct vcpu *vcpu, uint64_t gva, uint32_t hw_error);
/** @} */

/** @name LAB 2, part 2 — kernel/virt/shadow_cache.c
 *  @{ */
/**
 * The guest loaded CR3 with a table at guest-physical @p guest_cr3: return
 * the cached shadow address space for it (a hit), or take a free or the
 * least recently used slot and make it an empty shadow for it with
 * shadow_space_init() (a miss). Counts hits and misses. Returns NULL only if
 * the domain was crashed (out of memory).
 */
struct shadow_space *shadow_cache_lookup(struct vcpu *vcpu, uint64_t guest_cr3);
/**
 * The guest wrote to a write-protected guest page-table page (a \#PF with
 * P and W on a shadow entry shadow_install() protected): decode the
 * instruction at RIP and carry out its store with pv_write_guest() (which
 * keeps the shadows in step), as the CPU would — registers, flags, RIP.
 * Returns false, changing nothing, for an instruction it does not emulate.
 */
bool shadow_emulate_pt_write(struct vcpu *vcpu);
/** @} */

/** @name Given
 *  @{ */
/** Build the initial identity-mapping guest tables of a `mode=shadow` domain; returns its CR3 (0 if none fits). */
uint64_t shadow_build_initial_tables(struct domain *domain);
/**
 * Map guest-virtual page @p gva to guest-physical @p gpa in the shadow, if
 * policy allows (the frame is the domain's, the address is in the lower
 * half). Writable only if @p writable, executable only if @p executable;
 * @p user says the guest's tables let its user mode reach the page (U = 1 at
 * every level). A PV guest's entry goes into the shadow root of the mode it
 * runs in (shadow_root_for()); an HVM guest's single root carries @p user as
 * the entry's U bit. Returns false (and logs one line) if refused.
 */
bool shadow_install(struct vcpu *vcpu, uint64_t gva, uint64_t gpa, bool writable, bool executable, bool user);
/**
 * The shadow root the CPU walks while @p vcpu runs in guest user mode
 * (@p guest_user) or in its kernel. A PV guest's two modes both run at CPL 3,
 * so the U bit cannot tell them apart: they get two roots (as Xen PV does),
 * the kernel one mapping what its kernel may reach, the user one only pages
 * with U = 1 at every guest level. Both share the hypervisor's half. An HVM
 * guest has one root (its CPL is real). Both are roots of the current
 * cached shadow address space (shadow_space::root[0] and root[1]); the user
 * root is made on first use. Returns 0 if out of memory.
 */
uint64_t shadow_root_for(struct vcpu *vcpu, bool guest_user);
/**
 * Empty the shadow: every cached shadow address space (a CR0, CR4 or EFER
 * change alters what every guest entry means).
 */
void shadow_flush(struct vcpu *vcpu);
/**
 * The guest loaded CR3 (vcpu->cr3 holds the new value): switch to the
 * cached shadow for it, or to an empty one; without the cache, empty the
 * shadow as a TLB is emptied.
 */
void shadow_load_cr3(struct vcpu *vcpu);
/** The current shadow's kernel root (HVM: its only root), also kept in domain->pml4; pv_run() picks the user root with shadow_root_for(). */
paddr_t shadow_current_root(struct vcpu *vcpu);
/**
 * Make cache slot @p space an empty shadow of guest CR3 @p guest_cr3, freeing
 * what it held before (never the current one). False if out of memory.
 */
bool shadow_space_init(struct vcpu *vcpu, struct shadow_space *space, uint64_t guest_cr3);
/** Set up the shadow of a new domain whose vCPU starts with vcpu->cr3; @p cache: option shadowcache. */
void shadow_init(struct domain *domain, bool cache);
/** Free every shadow address space of the domain (it ends); domain->pml4 becomes 0. */
void shadow_destroy(struct domain *domain);
/**
 * Any \#PF under shadow paging: a write to a write-protected guest
 * page-table page is emulated (shadow_emulate_pt_write()); everything else
 * goes to shadow_page_fault().
 */
void shadow_handle_page_fault(struct vcpu *vcpu, uint64_t gva, uint32_t hw_error);
/**
 * Write guest-physical memory on the guest's behalf (an emulated store):
 * domain_write(), and if the page is a tracked guest page table, drop the
 * shadow entries derived from each entry that changed.
 */
bool shadow_write_guest(struct domain *domain, uint64_t gpa, const void *src, size_t size);
/**
 * Remember that the shadow entry about to be filled for @p gva was derived
 * from the guest tables the walk reads from vcpu->cr3, tracking each of
 * them (and write-protecting it in every shadow). False if tracking had to
 * start over (every shadow was emptied).
 */
bool shadow_track_walk(struct vcpu *vcpu, uint64_t gva);
/** Remember that a shadow maps guest frame @p gfn at @p gva writable or protected (the reverse map). */
void shadow_note_mapping(struct domain *domain, uint64_t gfn, uint64_t gva);
/** Is guest frame @p gfn a tracked (write-protected) page-table page? */
bool shadow_is_pt_page(struct domain *domain, uint64_t gfn);
/** Stop tracking guest frame @p gfn: drop every shadow entry derived from it and its protected mappings. */
void shadow_unprotect(struct domain *domain, uint64_t gfn);
/** Forget every tracked page-table page, and every page left alone (each shadow was emptied). */
void shadow_untrack_all(struct domain *domain);
/**
 * A CR3 load is leaving the current shadow: if a page table was left alone
 * since the last one, the entries derived from it there may go stale while
 * the shadow is kept, so empty it (as part 1 did at every CR3 load), and
 * track every page again.
 */
void shadow_end_left_alone(struct domain *domain);
/** Account @p delta shadow table pages to @p space (and the domain's totals). */
void shadow_account(struct domain *domain, struct shadow_space *space, long delta);
/** Drop the shadow entries that could translate @p gva (guest INVLPG). */
void shadow_invlpg(struct vcpu *vcpu, uint64_t gva);
/** Print the domain's counters (when it ends). */
void shadow_print_stats(struct domain *domain);
/** Physical-address width of this CPU (CPUID 0x80000008), for reserved-bit checks. */
unsigned shadow_physical_address_bits(void);
/** @} */

#endif
