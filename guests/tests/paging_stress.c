/*
 * paging_stress — random mappings, checked against a model.
 *
 * Three address spaces map the same 64 virtual pages (scattered over many
 * page tables, the addresses drawn from the nonce) onto a shared set of 40
 * frames, so that most frames have several aliases, within a space and
 * across spaces. A splitmix64 stream seeded with the nonce picks each step:
 * write a tag through a page, read a page back, map or remap a page (now
 * and then read-only), unmap one, or switch CR3 (sometimes to the space
 * already loaded). The guest keeps a model of every mapping and of eight
 * words of every frame, and checks each access against it: a read must
 * see what the model says, whichever alias wrote it; an access to an
 * unmapped page must fault with error 0 or 2 (read / write), a write to a
 * read-only page with 3, each with CR2 = the address.
 *
 * Whenever a present entry of the loaded space changes, the guest flushes
 * it with INVLPG; a space that is not loaded needs nothing, the next CR3
 * load flushes everything. Those are exactly the architectural rules (SDM
 * Vol. 3A §4.10.4): a shadow-paging hypervisor that keeps anything longer
 * — or drops a flush — shows up here as a stale tag or a missing fault.
 *
 * `steps=N` (default 700) sets the length of the run.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define SPACES 3
#define SLOTS 64
#define FRAMES 40
#define WORDS 8   /* words of each frame the model follows */
#define POOL_PAGES (FRAMES + SPACES * 40 + 8)
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define UNMAPPED (-1)

static uint64_t rng;
static uint64_t slot_va[SLOTS];
static uint64_t *space[SPACES];
static int map[SPACES][SLOTS];     /* frame index, or UNMAPPED */
static bool readonly[SPACES][SLOTS];
static uint8_t *frame[FRAMES];
static uint64_t model[FRAMES][WORDS];
static unsigned cur;
static int failures;

struct counts {
	unsigned writes, reads, maps, unmaps, switches, faults, mismatches;
};
static struct counts counts;

static uint64_t next(void)
{
	return splitmix64(&rng);
}

static unsigned word_index(unsigned f, unsigned k)
{
	return (k * 67 + f * 13) % 512;
}

static void mismatch(const char *what, unsigned slot, uint64_t detail)
{
	counts.mismatches++;
	failures++;
	if (failures <= 5)
		gprintf("MISMATCH: %s, space %u slot %u (0x%lx): 0x%lx\n", what, cur, slot, slot_va[slot], detail);
}

/* An access that must fault with @expected at @va. */
static void expect_fault(bool completed, const struct paging_fault *f, uint64_t va, uint64_t expected,
			 unsigned slot)
{
	counts.faults++;
	if (completed)
		mismatch("access to an unmapped or read-only page completed", slot, va);
	else if (f->vector != 14 || f->error_code != expected || f->cr2 != va)
		mismatch("wrong fault (error code)", slot, f->error_code);
}

static void do_write(unsigned slot)
{
	unsigned k = next() % WORDS;
	int f = map[cur][slot];
	uint64_t tag = next();
	uint64_t va = slot_va[slot] + 8 * word_index(f < 0 ? 0 : (unsigned)f, k);
	struct paging_fault fault;
	bool done = paging_try_write(va, tag, &fault);
	if (f == UNMAPPED)
		return expect_fault(done, &fault, va, PF_W, slot);
	if (readonly[cur][slot])
		return expect_fault(done, &fault, va, PF_P | PF_W, slot);
	counts.writes++;
	if (!done)
		return mismatch("write faulted", slot, fault.error_code);
	model[f][k] = tag;
}

static void do_read(unsigned slot)
{
	int f = map[cur][slot];
	struct paging_fault fault;
	if (f == UNMAPPED) {
		uint64_t va = slot_va[slot] + 8 * (next() % 512);
		bool done = paging_try_read(va, NULL, &fault);
		return expect_fault(done, &fault, va, 0, slot);
	}
	counts.reads++;
	for (unsigned k = 0; k < WORDS; k++) {
		uint64_t v;
		if (!paging_try_read(slot_va[slot] + 8 * word_index((unsigned)f, k), &v, &fault))
			return mismatch("read faulted", slot, fault.error_code);
		if (v != model[f][k])
			return mismatch("stale or wrong data", slot, v);
	}
}

static void do_map(unsigned s, unsigned slot, bool flush)
{
	unsigned f = next() % FRAMES;
	bool ro = next() % 4 == 0;
	bool was_present = map[s][slot] != UNMAPPED;
	paging_map(space[s], slot_va[slot], (uint64_t)(uintptr_t)frame[f], (ro ? 0 : PTE_W) | PTE_NX);
	map[s][slot] = (int)f;
	readonly[s][slot] = ro;
	counts.maps++;
	if (flush && was_present)
		paging_invlpg(slot_va[slot]);
}

