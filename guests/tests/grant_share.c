/*
 * grant_share — grant tables v1 between three domains (Xen's
 * GNTTABOP_setup_table, query_size, set_version, map_grant_ref,
 * unmap_grant_ref, copy; lab 4):
 *   role=granter mapper=B attacker=C  sets up its table (pv: setup_table's
 *        frame list; hvm: add_to_physmap(XENMAPSPACE_grant_table) of a page
 *        of its own), grants B a page read-write (ref R) and one read-only
 *        (R+1), C a page read-write (R+2, C's mailbox) and read-only (R+4),
 *        and C one it revokes at once (R+3); then waits for B, shows that a
 *        grant in use cannot be revoked, lets B unmap, revokes, and checks
 *        every word B and C should — and should not — have written.
 *   role=mapper granter=A   maps R and R+1, reads, writes, copies, tries the
 *        read-only page for writing (refused), unmaps.
 *   role=attacker granter=A mapper=B  tries what is not its own: B's grant,
 *        the revoked one, a read-only one writable, references out of range,
 *        a domain that does not exist, a handle it never got, another's table.
 * R = 8 + nonce % 400. The domains learn each other's ids from their
 * command lines; the granter's pages and the mapper's writes are SplitMix64
 * sequences of the nonce, so the grader computes every line.
 * With bench=N (make bench) the mapper also maps and unmaps its grant N
 * times: `BENCH grant_map_unmap N cycles`.
 * pv build, or the image build as an HVM domain; natively: SKIP.
 */
#include "guest.h"
#include "hypercall.h"
#include "x86.h"

#define MAX_WAIT 4000
#define WORDS 512
#define UNMAP_NOW(nonce) ((nonce) ^ 0xa11a11ull)   /* data[510]: granter to mapper */
#define MAPPER_DONE(nonce) ((nonce) ^ 0xb0b0b0ull) /* data[511]: mapper to granter */
#define ATTACKER_DONE(nonce) ((nonce) ^ 0xc0c0c0ull)

static uint64_t data[WORDS] __attribute__((aligned(4096)));     /* granter: R, for the mapper */
static uint64_t ro_page[WORDS] __attribute__((aligned(4096)));  /* granter: R+1, read-only for the mapper */
static uint64_t c_box[WORDS] __attribute__((aligned(4096)));    /* granter: R+2, for the attacker */
static uint64_t c_page[WORDS] __attribute__((aligned(4096)));   /* granter: R+3 (revoked), R+4 (read-only), for the attacker */
static uint8_t table_page[4096] __attribute__((aligned(4096))); /* granter (hvm): its grant table's frame 0 */
static uint64_t window[WORDS] __attribute__((aligned(4096)));   /* mapper/attacker: where a grant is mapped */
static uint64_t window2[WORDS] __attribute__((aligned(4096)));
static uint8_t buffer[4096] __attribute__((aligned(4096)));
static volatile struct grant_entry_v1 *table;

static void yield(void)
{
	xen_sched_op(SCHEDOP_yield, NULL);
}

static uint64_t gfn(const void *p)
{
	return (uint64_t)(uintptr_t)p / 4096;
}

static void fill(uint64_t *page, unsigned count, uint64_t seed)
{
	for (unsigned i = 0; i < count; i++)
		page[i] = splitmix64(&seed);
}

static unsigned count_right(const volatile uint64_t *page, unsigned count, uint64_t seed)
{
	unsigned right = 0;
	for (unsigned i = 0; i < count; i++)
		right += page[i] == splitmix64(&seed);
	return right;
}

/* Grant @page to @domid: frame and domid first, the flags last (the
 * hypervisor may look at any moment). */
static void grant(uint32_t ref, const void *page, unsigned domid, uint16_t flags)
{
	table[ref].frame = (uint32_t)gfn(page);
	table[ref].domid = (uint16_t)domid;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	table[ref].flags = flags;
}

/* The granter's revoke: flags from exactly @expected to 0, atomically; fails
 * while the hypervisor has GTF_reading/GTF_writing set (Mini-OS's end-access). */
