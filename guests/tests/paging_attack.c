/*
 * paging_attack — page tables that try to reach what the guest does not own.
 *
 * Natively the guest owns the whole machine, so every mapping below is
 * legal and works. Under Hypatia with `mode=shadow` the hypervisor must
 * refuse to shadow them (lab 2's policy: never a frame outside the
 * domain, never the hypervisor's half of the address space): the guest
 * gets a #PF and the hypervisor logs `[hv] dN shadow: refused ...`. The
 * lines that legitimately differ are therefore `DIFF:` lines, checked by
 * the grader on their own (grader/tests/test_lab2_attacks.py):
 *
 * - a PTE whose frame lies at 80 MiB + (nonce % 1024) pages: past any
 *   domain's memory (at most 64 MiB), inside QEMU's 128 MiB natively;
 *   read, then write;
 * - pages mapped in the upper half, where the hypervisor lives: in PML4
 *   slot 256 (its direct map of RAM) and slot 511 (its image), each at a
 *   nonce-chosen page; read, then write a tag;
 * - a page-table loop: a PML4 entry pointing at the PML4 itself (legal
 *   natively: the "recursive mapping" trick); a walk is four levels long
 *   whatever the tables say, so reading through it must neither hang nor
 *   crash anything;
 * - non-canonical addresses (bits 63:48 not copies of bit 47): #GP(0),
 *   natively and virtualized alike — these lines are compared with native.
 *
 * `table=1` adds, last, a PML4 entry pointing at a PDPT outside the domain's
 * memory: the hypervisor may end the domain (a guest cannot fix it) or
 * deliver a #PF; it must do nothing else.
 *
 * `only=PART[,PART...]` (outside, upper, loop, canonical, table) runs just
 * those parts, in this order (a hypervisor may end the domain at the first
 * refusal instead of delivering a #PF: each part can be checked alone).
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define POOL_PAGES 32
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* Past any domain's memory (Hypatia allows at most 64 MiB), inside QEMU's. */
#define OUTSIDE_FRAMES UINT64_C(0x5000000)
#define OUTSIDE_TABLES UINT64_C(0x5800000)

static uint64_t *space;
static int failures;

/* One DIFF: line for an access that natively completes and under the
 * hypervisor must fault. */
static void report(const char *key, uint64_t va, bool done, const struct paging_fault *f, const char *extra)
{
	if (done)
		gprintf("DIFF: %s: at 0x%lx completed%s\n", key, va, extra);
	else if (f->vector == 14)
		gprintf("DIFF: %s: at 0x%lx #PF error 0x%lx, cr2 %s\n", key, va, f->error_code,
			f->cr2 == va ? "matches" : "WRONG");
	else
		gprintf("DIFF: %s: at 0x%lx vector %u error 0x%lx\n", key, va, f->vector, f->error_code);
}

static void non_canonical(const char *what, uint64_t va)
{
	struct paging_fault f;
	bool done = paging_try_read(va, NULL, &f);
	gprintf("non-canonical read at 0x%lx (%s): %s error 0x%lx\n", va, what,
		done ? "completed" : guest_vector_name(f.vector), f.error_code);
	failures += done || f.vector != 13;
	done = paging_try_write(va, 1, &f);
	gprintf("non-canonical write at 0x%lx (%s): %s error 0x%lx\n", va, what,
		done ? "completed" : guest_vector_name(f.vector), f.error_code);
	failures += done || f.vector != 13;
}

static uint64_t nonce, tag;

static void attack_outside(void)
{
	struct paging_fault f;
	uint64_t outside = OUTSIDE_FRAMES + (nonce % 1024) * PAGE_SIZE;
	uint64_t va = paging_address(254, 0, nonce % 512, 1);
	paging_map(space, va, outside, PTE_W | PTE_NX);
	gprintf("mapped 0x%lx to the frame at %lu MiB + %lu pages\n", va, outside >> 20,
		(outside & ((UINT64_C(1) << 20) - 1)) / PAGE_SIZE);
	bool done = paging_try_read(va, NULL, &f);
	report("frame outside memory, read", va, done, &f, "");
	done = paging_try_write(va + 8, tag, &f);
	report("frame outside memory, write", va + 8, done, &f, "");
}

