/*
 * xl_build.c — the domain builder, in Dom0 as in Xen (libxl's
 * libxl__build_pv/hvm over libxenguest): the hypervisor offers an empty,
 * paused domain, frames, foreign mappings and a vCPU context; everything
 * about the kernel is decided here.
 *
 *   1. read the kernel file from Dom0's disk and check it (ELF64, x86-64,
 *      executable, segments inside the file and the domain, Hypatia's note);
 *   2. XEN_DOMCTL_createdomain (paused, no memory), XEN_DOMCTL_max_mem;
 *   3. XENMEM_populate_physmap: every page of the domain gets a frame;
 *   4. load the segments through foreign mappings (xl_load_segments, lab 4)
 *      and the command line into the last page (Hypatia's boot contract:
 *      RDI = its address);
 *   5. XEN_DOMCTL_setvcpucontext: RIP = entry, RSP = the note's stack;
 *   6. XEN_DOMCTL_unpausedomain — unless `xl create -p`.
 * Any failure after step 2 destroys the domain: nothing half made stays.
 */
#include "dom0.h"
#include "hypatia_note.h"
#include "xc.h"
#include "xl_build.h"
#include "x86.h"

#define KERNEL_MAX (2u << 20)
/* The domain's last four pages are the hypervisor's (HVM identity tables)
 * and the command line's. */
#define RESERVED_TOP_PAGES 4
#define POPULATE_BATCH 256

static uint8_t kernel_buffer[KERNEL_MAX];
static uint8_t window[XL_WINDOW_PAGES][XL_PAGE_SIZE] __attribute__((aligned(4096)));

static uint64_t window_gpfn(unsigned slot)
{
	return (uint64_t)(uintptr_t)window[slot] / XL_PAGE_SIZE; /* Dom0's memory: virtual = guest-physical */
}

void *xl_guest_page(struct xl_build *b, uint64_t gfn)
{
	for (unsigned i = 0; i < XL_WINDOW_PAGES; i++)
		if (b->window_gfn[i] == gfn)
			return window[i];
	if (gfn >= b->memory_bytes / XL_PAGE_SIZE) {
		gprintf("xl create: guest page 0x%llx is outside the domain's %llu KiB\n", (unsigned long long)gfn,
			(unsigned long long)(b->memory_bytes >> 10));
		return NULL;
	}
	unsigned slot = b->window_next++ % XL_WINDOW_PAGES;
	int64_t r = xc_map_foreign(b->domid, gfn, window_gpfn(slot));
	if (r) {
		gprintf("xl create: mapping page 0x%llx of d%u: %s\n", (unsigned long long)gfn, b->domid,
			xc_error_name(r));
		b->window_gfn[slot] = ~0ull;
		return NULL;
	}
	b->window_gfn[slot] = gfn;
	return window[slot];
}

static void window_close(struct xl_build *b)
{
	for (unsigned i = 0; i < XL_WINDOW_PAGES; i++)
		if (b->window_gfn[i] != ~0ull) {
			xc_unmap_foreign(window_gpfn(i));
			b->window_gfn[i] = ~0ull;
		}
}

/* What the loader relies on, checked before any domain exists. */
static const char *check_kernel(struct xl_build *b)
{
	const struct elf64_header *eh = (const void *)b->kernel;
	if (b->kernel_size < sizeof(*eh) || memcmp(eh->ident, "\x7f" "ELF", 4) != 0)
		return "not an ELF file";
	if (eh->ident[4] != 2 || eh->ident[5] != 1 || eh->machine != EM_X86_64 || eh->type != ET_EXEC)
		return "not an x86-64 ELF64 executable";
	if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phnum == 0 || eh->phnum > 16 ||
	    eh->phoff > b->kernel_size || eh->phnum * sizeof(struct elf64_phdr) > b->kernel_size - eh->phoff)
		return "its program headers are missing or lie outside the file";
	const struct elf64_phdr *ph = (const void *)(b->kernel + eh->phoff);
	uint64_t top = b->memory_bytes - RESERVED_TOP_PAGES * XL_PAGE_SIZE;
	struct hypatia_guest_note note;
	bool have_note = false;
	unsigned loads = 0;
	for (unsigned i = 0; i < eh->phnum; i++) {
		if (ph[i].offset > b->kernel_size || ph[i].filesz > b->kernel_size - ph[i].offset)
			return "a segment lies outside the file (truncated?)";
		if (ph[i].type == PT_NOTE && !have_note)
			have_note = hypatia_note_find(b->kernel + ph[i].offset, ph[i].filesz, &note);
		if (ph[i].type != PT_LOAD)
			continue;
		if (ph[i].filesz > ph[i].memsz || ph[i].paddr < XL_PAGE_SIZE || ph[i].paddr > top ||
		    ph[i].memsz > top - ph[i].paddr)
			return "a segment does not fit the domain's memory (raise memory=)";
		loads++;
	}
	if (!loads)
		return "no loadable segment";
	if (!have_note || note.version != HYPATIA_NOTE_VERSION || note.entry_mode != HYPATIA_ENTRY_LONG64 ||
	    note.entry != eh->entry)
		return "no Hypatia guest note (not a kernel built for Hypatia)";
	if (note.mem_min_bytes > b->memory_bytes)
		return "the kernel needs more memory than memory= gives";
	b->entry = eh->entry;
	b->stack_top = note.stack_top;
	return NULL;
}

