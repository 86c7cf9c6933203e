/*
 * paging_basic — the guest's own page tables: build, load, map, alias,
 * accessed/dirty bits, remap with INVLPG and with a CR3 reload, 2 MiB pages.
 *
 * Natively these are the real tables. Under Hypatia with `mode=shadow` the
 * hypervisor keeps shadow tables from them (lab 2): every line below must
 * come out the same, which takes a correct guest page-table walk (the A and
 * D bits it sets, the 2 MiB leaf), correct hidden-fault filling, and a
 * shadow that drops what INVLPG and a CR3 load say to drop (the shadow as a
 * virtual TLB, SDM Vol. 3A §4.10.4).
 *
 * The region is chosen by the nonce: R = 0x7f0000000000 + (nonce % 512) *
 * 2 MiB, in a PML4 slot (254) nothing else uses, so its tables are fresh.
 * Tags written through the mappings come from splitmix64 seeded with the
 * nonce. Addresses of frames and tables are never printed (they differ
 * between builds); only comparisons are.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define POOL_PAGES 64
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* A target for the 2 MiB page: written through it, read at its own address. */
static volatile uint64_t large_target[2];

static int failures;
static uint64_t rng;

static const char *yes(bool b)
{
	failures += !b;
	return b ? "yes" : "NO";
}

static uint64_t tag(void)
{
	return splitmix64(&rng);
}

static volatile uint64_t *at(uint64_t va)
{
	return (volatile uint64_t *)(uintptr_t)va;
}

static unsigned bit(uint64_t entry, uint64_t mask)
{
	return (entry & mask) ? 1 : 0;
}

/* The A bits of every level on the walk for @va, and D of the leaf. */
static void print_ad(const char *when, uint64_t *pml4, uint64_t va)
{
	uint64_t l4 = *paging_entry(pml4, va, 4, false, 0);
	uint64_t l3 = *paging_entry(pml4, va, 3, false, 0);
	uint64_t l2 = *paging_entry(pml4, va, 2, false, 0);
	if (l2 & PTE_PS) {
		gprintf("%s: pml4e A=%u, pdpte A=%u, pde(2M) A=%u D=%u\n", when, bit(l4, PTE_A), bit(l3, PTE_A),
			bit(l2, PTE_A), bit(l2, PTE_D));
		return;
	}
	uint64_t l1 = *paging_entry(pml4, va, 1, false, 0);
	gprintf("%s: pml4e A=%u, pdpte A=%u, pde A=%u, pte A=%u D=%u\n", when, bit(l4, PTE_A), bit(l3, PTE_A),
		bit(l2, PTE_A), bit(l1, PTE_A), bit(l1, PTE_D));
}

/* The table CR3 held at entry (the shim's, or the one the hypervisor built
 * in the guest's top pages) maps the image at its own address. */
