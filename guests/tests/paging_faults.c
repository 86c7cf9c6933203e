/*
 * paging_faults — every kind of *true* page fault, with the error code and
 * CR2 the CPU gives at CPL 0 (SDM Vol. 3A §4.7, AMD APM Vol. 2 §8.4.2):
 *
 * - not present at each level (PML4E, PDPTE, PDE, PTE): P = 0;
 * - a write to a page that some level makes read-only (CR0.WP = 1): P | W;
 * - an instruction fetch from a page that some level makes no-execute
 *   (EFER.NXE = 1): P | I/D; from a page not present: I/D;
 * - a reserved bit set — bit 51 (above the CPU's physical-address width)
 *   in a PTE or a PDE, PS in a PML4E, bits 20:13 of a 2 MiB PDE (the low
 *   bits of its frame must be 0): P | RSVD, plus W or I/D for the access.
 *
 * Under shadow paging the CPU's fault reaches the hypervisor, whose walk of
 * the guest's tables must produce exactly this error code (the hardware's
 * own says U = 1 and knows nothing of the guest's tables) and deliver the
 * fault with CR2 = the address (lab 2's true faults).
 *
 * Last, a recursive mapping (a PML4 entry naming the PML4 itself: a legal
 * loop) turns the page tables into ordinary pages; a PTE written through
 * it, then INVLPG, remaps a page. Under a shadow cache that write lands on
 * a write-protected guest page table and is emulated (lab 2, part 2). So
 * are the atomic updates kernels make to live entries: LOCK CMPXCHG (failing,
 * then succeeding), LOCK BTS/BTR, LOCK OR/AND, XCHG — each line prints the
 * flags the instruction defines and whether the results are right.
 *
 * Some faults are fixed by the handler and the access retried (map the
 * page, set W, clear NX or the reserved bit); the others are abandoned
 * (the access is skipped). Each line names the nonce-chosen address.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define POOL_PAGES 64
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define RESERVED_BIT_51 (UINT64_C(1) << 51)
#define RESERVED_BIT_13 (UINT64_C(1) << 13)

enum access { READ, WRITE, FETCH };
static const char *const access_names[] = { "read", "write", "fetch" };

static uint64_t *space;
static uint64_t nonce, rng;
static int failures;
static volatile uint64_t large_target;

/* The fix for the case under way: fix_fn(fix_va) when the fault is at fix_va's page. */
static void (*fix_fn)(uint64_t va);
static uint64_t fix_va;

static bool fixer(const struct paging_fault *f)
{
	if (!fix_fn || (f->cr2 & ~(PAGE_SIZE - 1)) != (fix_va & ~(PAGE_SIZE - 1)))
		return false;
	void (*fn)(uint64_t) = fix_fn;
	fix_fn = NULL; /* once: a second fault is not fixed */
	fn(fix_va);
	return true;
}

static uint64_t *leaf(uint64_t va)
{
	uint64_t *e = paging_leaf(space, va, NULL);
	if (!e)
		guest_fail("no leaf entry for 0x%lx", va);
	return e;
}

/* Fixes. A not-present entry is never cached, so mapping it needs no
 * flush; an entry that was present (read-only, NX) might be, so INVLPG. */
static uint8_t *fresh_frame(uint64_t tag_value)
{
	uint8_t *frame = paging_alloc();
	*(volatile uint64_t *)frame = tag_value;
	return frame;
}

static uint64_t fixed_tag;
static void fix_map(uint64_t va)
{
	paging_map(space, va & ~(PAGE_SIZE - 1), (uint64_t)(uintptr_t)fresh_frame(fixed_tag), PTE_W | PTE_NX);
}
static void fix_set_w(uint64_t va)
{
	*leaf(va) |= PTE_W;
	paging_invlpg(va);
}
static void fix_clear_nx(uint64_t va)
{
	*leaf(va) &= ~PTE_NX;
	paging_invlpg(va);
}
static void fix_clear_bit51(uint64_t va)
{
	*leaf(va) &= ~RESERVED_BIT_51;
}
static void fix_clear_pde_bit51(uint64_t va)
{
	*paging_entry(space, va, 2, false, 0) &= ~RESERVED_BIT_51;
}
static void fix_clear_bit13(uint64_t va)
{
	*leaf(va) &= ~RESERVED_BIT_13;
}

static const char what_2m[] = "2 MiB page with bit 13 set", what_2m_ro[] = "read-only 2 MiB page";

/*
 * Access @va (@kind), which must fault exactly once with @expected; @fix
 * (or NULL) repairs the mapping so that the access is retried. Returns the
 * value read or returned (or 0).
 */
