/*
 * mmio — loads and stores to a memory-mapped device (lab 3).
 *
 * The guest maps the kit's test device (guest-physical 0xfeb00000,
 * kernel/include/mmio.h) into its own page tables, uncached, and reads and
 * writes its registers with ordinary MOVs. Under nested paging that address
 * is not in the domain's nested page table, so every access is a nested
 * page fault that the hypervisor emulates through its instruction decoder.
 * Natively there is no such device: the ID does not match and the guest
 * says SKIP.
 */
#include "guest.h"
#include "paging.h"
#include "x86.h"

#define DEVICE_GPA 0xfeb00000ull
#define DEVICE_VA 0x7f0000400000ull
#define POOL_PAGES 16

static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static volatile uint64_t *reg64(unsigned offset) { return (volatile uint64_t *)(uintptr_t)(DEVICE_VA + offset); }
static volatile uint32_t *reg32(unsigned offset) { return (volatile uint32_t *)(uintptr_t)(DEVICE_VA + offset); }
static volatile uint8_t *reg8(unsigned offset) { return (volatile uint8_t *)(uintptr_t)(DEVICE_VA + offset); }

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	paging_init(pool, POOL_PAGES);
	uint64_t *space = paging_new_space();
	if (!space || !paging_map(space, DEVICE_VA, DEVICE_GPA, PTE_W | PTE_PCD | PTE_PWT))
		guest_error("could not build the page tables");
	paging_load_cr3(space);

	uint32_t id = *reg32(0x00);
	if (id != 0x41505948)
		guest_skip("no Hypatia test device here (id 0x%x): this is not a hardware-assisted domain", id);
	gprintf("mmio: device id 0x%x\n", id);

	uint64_t value = nonce * 0x9e3779b97f4a7c15ull;
	*reg64(0x08) = value;                       /* a 64-bit store */
	uint64_t back = *reg64(0x08);               /* a 64-bit load */
	*reg8(0x08) = (uint8_t)nonce;               /* a byte store into the same register */
	uint16_t low = *(volatile uint16_t *)(uintptr_t)(DEVICE_VA + 0x08); /* a 16-bit load */
	gprintf("mmio: scratch wrote 0x%lx, read 0x%lx, %s\n", (unsigned long)value, (unsigned long)back,
		back == value ? "equal" : "DIFFERENT");
	gprintf("mmio: after a byte store, low 16 bits 0x%04x\n", low);

	char line[48];
	gsnprintf(line, sizeof(line), "mmio console: %lu\n", (unsigned long)(nonce % 1000003 * 3));
	for (const char *p = line; *p; p++)
		*reg8(0x10) = (uint8_t)*p;              /* one store per character */
	gprintf("mmio: accesses seen by the device: %lu\n", (unsigned long)*reg64(0x18));
	if (back != value)
		guest_fail("the scratch register did not keep its value");
	guest_pass();
}