static void attack_upper_half(void)
{
	struct paging_fault f;
	uint64_t *mine = paging_alloc();
	mine[0] = tag;
	const struct {
		const char *read, *write;
		unsigned slot;
	} halves[] = {
		{ "upper half (slot 256), read", "upper half (slot 256), write", 256 },
		{ "upper half (slot 511), read", "upper half (slot 511), write", 511 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(halves); i++) {
		uint64_t va = paging_address(halves[i].slot, (nonce >> 9) % 512, (nonce >> 18) % 512, nonce % 512);
		paging_map(space, va, (uint64_t)(uintptr_t)mine, PTE_W | PTE_NX);
		uint64_t v = 0;
		bool done = paging_try_read(va, &v, &f);
		report(halves[i].read, va, done, &f, done ? (v == tag ? ", the tag" : ", NOT the tag") : "");
		done = paging_try_write(va + 8, tag, &f);
		report(halves[i].write, va + 8, done, &f, "");
	}
}

/* A loop: PML4[k] -> the PML4. Reading at (k, k, k, k) walks the PML4 four
 * times and lands on the PML4 itself as the data page. */
static void attack_loop(void)
{
	struct paging_fault f;
	unsigned k = 200 + nonce % 50;
	space[k] = (uint64_t)(uintptr_t)space | PTE_P | PTE_W;
	uint64_t va = paging_address(k, k, k, k) + 8 * k, v = 0;
	bool done = paging_try_read(va, &v, &f);
	report("page-table loop, read", va, done, &f,
	       done ? ((v & PTE_ADDR) == (uint64_t)(uintptr_t)space ? ", the PML4 entry itself" : ", something else")
		    : "");
	gprintf("page-table loop at pml4 slot %u: still running\n", k);
	space[k] = 0;
	paging_load_cr3(space);
}

/* Non-canonical: #GP(0), the same everywhere (SDM Vol. 3A §6.15, "Interrupt 13"). */
static void attack_non_canonical(void)
{
	non_canonical("above the lower half", 0x0000800000000000ull + (nonce % (1ull << 20)) * 8);
	non_canonical("below the upper half", 0xffff7ffffffff000ull - (nonce % (1ull << 20)) * PAGE_SIZE);
}

/* A PDPT outside the domain's memory. */
static void attack_table(void)
{
	struct paging_fault f;
	unsigned j = 100 + nonce % 20;
	space[j] = (OUTSIDE_TABLES + (nonce % 1024) * PAGE_SIZE) | PTE_P | PTE_W;
	uint64_t va = paging_address(j, nonce % 512, 0, 0);
	bool done = paging_try_read(va, NULL, &f);
	report("table outside memory, read", va, done, &f, "");
	space[j] = 0;
	paging_load_cr3(space);
}

/* Is @name one of the comma-separated words of @list? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (end ? 1 : 0);
	}
	return false;
}

void guest_main(void)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} parts[] = {
		{ "outside", attack_outside },
		{ "upper", attack_upper_half },
		{ "loop", attack_loop },
		{ "canonical", attack_non_canonical },
		{ "table", attack_table },
	};
	char only[64] = "";
	nonce = guest_nonce();
	tag = fnv1a64(&nonce, sizeof(nonce));
	bool table = guest_cmdline_u64("table", 0);
	bool chosen = guest_cmdline_get("only", only, sizeof(only));
	gprintf("paging_attack: nonce=%lu\n", nonce);
	paging_init(pool, POOL_PAGES);
	space = paging_new_space();
	paging_load_cr3(space);

	bool ran = false;
	for (unsigned i = 0; i < ARRAY_SIZE(parts); i++) {
		bool is_table = parts[i].run == attack_table;
		if (chosen ? listed(only, parts[i].name) : (!is_table || table)) {
			parts[i].run();
			ran = true;
		}
	}
	if (!ran)
		guest_error("only= must list some of outside, upper, loop, canonical, table");

	gprintf("true faults seen: %lu\n", paging_faults_seen());
	if (failures)
		guest_fail("%d non-canonical accesses did not raise #GP", failures);
	guest_pass();
}