static uint64_t expect_fault(const char *what, enum access kind, uint64_t va, uint64_t value, uint32_t expected,
			     void (*fix)(uint64_t))
{
	/* Inside a 2 MiB page over the image, the offset depends on the
	 * build's layout: print the page, not the address. */
	uint64_t shown = what == what_2m || what == what_2m_ro ? va & ~(LARGE_PAGE_SIZE - 1) : va;
	struct paging_fault f;
	uint64_t before = paging_faults_seen(), result = 0;
	bool done;
	fix_va = va;
	fix_fn = fix;
	if (kind == READ)
		done = paging_try_read(va, &result, &f);
	else if (kind == WRITE)
		done = paging_try_write(va, value, &f);
	else
		done = paging_try_call(va, &result, &f);
	fix_fn = NULL;
	uint64_t faults = paging_faults_seen() - before;
	/* QEMU 7.2's TCG reports a reserved-bit fault without P (the SDM
	 * says P is always 1 with RSVD): accept both here, print the line as
	 * DIFF:, and let the grader hold the hypervisor to the SDM. */
	bool rsvd = expected & PF_RSVD;
	bool code_ok = f.error_code == expected || (rsvd && f.error_code == (expected & ~PF_P));
	bool ok = faults == 1 && f.vector == 14 && code_ok && f.cr2 == va && done == (fix != NULL);
	failures += !ok;
	const char *prefix = rsvd ? "DIFF: " : "";
	if (faults == 0) {
		gprintf("%s%s, %s: at 0x%lx no fault (expected #PF error 0x%x) WRONG\n", prefix, what,
			access_names[kind], shown, expected);
		return result;
	}
	gprintf("%s%s, %s: at 0x%lx #PF error 0x%lx%s, cr2 %s, %s\n", prefix, what, access_names[kind], shown,
		f.error_code, code_ok ? "" : " WRONG", f.cr2 == va ? "matches" : "WRONG",
		!fix ? (done ? "completed WRONG" : "skipped") : (done ? "fixed and retried" : "fix FAILED"));
	if (faults != 1)
		gprintf("  %lu faults for one access: WRONG\n", faults);
	return result;
}

static void expect_no_fault(const char *what, enum access kind, uint64_t va)
{
	struct paging_fault f;
	uint64_t before = paging_faults_seen();
	bool done = kind == READ ? paging_try_read(va, NULL, &f) : paging_try_write(va, 0, &f);
	bool ok = done && paging_faults_seen() == before;
	failures += !ok;
	gprintf("%s, %s: at 0x%lx %s\n", what, access_names[kind], va, ok ? "no fault" : "FAULTED (WRONG)");
}

static uint64_t tag(void)
{
	return splitmix64(&rng);
}