static int populate(struct xl_build *b)
{
	static uint64_t gfns[POPULATE_BATCH];
	uint64_t pages = b->memory_bytes / XL_PAGE_SIZE;
	for (uint64_t done = 0; done < pages;) {
		uint64_t n = pages - done < POPULATE_BATCH ? pages - done : POPULATE_BATCH;
		for (uint64_t i = 0; i < n; i++)
			gfns[i] = done + i;
		int64_t got = xc_domain_populate(b->domid, gfns, n);
		if (got != (int64_t)n) {
			gprintf("xl create: out of host memory: %llu of the domain's %llu pages given\n",
				(unsigned long long)(done + (got > 0 ? (uint64_t)got : 0)), (unsigned long long)pages);
			return -1;
		}
		done += n;
	}
	return 0;
}

static int load_cmdline(struct xl_build *b, const char *cmdline, uint64_t *gpa)
{
	uint64_t gfn = b->memory_bytes / XL_PAGE_SIZE - 1;
	char *page = xl_guest_page(b, gfn);
	if (!page)
		return -1;
	memcpy(page, cmdline, strlen(cmdline) + 1);
	*gpa = gfn * XL_PAGE_SIZE;
	return 0;
}

static int failed(const char *step, int64_t error)
{
	gprintf("xl create: %s: %s\n", step, xc_error_name(error));
	return -1;
}

/* TSC at the end of each step, for `xl create -v` (the creation figure, docs/dom0.md). */
enum { STEP_READ, STEP_CREATE, STEP_POPULATE, STEP_LOAD, STEP_START, STEPS };
static uint64_t step_tsc[STEPS];

/* Steps 2-6, on a domain that exists: -1 means the caller destroys it. */
static int build_domain(struct xl_build *b, const struct xl_config *c, bool paused)
{
	int64_t r;
	uint64_t cmdline_gpa;
	if ((r = xc_domain_max_mem(b->domid, b->memory_bytes >> 10)))
		return failed("max_mem", r);
	step_tsc[STEP_CREATE] = rdtsc();
	if (populate(b))
		return -1;
	step_tsc[STEP_POPULATE] = rdtsc();
	if (xl_load_segments(b) || load_cmdline(b, c->cmdline, &cmdline_gpa))
		return -1;
	window_close(b);
	step_tsc[STEP_LOAD] = rdtsc();
	if ((r = xc_vcpu_set_entry(b->domid, b->entry, b->stack_top, cmdline_gpa)))
		return failed("setvcpucontext", r);
	if (!paused && (r = xc_domain_unpause(b->domid)))
		return failed("unpause", r);
	step_tsc[STEP_START] = rdtsc();
	return 0;
}

int xl_build(const struct xl_config *c, bool paused, bool verbose, uint16_t *domid)
{
	static struct xl_build b;
	uint64_t start = rdtsc();
	if (!xc_on_xen)
		return gprintf("xl create: Dom0 runs natively here: making domains needs the hypervisor\n"), -1;
	if (c->type == XL_TYPE_PVH)
		return gprintf("xl create: %s: type \"pvh\" is not offered (pv or hvm)\n", c->name), -1;
	if (c->memory_mib < 1 || c->memory_mib > 1024)
		return gprintf("xl create: %s: memory = %llu: Hypatia gives a domain 1 to 1024 MiB\n", c->name,
			       (unsigned long long)c->memory_mib), -1;
	if (strlen(c->cmdline) >= XL_PAGE_SIZE)
		return gprintf("xl create: %s: the command line is longer than a page\n", c->name), -1;
	memset(&b, 0, sizeof(b));
	memset(b.window_gfn, 0xff, sizeof(b.window_gfn));
	b.memory_bytes = c->memory_mib << 20;
	b.kernel = kernel_buffer;
	int64_t size = dom0_read_file(c->kernel, (char *)kernel_buffer, sizeof(kernel_buffer));
	if (size < 0)
		return gprintf("xl create: %s: cannot read its kernel %s\n", c->name, c->kernel), -1;
	b.kernel_size = (uint64_t)size;
	const char *problem = check_kernel(&b);
	if (problem)
		return gprintf("xl create: %s: kernel %s: %s\n", c->name, c->kernel, problem), -1;
	step_tsc[STEP_READ] = rdtsc();

	int64_t r = xc_domain_create(c->type == XL_TYPE_HVM, &b.domid);
	if (r)
		return failed("createdomain", r);
	if (build_domain(&b, c, paused)) {
		window_close(&b);
		xc_domain_destroy(b.domid);
		gprintf("xl create: %s: not created (d%u destroyed)\n", c->name, b.domid);
		return -1;
	}
	*domid = b.domid;
	gprintf("xl create: '%s' is d%u (%s, %llu MiB)%s, built in %llu TSC cycles\n", c->name, b.domid,
		xl_type_name(c->type), (unsigned long long)c->memory_mib, paused ? ", paused" : "",
		(unsigned long long)(rdtsc() - start));
	if (verbose)
		gprintf("xl create: TSC cycles: read+check %llu, createdomain+max_mem %llu, populate %llu, "
			"load %llu, setvcpucontext+unpause %llu\n",
			(unsigned long long)(step_tsc[STEP_READ] - start),
			(unsigned long long)(step_tsc[STEP_CREATE] - step_tsc[STEP_READ]),
			(unsigned long long)(step_tsc[STEP_POPULATE] - step_tsc[STEP_CREATE]),
			(unsigned long long)(step_tsc[STEP_LOAD] - step_tsc[STEP_POPULATE]),
			(unsigned long long)(step_tsc[STEP_START] - step_tsc[STEP_LOAD]));
	if (!paused)
		xc_yield(); /* let it run at once: its first line comes before our next prompt */
	return 0;
}