static bool revoke(uint32_t ref, uint16_t expected)
{
	uint16_t old = expected;
	return __atomic_compare_exchange_n((uint16_t *)&table[ref].flags, &old, 0, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

static int16_t map(unsigned dom, uint32_t ref, void *where, uint32_t flags, uint32_t *handle)
{
	struct gnttab_map_grant_ref op = {.host_addr = (uint64_t)(uintptr_t)where, .flags = flags, .ref = ref,
					  .dom = (uint16_t)dom};
	int64_t r = xen_grant_table_op(GNTTABOP_map_grant_ref, &op, 1);
	if (r != 0)
		guest_fail("map_grant_ref returned %ld", r);
	if (handle)
		*handle = op.handle;
	return op.status;
}

static int16_t unmap(void *where, uint32_t handle)
{
	struct gnttab_unmap_grant_ref op = {.host_addr = (uint64_t)(uintptr_t)where, .handle = handle};
	int64_t r = xen_grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1);
	if (r != 0)
		guest_fail("unmap_grant_ref returned %ld", r);
	return op.status;
}

/* Map, retrying while the granter is not ready (its table or entry not there yet). */
static int16_t map_when_ready(unsigned dom, uint32_t ref, void *where, uint32_t flags, uint32_t *handle)
{
	int16_t status = GNTST_general_error;
	for (unsigned i = 0; i < MAX_WAIT; i++) {
		status = map(dom, ref, where, flags, handle);
		if (status != GNTST_bad_gntref && status != GNTST_general_error)
			break;
		yield();
	}
	return status;
}

static int16_t copy(uint64_t src, uint16_t src_dom, uint16_t src_offset, uint64_t dst, uint16_t dst_dom,
		    uint16_t dst_offset, uint16_t len, uint16_t flags)
{
	struct gnttab_copy op = {.source = {.u.gmfn = src, .domid = src_dom, .offset = src_offset},
				 .dest = {.u.gmfn = dst, .domid = dst_dom, .offset = dst_offset},
				 .len = len, .flags = flags};
	int64_t r = xen_grant_table_op(GNTTABOP_copy, &op, 1);
	if (r != 0)
		guest_fail("copy returned %ld", r);
	return op.status;
}

static void wait_for(volatile uint64_t *word, uint64_t value, const char *what)
{
	for (unsigned i = 0; i < MAX_WAIT; i++) {
		if (*word == value)
			return;
		yield();
	}
	guest_fail("waited in vain for %s", what);
}

static void granter(uint64_t nonce, bool pv, unsigned mapper, unsigned attacker, uint32_t ref)
{
	uint64_t frame = 0;
	struct gnttab_setup_table setup = {.dom = DOMID_SELF, .nr_frames = 1, .frame_list = (uint64_t)(uintptr_t)&frame};
	if (!pv) {
		struct xen_add_to_physmap place = {.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = 0,
						   .gpfn = gfn(table_page)};
		gprintf("add_to_physmap(grant_table, frame 0): %ld\n", xen_memory_op(XENMEM_add_to_physmap, &place));
	}
	int64_t r = xen_grant_table_op(GNTTABOP_setup_table, &setup, 1);
	if (pv)
		gprintf("setup_table(1 frame): %ld, status %d, frame %lu\n", r, setup.status, frame);
	else
		gprintf("setup_table(1 frame): %ld, status %d, the page placed: %s\n", r, setup.status,
			frame == gfn(table_page) ? "yes" : "no");
	table = (volatile struct grant_entry_v1 *)(uintptr_t)(frame * 4096);
	struct gnttab_query_size query = {.dom = DOMID_SELF};
	r = xen_grant_table_op(GNTTABOP_query_size, &query, 1);
	gprintf("query_size: %ld, status %d, %u of %u frames\n", r, query.status, query.nr_frames, query.max_nr_frames);
	struct gnttab_set_version version = {.version = 1};
	r = xen_grant_table_op(GNTTABOP_set_version, &version, 1);
	struct gnttab_set_version v2 = {.version = 2};
	gprintf("set_version(1): %ld, version %u; set_version(2): %ld\n", r, version.version,
		xen_grant_table_op(GNTTABOP_set_version, &v2, 1));
	struct gnttab_setup_table foreign = {.dom = (uint16_t)mapper, .nr_frames = 1,
					     .frame_list = (uint64_t)(uintptr_t)&frame};
	xen_grant_table_op(GNTTABOP_setup_table, &foreign, 1);
	gprintf("setup_table(d%u's table): status %d\n", mapper, foreign.status);

	fill(data, 256, nonce);
	fill(ro_page, WORDS, nonce ^ 0x5a5a);
	fill(c_page, WORDS, nonce + 1);
	grant(ref, data, mapper, GTF_permit_access);
	grant(ref + 1, ro_page, mapper, GTF_permit_access | GTF_readonly);
	grant(ref + 3, c_page, attacker, GTF_permit_access);
	bool revoked = revoke(ref + 3, GTF_permit_access);
	gprintf("revoke ref+3 (never mapped): %s, flags 0x%x\n", revoked ? "done" : "refused", table[ref + 3].flags);
	grant(ref + 4, c_page, attacker, GTF_permit_access | GTF_readonly);
	grant(ref + 2, c_box, attacker, GTF_permit_access);

	wait_for(&data[511], MAPPER_DONE(nonce), "the mapper");
	gprintf("mapper done; flags of ref 0x%x, of ref+1 0x%x\n", table[ref].flags, table[ref + 1].flags);
	revoked = revoke(ref, GTF_permit_access);
	gprintf("revoke ref while mapped: %s, flags 0x%x\n", revoked ? "done" : "refused", table[ref].flags);
	data[510] = UNMAP_NOW(nonce);
	unsigned waited = 0;
	while ((table[ref].flags | table[ref + 1].flags) & (GTF_reading | GTF_writing))
		if (++waited == MAX_WAIT)
			guest_fail("the mapper never unmapped");
		else
			yield();
	bool a = revoke(ref, GTF_permit_access), b = revoke(ref + 1, GTF_permit_access | GTF_readonly);
	gprintf("after the unmaps: revoke ref %s, ref+1 %s; flags 0x%x 0x%x\n", a ? "done" : "refused",
		b ? "done" : "refused", table[ref].flags, table[ref + 1].flags);
	gprintf("own words intact: %u of 256\n", count_right(data, 256, nonce));
	gprintf("mapper's words: %u of 128\n", count_right(data + 256, 128, nonce * 3 + 1));
	gprintf("copied bytes (ref+1 @8 -> ref @3072): %s\n",
		memcmp((uint8_t *)data + 3072, (uint8_t *)ro_page + 8, 64) == 0 ? "right" : "wrong");
	gprintf("read-only page intact: %u of 512\n", count_right(ro_page, WORDS, nonce ^ 0x5a5a));

	wait_for(&c_box[0], ATTACKER_DONE(nonce), "the attacker");
	uint16_t flags = table[ref + 2].flags;
	revoked = revoke(ref + 2, GTF_permit_access);
	gprintf("attacker done; its grant's flags 0x%x; revoke: %s\n", flags, revoked ? "done" : "refused");
	gprintf("after the attacks: own words intact %u of 256, read-only page %u of 512, c_page %u of 512\n",
		count_right(data, 256, nonce), count_right(ro_page, WORDS, nonce ^ 0x5a5a),
		count_right(c_page, WORDS, nonce + 1));
}

static void mapper(uint64_t nonce, unsigned granter_id, uint32_t ref)
{
	uint32_t h, h2;
	int16_t s = map_when_ready(granter_id, ref, window, GNTMAP_host_map, &h);
	gprintf("map ref (read-write): status %d\n", s);
	if (s != GNTST_okay)
		guest_fail("could not map the grant");
	gprintf("granter's words: %u of 256\n", count_right(window, 256, nonce));
	fill(window + 256, 128, nonce * 3 + 1);
	gprintf("map ref+1 writable: status %d\n", map(granter_id, ref + 1, window2, GNTMAP_host_map, NULL));
	s = map(granter_id, ref + 1, window2, GNTMAP_host_map | GNTMAP_readonly, &h2);
	gprintf("map ref+1 read-only: status %d, first word %lx\n", s, window2[0]);
	gprintf("xen_version(extraversion) into the read-only page: %ld\n",
		xen_version(XENVER_extraversion, window2));
	s = copy(ref + 1, (uint16_t)granter_id, 8, gfn(buffer), DOMID_SELF, 0, 64, GNTCOPY_source_gref);
	gprintf("copy ref+1 @8 -> own page: status %d, fnv %lx\n", s, fnv1a64(buffer, 64));
	s = copy(gfn(buffer), DOMID_SELF, 0, ref, (uint16_t)granter_id, 3072, 64, GNTCOPY_dest_gref);
	gprintf("copy own page -> ref @3072: status %d\n", s);
	s = copy(gfn(buffer), DOMID_SELF, 0, ref + 1, (uint16_t)granter_id, 0, 64, GNTCOPY_dest_gref);
	gprintf("copy own page -> ref+1 (read-only): status %d\n", s);
	s = copy(gfn(buffer), DOMID_SELF, 4000, ref, (uint16_t)granter_id, 0, 200, GNTCOPY_dest_gref);
	gprintf("copy across a page end: status %d\n", s);
	unsigned times = guest_cmdline_u64("bench", 0);
	if (times) {
		uint64_t start = rdtsc();
		for (unsigned i = 0; i < times; i++) {
			uint32_t h3;
			if (map(granter_id, ref + 1, buffer, GNTMAP_host_map | GNTMAP_readonly, &h3) != GNTST_okay ||
			    unmap(buffer, h3) != GNTST_okay)
				guest_fail("map/unmap %u failed", i);
		}
		gprintf("BENCH grant_map_unmap %u %lu\n", times, rdtsc() - start);
	}
	window[511] = MAPPER_DONE(nonce);
	wait_for(&window[510], UNMAP_NOW(nonce), "the granter's go-ahead");
	int16_t a = unmap(window, h), b = unmap(window2, h2);
	gprintf("unmap both: status %d %d; again: %d\n", a, b, unmap(window, h));
	gprintf("own page back: %s\n", window[511] == MAPPER_DONE(nonce) ? "no, still the grant" : "yes");
}

static void attacker(uint64_t nonce, unsigned granter_id, unsigned mapper_id, uint32_t ref)
{
	uint32_t h;
	int16_t s = map_when_ready(granter_id, ref + 2, window, GNTMAP_host_map, &h);
	gprintf("map its own grant ref+2: status %d\n", s);
	if (s != GNTST_okay)
		guest_fail("could not map its own grant");
	gprintf("map ref (d%u's grant): status %d\n", mapper_id, map(granter_id, ref, window2, GNTMAP_host_map, NULL));
	gprintf("map ref+3 (revoked): status %d\n", map(granter_id, ref + 3, window2, GNTMAP_host_map, NULL));
	gprintf("map ref+4 (read-only) writable: status %d\n", map(granter_id, ref + 4, window2, GNTMAP_host_map, NULL));
	uint32_t h4;
	s = map(granter_id, ref + 4, window2, GNTMAP_host_map | GNTMAP_readonly, &h4);
	gprintf("map ref+4 read-only: status %d, first word %lx\n", s, window2[0]);
	gprintf("unmap it: status %d\n", unmap(window2, h4));
	uint32_t far = 512 + nonce % 1000;
	gprintf("map ref %u (past the table): status %d; ref 0x%x: status %d\n", far,
		map(granter_id, far, window2, GNTMAP_host_map, NULL), 0xffffffffu,
		map(granter_id, 0xffffffffu, window2, GNTMAP_host_map, NULL));
	gprintf("map from d%lu (no such domain): status %d\n", 200 + nonce % 100,
		map(200 + nonce % 100, ref, window2, GNTMAP_host_map, NULL));
	gprintf("map without GNTMAP_host_map: status %d\n", map(granter_id, ref + 2, window2, 0, NULL));
	gprintf("unmap handle %u (never given): status %d\n", 40 + (unsigned)(nonce % 20),
		unmap(window2, 40 + (unsigned)(nonce % 20)));
	gprintf("unmap its handle at another address: status %d\n", unmap(window2, h));
	gprintf("copy from ref (d%u's grant): status %d\n", mapper_id,
		copy(ref, (uint16_t)granter_id, 0, gfn(buffer), DOMID_SELF, 0, 64, GNTCOPY_source_gref));
	gprintf("copy into ref+4 (read-only): status %d\n",
		copy(gfn(buffer), DOMID_SELF, 0, ref + 4, (uint16_t)granter_id, 0, 64, GNTCOPY_dest_gref));
	gprintf("copy from d%u's frame as its own: status %d\n", granter_id,
		copy(gfn(buffer), (uint16_t)granter_id, 0, gfn(buffer), DOMID_SELF, 0, 64, 0));
	struct gnttab_query_size query = {.dom = (uint16_t)granter_id};
	xen_grant_table_op(GNTTABOP_query_size, &query, 1);
	gprintf("query_size(d%u's table): status %d\n", granter_id, query.status);
	window[0] = ATTACKER_DONE(nonce);
	gprintf("unmap its grant: status %d\n", unmap(window, h));
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	bool pv = strcmp(guest_platform(), "pv") == 0;
	if (!pv && !hypercall_find_xen())
		guest_skip("grant tables need the pv build or an HVM domain (this is %s)", guest_platform());
	char role[16] = "";
	guest_cmdline_get("role", role, sizeof(role));
	uint32_t ref = 8 + nonce % 400;
	gprintf("grant_share: nonce=%lu role=%s\n", nonce, role);
	if (strcmp(role, "granter") == 0)
		granter(nonce, pv, guest_cmdline_u64("mapper", 2), guest_cmdline_u64("attacker", 3), ref);
	else if (strcmp(role, "mapper") == 0)
		mapper(nonce, guest_cmdline_u64("granter", 1), ref);
	else if (strcmp(role, "attacker") == 0)
		attacker(nonce, guest_cmdline_u64("granter", 1), guest_cmdline_u64("mapper", 2), ref);
	else
		guest_error("role= must be granter, mapper or attacker");
	guest_pass();
}