void guest_main(void)
{
	nonce = guest_nonce();
	rng = nonce ^ 0xfa17;
	gprintf("paging_faults: nonce=%lu\n", nonce);
	paging_init(pool, POOL_PAGES);
	paging_set_fixer(fixer);
	space = paging_new_space();
	paging_load_cr3(space);

	unsigned pd = nonce % 512, pt = (nonce >> 9) % 256;
	/* A region with a page table: PML4 254, PDPT 0, PD nonce % 512. */
	uint64_t region = paging_address(254, 0, pd, 0);
	uint8_t *data = fresh_frame(tag());
	paging_map(space, region, (uint64_t)(uintptr_t)data, PTE_W | PTE_NX);
	gprintf("region 0x%lx\n", region);

	/* Not present, at each level. */
	expect_fault("no pml4 entry", READ, paging_address(128 + nonce % 64, pd, pt, 7) + 8 * (nonce % 512), 0, 0,
		     NULL);
	expect_fault("no pdpt entry", WRITE, paging_address(254, 256 + nonce % 256, pd, 9), 1, PF_W, NULL);
	fixed_tag = tag();
	uint64_t got = expect_fault("no pd entry", READ, paging_address(254, 0, pd ^ 1, pt), 0, 0, fix_map);
	gprintf("  read after the fix: the new page's tag: %s\n", got == fixed_tag ? "yes" : "NO");
	failures += got != fixed_tag;
	uint64_t va = region + 5 * PAGE_SIZE + 16;
	uint64_t t = tag();
	expect_fault("no pt entry", WRITE, va, t, PF_W, fix_map);
	int level;
	uint64_t *e = paging_leaf(space, va, &level);
	bool dirty = e && (*e & PTE_D);
	gprintf("  written after the fix: %s, D set: %s\n",
		e && *(volatile uint64_t *)(uintptr_t)((*e & PTE_ADDR) + 16) == t ? "yes" : "NO", dirty ? "yes" : "NO");
	failures += !dirty;

	/* Read-only. */
	va = region + 6 * PAGE_SIZE;
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(tag()), PTE_NX);
	expect_no_fault("read-only pte", READ, va);
	expect_fault("read-only pte", WRITE, va + 8, tag(), PF_P | PF_W, fix_set_w);
	gprintf("  D set after the retried write: %s\n", (*leaf(va) & PTE_D) ? "yes" : "NO");
	failures += !(*leaf(va) & PTE_D);

	va = paging_address(254, 1, pd, 7);
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(tag()), PTE_W | PTE_NX);
	*paging_entry(space, va, 2, false, 0) &= ~PTE_W;
	expect_no_fault("read-only pde", READ, va);
	expect_fault("read-only pde", WRITE, va, 1, PF_P | PF_W, NULL);

	/* No-execute, and a fetch from nowhere. */
	uint32_t imm = (uint32_t)(nonce * 0x9e3779b1u);
	va = region + 8 * PAGE_SIZE;
	uint8_t *code = paging_alloc();
	paging_put_code(code, 0, imm);
	paging_map(space, va, (uint64_t)(uintptr_t)code, PTE_NX);
	got = expect_fault("nx pte", FETCH, va, 0, PF_P | PF_ID, fix_clear_nx);
	gprintf("  the code returned 0x%lx after the fix (expected 0x%x)\n", got, imm);
	failures += got != imm;
	va = paging_address(254, 2, pd, 9);
	paging_map(space, va, (uint64_t)(uintptr_t)code, 0);
	*paging_entry(space, va, 2, false, 0) |= PTE_NX;
	expect_fault("nx pde", FETCH, va, 0, PF_P | PF_ID, NULL);
	expect_fault("not present", FETCH, region + 10 * PAGE_SIZE, 0, PF_ID, NULL);

	/* Reserved bits. */
	t = tag();
	va = region + 11 * PAGE_SIZE;
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(t), PTE_W | PTE_NX);
	*leaf(va) |= RESERVED_BIT_51;
	got = expect_fault("bit 51 in the pte", READ, va, 0, PF_P | PF_RSVD, fix_clear_bit51);
	gprintf("  read after the fix: the tag: %s\n", got == t ? "yes" : "NO");
	failures += got != t;
	va = region + 12 * PAGE_SIZE;
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(tag()), PTE_W | PTE_NX);
	*leaf(va) |= RESERVED_BIT_51;
	expect_fault("bit 51 in the pte", WRITE, va, 1, PF_P | PF_W | PF_RSVD, NULL);
	va = region + 14 * PAGE_SIZE;
	paging_map(space, va, (uint64_t)(uintptr_t)code, 0);
	*leaf(va) |= RESERVED_BIT_51;
	expect_fault("bit 51 in the pte", FETCH, va, 0, PF_P | PF_RSVD | PF_ID, NULL);

	t = tag();
	va = paging_address(254, 3, pd, 13);
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(t), PTE_W | PTE_NX);
	*paging_entry(space, va, 2, false, 0) |= RESERVED_BIT_51;
	got = expect_fault("bit 51 in the pde", READ, va, 0, PF_P | PF_RSVD, fix_clear_pde_bit51);
	gprintf("  read after the fix: the tag: %s\n", got == t ? "yes" : "NO");
	failures += got != t;

	uint64_t pml4_slot = 160 + nonce % 64;
	va = paging_address((unsigned)pml4_slot, 5, pd, 1);
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(tag()), PTE_W | PTE_NX);
	space[pml4_slot] |= PTE_PS;
	expect_fault("ps in the pml4 entry", READ, va, 0, PF_P | PF_RSVD, NULL);

	/* 2 MiB pages over the part of the image that holds large_target. */
	uint64_t target = (uint64_t)(uintptr_t)&large_target;
	uint64_t base = target & ~(LARGE_PAGE_SIZE - 1);
	large_target = t = tag();
	va = paging_address(254, 4, pd, 0);
	paging_map_large(space, va, base, PTE_W | PTE_NX);
	*leaf(va) |= RESERVED_BIT_13;
	got = expect_fault(what_2m, READ, va + (target - base), 0, PF_P | PF_RSVD,
			   fix_clear_bit13);
	gprintf("  read after the fix: the target's value: %s\n", got == t ? "yes" : "NO");
	failures += got != t;
	va = paging_address(254, 6, pd, 0);
	paging_map_large(space, va, base, PTE_NX);
	t = tag();
	expect_fault(what_2m_ro, WRITE, va + (target - base), t, PF_P | PF_W, fix_set_w);
	gprintf("  the retried write reached the target: %s\n", large_target == t ? "yes" : "NO");
	failures += large_target != t;

	/* A recursive mapping: PML4[k] -> the PML4. The address (k, 254, 0, pd)
	 * walks PML4 -> PML4 -> PDPT -> PD and lands on the page table of
	 * `region` as a data page: its entries are 8-byte words there. */
	unsigned k = 230 + nonce % 20;
	space[k] = (uint64_t)(uintptr_t)space | PTE_P | PTE_W;
	va = region + 20 * PAGE_SIZE;
	t = tag();
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(t), PTE_W | PTE_NX);
	bool before = *(volatile uint64_t *)(uintptr_t)va == t;
	volatile uint64_t *window = (volatile uint64_t *)(uintptr_t)(paging_address(k, 254, 0, pd) +
								   8 * paging_index(va, 1));
	uint64_t t2 = tag();
	uint64_t frame2 = (uint64_t)(uintptr_t)fresh_frame(t2);
	*window = frame2 | PTE_P | PTE_W | PTE_NX;
	paging_invlpg(va);
	bool after = *(volatile uint64_t *)(uintptr_t)va == t2 && (*window & PTE_ADDR) == frame2;
	gprintf("recursive mapping at pml4 slot %u: the page's tag: %s; a pte written through it, invlpg: "
		"the new page's tag: %s\n", k, before ? "yes" : "NO", after ? "yes" : "NO");
	failures += !before + !after;
	space[k] = 0;
	paging_load_cr3(space);

	/* Atomic updates of a live PTE, with the flags each defines (SDM Vol. 2):
	 * CMPXCHG all six, BTS/BTR CF only, OR/AND all but AF. */
	const uint64_t status = 0x8d5, logic = 0x8c5, cf = 0x1; /* OF SF ZF AF PF CF; without AF; CF */
	va = region + 21 * PAGE_SIZE;
	t = tag();
	paging_map(space, va, (uint64_t)(uintptr_t)fresh_frame(t), PTE_W | PTE_NX);
	(void)*(volatile uint64_t *)(uintptr_t)va; /* the entry is live: walked, A set */
	volatile uint64_t *pte = leaf(va);
	uint64_t old = *pte, rax = old ^ PTE_SW1, flags[6];
	__asm__ volatile("lock cmpxchgq %[new], %[pte]\n\tpushfq\n\tpopq %[f]"
			 : [pte] "+m"(*pte), "+a"(rax), [f] "=r"(flags[0]) : [new] "r"(old | PTE_SW1) : "cc");
	bool cmpxchg_failed = rax == old && *pte == old;
	__asm__ volatile("lock cmpxchgq %[new], %[pte]\n\tpushfq\n\tpopq %[f]"
			 : [pte] "+m"(*pte), "+a"(rax), [f] "=r"(flags[1]) : [new] "r"(old | PTE_SW1) : "cc");
	bool cmpxchg_done = rax == old && *pte == (old | PTE_SW1);
	__asm__ volatile("lock btsq $9, %[pte]\n\tpushfq\n\tpopq %[f]" : [pte] "+m"(*pte), [f] "=r"(flags[2]) : : "cc");
	__asm__ volatile("lock btrq $10, %[pte]\n\tpushfq\n\tpopq %[f]" : [pte] "+m"(*pte), [f] "=r"(flags[3]) : : "cc");
	bool bits = *pte == (old | PTE_SW0);
	__asm__ volatile("lock orq %[b], %[pte]\n\tpushfq\n\tpopq %[f]"
			 : [pte] "+m"(*pte), [f] "=r"(flags[4]) : [b] "r"(PTE_SW2) : "cc");
	__asm__ volatile("lock andq %[b], %[pte]\n\tpushfq\n\tpopq %[f]"
			 : [pte] "+m"(*pte), [f] "=r"(flags[5]) : [b] "r"(~(PTE_SW0 | PTE_SW2)) : "cc");
	uint64_t swapped = old;
	__asm__ volatile("xchgq %[r], %[pte]" : [pte] "+m"(*pte), [r] "+r"(swapped));
	paging_invlpg(va);
	bool intact = swapped == old && *pte == old && *(volatile uint64_t *)(uintptr_t)va == t;
	gprintf("atomic pte updates: cmpxchg fails (flags 0x%lx) %s, succeeds (flags 0x%lx) %s; bts (cf %lu), btr (cf %lu): "
		"%s; or (flags 0x%lx), and (flags 0x%lx), xchg: the entry and the page's tag as before: %s\n",
		flags[0] & status, cmpxchg_failed ? "yes" : "NO", flags[1] & status, cmpxchg_done ? "yes" : "NO",
		flags[2] & cf, flags[3] & cf, bits ? "yes" : "NO", flags[4] & logic, flags[5] & logic,
		intact ? "yes" : "NO");
	failures += !cmpxchg_failed + !cmpxchg_done + !bits + !intact;

	gprintf("cr3 loads: %lu, invlpg: %lu\n", paging_cr3_loads(), paging_invlpgs());
	gprintf("true faults seen: %lu\n", paging_faults_seen());
	if (failures)
		guest_fail("%d checks failed", failures);
	guest_pass();
}