static void check_initial_tables(void)
{
	const uint64_t *initial = paging_current();
	uint64_t probes[] = { (uint64_t)(uintptr_t)guest_main, (uint64_t)(uintptr_t)&large_target,
			      (uint64_t)(uintptr_t)pool[POOL_PAGES - 1] };
	bool identity = true, writable = true;
	for (unsigned i = 0; i < ARRAY_SIZE(probes); i++) {
		uint64_t pa, flags;
		if (!paging_translate(initial, probes[i], &pa, &flags) || pa != probes[i])
			identity = false;
		else if (!(flags & PTE_W))
			writable = false;
	}
	gprintf("initial tables map the image at its own address: %s, writable: %s\n", yes(identity),
		yes(writable));
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	rng = nonce;
	gprintf("paging_basic: nonce=%lu\n", nonce);
	check_initial_tables();

	paging_init(pool, POOL_PAGES);
	uint64_t *space = paging_new_space();
	paging_load_cr3(space);
	gprintf("own tables loaded, cr3 reads back: %s\n", yes(paging_current() == space));

	uint64_t region = 0x7f0000000000ull + (nonce % 512) * LARGE_PAGE_SIZE;
	uint8_t *frame[4];
	for (int i = 0; i < 4; i++) {
		frame[i] = paging_alloc();
		if (!paging_map(space, region + i * PAGE_SIZE, (uint64_t)(uintptr_t)frame[i], PTE_W | PTE_NX))
			guest_fail("cannot map 0x%lx", region + i * PAGE_SIZE);
	}
	gprintf("region 0x%lx: 4 pages mapped\n", region);

	/* A and D: nothing yet, then A on every level after a read, D after a write. */
	print_ad("before any access", space, region);
	uint64_t t0 = tag();
	*(volatile uint64_t *)frame[0] = t0; /* through the frame's own address */
	uint64_t got = *at(region);
	gprintf("read through 0x%lx: 0x%016lx, the tag written at the frame: %s\n", region, got, yes(got == t0));
	print_ad("after a read", space, region);
	*at(region + 8) = tag();
	print_ad("after a write", space, region);
	uint64_t second = region + PAGE_SIZE;
	*at(second + 16) = tag();
	print_ad("second page, after a write only", space, second);
	print_ad("third page, untouched", space, region + 2 * PAGE_SIZE);

	/* Aliases: two virtual pages, one frame. */
	uint64_t alias = region + 0x100000 + (nonce % 256) * PAGE_SIZE;
	paging_map(space, alias, (uint64_t)(uintptr_t)frame[0], PTE_W | PTE_NX);
	uint64_t t1 = tag();
	*at(alias + 24) = t1;
	gprintf("alias 0x%lx -> frame of 0x%lx: written 0x%016lx, read back through the first: %s\n", alias,
		region, t1, yes(*at(region + 24) == t1));
	uint64_t t2 = tag();
	*at(region + 32) = t2;
	gprintf("and the other way: %s\n", yes(*at(alias + 32) == t2));

	/* Remap a page that has been used, then INVLPG: the new frame shows. */
	uint64_t third = region + 2 * PAGE_SIZE;
	uint64_t t3 = tag(), t4 = tag();
	*at(third) = t3;
	*(volatile uint64_t *)frame[3] = t4;
	paging_map(space, third, (uint64_t)(uintptr_t)frame[3], PTE_W | PTE_NX);
	paging_invlpg(third);
	got = *at(third);
	gprintf("remap 0x%lx + invlpg: reads 0x%016lx, the new frame's tag: %s\n", third, got, yes(got == t4));
	gprintf("the old frame kept its tag: %s\n", yes(*(volatile uint64_t *)frame[2] == t3));

	/* Remap, then reload CR3 (same value): a full flush. */
	uint64_t fourth = region + 3 * PAGE_SIZE;
	uint64_t t5 = tag();
	*(volatile uint64_t *)frame[1] = t5;
	(void)*at(fourth);
	paging_map(space, fourth, (uint64_t)(uintptr_t)frame[1], PTE_W | PTE_NX);
	paging_load_cr3(space);
	got = *at(fourth);
	gprintf("remap 0x%lx + cr3 reload: reads 0x%016lx, the new frame's tag: %s\n", fourth, got,
		yes(got == t5));
	print_ad("after the reload and a read", space, fourth);

	/* Clear A and D by hand, flush, and watch them come back. */
	uint64_t *pte = paging_leaf(space, region, NULL);
	*pte &= ~(PTE_A | PTE_D);
	paging_invlpg(region);
	print_ad("A and D cleared by the guest", space, region);
	(void)*at(region + 40);
	print_ad("read again", space, region);
	*at(region + 40) = tag();
	print_ad("written again", space, region);

	/* Unmap + INVLPG: the next access faults (a true fault). */
	paging_unmap(space, second);
	paging_invlpg(second);
	struct paging_fault f;
	bool ok = paging_try_read(second, NULL, &f);
	gprintf("unmapped 0x%lx + invlpg, read: %s, #PF error 0x%lx, cr2 matches: %s\n", second,
		ok ? "completed (WRONG)" : "faulted", f.error_code, yes(!ok && f.vector == 14 && f.cr2 == second));
	failures += ok;

	/* Read-only: a read works, a write faults with P|W (CR0.WP = 1). */
	paging_map(space, second, (uint64_t)(uintptr_t)frame[2], PTE_NX);
	paging_invlpg(second);
	got = 0;
	ok = paging_try_read(second, &got, NULL);
	gprintf("mapped read-only: read %s, tag %s\n", ok ? "ok" : "FAULTED", yes(ok && got == t3));
	ok = paging_try_write(second + 8, 1, &f);
	gprintf("write to it: %s, #PF error 0x%lx, cr2 matches: %s\n", ok ? "completed (WRONG)" : "faulted",
		f.error_code, yes(!ok && f.cr2 == second + 8));
	failures += ok;

	/* A 2 MiB page over the part of the image that holds large_target,
	 * at a second nonce-chosen 2 MiB-aligned address (PML4 slot 254, PDPT
	 * slot 256 + nonce % 256: not the 4 KiB region's table). */
	uint64_t target = (uint64_t)(uintptr_t)&large_target[0];
	uint64_t base = target & ~(LARGE_PAGE_SIZE - 1);
	if (((uint64_t)(uintptr_t)guest_main & ~(LARGE_PAGE_SIZE - 1)) != base)
		guest_error("the image outgrew this test: guest_main and large_target in different 2 MiB pages");
	uint64_t large = paging_address(254, 256 + (nonce >> 9) % 256, (nonce >> 17) % 512, 0);
	paging_map_large(space, large, base, PTE_W);
	char what[64];
	gsnprintf(what, sizeof(what), "2 MiB page at 0x%lx, before any access", large);
	print_ad(what, space, large);
	uint64_t t6 = tag();
	large_target[0] = t6;
	got = *at(large + (target - base));
	gprintf("2 MiB page at 0x%lx: read 0x%016lx, the target's own value: %s\n", large, got, yes(got == t6));
	print_ad("2 MiB page, after a read", space, large);
	uint64_t t7 = tag();
	*at(large + (target - base) + 8) = t7;
	gprintf("2 MiB page: written through it, seen at the target's own address: %s\n",
		yes(large_target[1] == t7));
	print_ad("2 MiB page, after a write", space, large);
	gprintf("2 MiB page: code seen through it equals the code: %s\n",
		yes(memcmp((const void *)(uintptr_t)(large + ((uint64_t)(uintptr_t)guest_main - base)),
			   (const void *)guest_main, 64) == 0));

	gprintf("cr3 loads: %lu, invlpg: %lu\n", paging_cr3_loads(), paging_invlpgs());
	gprintf("true faults seen: %lu\n", paging_faults_seen());
	if (failures)
		guest_fail("%d checks failed", failures);
	guest_pass();
}