static void do_unmap(unsigned s, unsigned slot, bool flush)
{
	if (map[s][slot] == UNMAPPED)
		return;
	paging_unmap(space[s], slot_va[slot]);
	map[s][slot] = UNMAPPED;
	counts.unmaps++;
	if (flush)
		paging_invlpg(slot_va[slot]);
}

static void step(void)
{
	unsigned op = next() % 100, slot = next() % SLOTS;
	if (op < 35) {
		do_write(slot);
	} else if (op < 60) {
		do_read(slot);
	} else if (op < 72) {
		do_map(cur, slot, true);
	} else if (op < 77) {
		/* Change another space's mapping: no flush (it is not loaded). */
		do_map((cur + 1 + next() % (SPACES - 1)) % SPACES, slot, false);
	} else if (op < 82) {
		do_unmap(cur, slot, true);
	} else if (op < 87) {
		/* A write to a read-only page, if this space has one. */
		for (unsigned i = 0; i < SLOTS; i++) {
			unsigned s = (slot + i) % SLOTS;
			if (map[cur][s] != UNMAPPED && readonly[cur][s]) {
				do_write(s);
				break;
			}
		}
	} else {
		cur = next() % SPACES;
		paging_load_cr3(space[cur]);
		counts.switches++;
	}
}

/* Draw 64 distinct page addresses in PML4 slots 64-67: 16 groups of 4
 * pages, each group in one page table, the groups spread over PDPTs and
 * PDs (at most 4 + 16 + 16 tables per space). */
static void choose_addresses(void)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		uint64_t r = next(), va;
		bool fresh;
		do {
			if (i % 4)
				/* a neighbour of the group's first: same page table */
				va = (slot_va[i - i % 4] & ~(LARGE_PAGE_SIZE - 1)) | ((r % 512) << 12);
			else
				va = paging_address(64 + r % 4, (r >> 8) % 8, (r >> 20) % 512, (r >> 32) % 512);
			fresh = true;
			for (unsigned j = 0; j < i; j++)
				fresh &= slot_va[j] != va;
			r = next();
		} while (!fresh);
		slot_va[i] = va;
	}
}

static uint64_t model_hash(void)
{
	return fnv1a64(model, sizeof(model));
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	uint64_t steps = guest_cmdline_u64("steps", 700);
	rng = nonce;
	gprintf("paging_stress: nonce=%lu steps=%lu\n", nonce, steps);
	paging_init(pool, POOL_PAGES);
	choose_addresses();
	gprintf("pages at 0x%lx, 0x%lx, ... 0x%lx\n", slot_va[0], slot_va[1], slot_va[SLOTS - 1]);

	for (unsigned f = 0; f < FRAMES; f++) {
		frame[f] = paging_alloc();
		for (unsigned k = 0; k < WORDS; k++) {
			model[f][k] = next();
			((uint64_t *)frame[f])[word_index(f, k)] = model[f][k];
		}
	}
	for (unsigned s = 0; s < SPACES; s++) {
		space[s] = paging_new_space();
		for (unsigned i = 0; i < SLOTS; i++) {
			map[s][i] = UNMAPPED;
			if (next() % 4)
				do_map(s, i, false);
		}
	}
	cur = 0;
	paging_load_cr3(space[0]);

	for (uint64_t i = 0; i < steps; i++) {
		step();
		if ((i + 1) % 100 == 0 || i + 1 == steps) {
			gprintf("steps to %lu: writes %u, reads %u, maps %u, unmaps %u, cr3 switches %u, faults %u, "
				"mismatches %u, model 0x%016lx\n",
				i + 1, counts.writes, counts.reads, counts.maps, counts.unmaps, counts.switches,
				counts.faults, counts.mismatches, model_hash());
			counts = (struct counts){ 0 };
		}
	}

	/* Everything, in every space. */
	unsigned mapped = 0, unmapped = 0;
	for (unsigned s = 0; s < SPACES; s++) {
		cur = s;
		paging_load_cr3(space[s]);
		for (unsigned i = 0; i < SLOTS; i++) {
			if (map[s][i] == UNMAPPED)
				unmapped++;
			else
				mapped++;
			do_read(i);
		}
	}
	gprintf("final check: %u mappings read back, %u unmapped pages faulted, mismatches %u\n", mapped,
		unmapped, counts.mismatches);
	gprintf("cr3 loads: %lu, invlpg: %lu\n", paging_cr3_loads(), paging_invlpgs());
	gprintf("true faults seen: %lu\n", paging_faults_seen());
	if (failures)
		guest_fail("%d accesses disagreed with the model", failures);
	guest_pass();
}
