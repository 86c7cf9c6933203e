/*
 * heap.c — kmalloc() and kfree().
 *
 * Small requests come from eight size classes (32 to 4096 bytes including a
 * 16-byte header); each class keeps a free list of blocks carved from whole
 * frames. A request too big for a class gets its own run of contiguous
 * frames. The header records the class, so kfree() needs no size, and a magic
 * word that catches double frees and wild pointers.
 */
#include "mm.h"
#include "panic.h"
#include "string.h"

#define HEAP_MAGIC_USED 0x48454150u /* "HEAP" */
#define HEAP_MAGIC_FREE 0x46524545u /* "FREE" */
#define CLASS_COUNT 8
#define CLASS_MIN_SHIFT 5            /* smallest class: 32 bytes */
#define CLASS_LARGE 0xffffffffu

struct block_header {
	uint32_t magic;
	uint32_t size_class;  /* index into the classes, or CLASS_LARGE */
	uint64_t pages;       /* CLASS_LARGE: frames in the run */
};

struct free_block {
	struct block_header header;
	struct free_block *next;
};

static struct free_block *free_lists[CLASS_COUNT];
static size_t bytes_in_use;

static size_t class_size(unsigned c) { return (size_t)1 << (c + CLASS_MIN_SHIFT); }

static unsigned class_for(size_t total)
{
	for (unsigned c = 0; c < CLASS_COUNT; c++)
		if (total <= class_size(c))
			return c;
	return CLASS_LARGE;
}

/* Carve one fresh frame into blocks of class @c. */
static bool refill(unsigned c)
{
	paddr_t pa = frame_alloc();
	if (!pa)
		return false;
	uint8_t *page = phys_to_virt(pa);
	for (size_t off = 0; off + class_size(c) <= PAGE_SIZE; off += class_size(c)) {
		struct free_block *b = (struct free_block *)(page + off);
		b->header = (struct block_header){.magic = HEAP_MAGIC_FREE, .size_class = c};
		b->next = free_lists[c];
		free_lists[c] = b;
	}
	return true;
}

void heap_init(void)
{
	memset(free_lists, 0, sizeof(free_lists));
	bytes_in_use = 0;
}

void *kmalloc(size_t size)
{
	size_t total = size + sizeof(struct block_header);
	if (total < size)
		return NULL;
	unsigned c = class_for(total);
	struct block_header *h;
	if (c == CLASS_LARGE) {
		size_t pages = ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE;
		paddr_t pa = frame_alloc_contiguous(pages);
		if (!pa)
			return NULL;
		h = phys_to_virt(pa);
		*h = (struct block_header){.magic = HEAP_MAGIC_USED, .size_class = CLASS_LARGE, .pages = pages};
		bytes_in_use += pages * PAGE_SIZE;
	} else {
		if (!free_lists[c] && !refill(c))
			return NULL;
		struct free_block *b = free_lists[c];
		free_lists[c] = b->next;
		h = &b->header;
		h->magic = HEAP_MAGIC_USED;
		bytes_in_use += class_size(c);
	}
	return h + 1;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *ptr)
{
	if (!ptr)
		return;
	struct block_header *h = (struct block_header *)ptr - 1;
	if (h->magic == HEAP_MAGIC_FREE)
		panic("kfree(%p): double free", ptr);
	if (h->magic != HEAP_MAGIC_USED)
		panic("kfree(%p): not a heap pointer (magic 0x%x)", ptr, h->magic);
	if (h->size_class == CLASS_LARGE) {
		bytes_in_use -= h->pages * PAGE_SIZE;
		h->magic = HEAP_MAGIC_FREE;
		frame_free_contiguous(virt_to_phys(h), h->pages);
		return;
	}
	struct free_block *b = (struct free_block *)h;
	h->magic = HEAP_MAGIC_FREE;
	bytes_in_use -= class_size(h->size_class);
	b->next = free_lists[h->size_class];
	free_lists[h->size_class] = b;
}

size_t heap_bytes_in_use(void)
{
	return bytes_in_use;
}
