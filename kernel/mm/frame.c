/*
 * frame.c — the physical frame allocator.
 *
 * One bit per 4 KiB frame of the first 4 GiB (the part the direct map
 * covers): 1 = in use or not RAM, 0 = free. Everything starts in use; the
 * "available" ranges of the multiboot memory map are then freed, and the
 * ranges the hypervisor already occupies are taken back. A bitmap is the
 * simplest allocator that can also answer "is this frame allocated?", which
 * the later labs need to check that a guest's page tables point only at its
 * own frames.
 */
#include "console.h"
#include "mm.h"
#include "multiboot.h"
#include "panic.h"
#include "string.h"

#define FRAME_COUNT_MAX (DIRECT_MAP_SIZE / PAGE_SIZE)
#define LOW_MEMORY_END 0x100000 /* BIOS data, real-mode IVT, VGA, option ROMs */

static uint64_t bitmap[FRAME_COUNT_MAX / 64];
static size_t frames_total;    /* frames that are RAM */
static size_t frames_free;
static size_t frame_limit;     /* one past the highest RAM frame */
static size_t search_hint;     /* where the next search starts */

extern char kernel_phys_start[], kernel_phys_end[];

static bool frame_used(size_t f) { return bitmap[f / 64] >> (f % 64) & 1; }
static void mark_used(size_t f) { bitmap[f / 64] |= 1ull << (f % 64); }
static void mark_free(size_t f) { bitmap[f / 64] &= ~(1ull << (f % 64)); }

/* Free the whole frames inside [start, end). */
static void release_range(uint64_t start, uint64_t end)
{
	end = MIN(end, (uint64_t)DIRECT_MAP_SIZE);
	for (uint64_t f = ALIGN_UP(start, PAGE_SIZE) / PAGE_SIZE; f < end / PAGE_SIZE; f++) {
		if (frame_used(f)) {
			mark_free(f);
			frames_total++;
			frames_free++;
		}
		frame_limit = MAX(frame_limit, f + 1);
	}
}

/* Take back every frame that overlaps [start, end). */
static void reserve_range(uint64_t start, uint64_t end)
{
	end = MIN(end, (uint64_t)DIRECT_MAP_SIZE);
	for (uint64_t f = start / PAGE_SIZE; f < ALIGN_UP(end, PAGE_SIZE) / PAGE_SIZE; f++) {
		if (!frame_used(f)) {
			mark_used(f);
			frames_free--;
		}
	}
}

static void reserve_string(uint32_t phys)
{
	if (phys)
		reserve_range(phys, phys + strlen(phys_to_virt(phys)) + 1);
}

void frame_init(const struct multiboot_info *mbi)
{
	memset(bitmap, 0xff, sizeof(bitmap));
	if (!(mbi->flags & MULTIBOOT_INFO_MMAP))
		panic("the boot loader gave no memory map (multiboot flags 0x%x)", mbi->flags);

	uint64_t map = mbi->mmap_addr, map_end = map + mbi->mmap_length;
	while (map < map_end) {
		const struct multiboot_mmap_entry *e = phys_to_virt(map);
		if (e->type == MULTIBOOT_MEMORY_AVAILABLE)
			release_range(e->addr, e->addr + e->len);
		map += e->size + sizeof(e->size);
	}

	reserve_range(0, LOW_MEMORY_END);
	reserve_range((uint64_t)kernel_phys_start, (uint64_t)kernel_phys_end);
	uint64_t mbi_phys = virt_to_phys(mbi);
	reserve_range(mbi_phys, mbi_phys + sizeof(*mbi));
	reserve_range(mbi->mmap_addr, map_end);
	if (mbi->flags & MULTIBOOT_INFO_CMDLINE)
		reserve_string(mbi->cmdline);
	if (mbi->flags & MULTIBOOT_INFO_MODS) {
		const struct multiboot_module *mods = phys_to_virt(mbi->mods_addr);
		reserve_range(mbi->mods_addr, mbi->mods_addr + mbi->mods_count * sizeof(*mods));
		for (uint32_t i = 0; i < mbi->mods_count; i++) {
			reserve_range(mods[i].mod_start, mods[i].mod_end);
			reserve_string(mods[i].string);
		}
	}
	search_hint = LOW_MEMORY_END / PAGE_SIZE;
}

paddr_t frame_alloc_contiguous(size_t count)
{
	if (count == 0 || count > frames_free)
		return 0;
	/* First fit, starting at the hint, wrapping around once. */
	for (size_t pass = 0; pass < 2; pass++) {
		size_t start = pass == 0 ? search_hint : 0, end = pass == 0 ? frame_limit : search_hint;
		size_t run = 0;
		for (size_t f = start; f < end; f++) {
			run = frame_used(f) ? 0 : run + 1;
			if (run == count) {
				size_t first = f + 1 - count;
				for (size_t g = first; g <= f; g++)
					mark_used(g);
				frames_free -= count;
				search_hint = f + 1;
				memset(phys_to_virt(first * PAGE_SIZE), 0, count * PAGE_SIZE);
				return first * PAGE_SIZE;
			}
		}
	}
	return 0;
}

paddr_t frame_alloc(void)
{
	return frame_alloc_contiguous(1);
}

void frame_free_contiguous(paddr_t pa, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		size_t f = pa / PAGE_SIZE + i;
		if (pa % PAGE_SIZE || f >= frame_limit || !frame_used(f))
			panic("frame_free(0x%lx): not an allocated frame", pa + i * PAGE_SIZE);
		mark_free(f);
		frames_free++;
	}
}

void frame_free(paddr_t pa)
{
	frame_free_contiguous(pa, 1);
}

size_t frame_free_count(void) { return frames_free; }
size_t frame_total_count(void) { return frames_total; }

bool frame_is_allocated(paddr_t pa)
{
	size_t f = pa / PAGE_SIZE;
	return f < frame_limit && frame_used(f);
}
