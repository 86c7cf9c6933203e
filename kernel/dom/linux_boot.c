/*
 * linux_boot.c — booting an unmodified Linux bzImage as an HVM guest.
 *
 * The x86 boot protocol (Linux's Documentation/arch/x86/boot.rst), 64-bit
 * flavour, as QEMU's -kernel, GRUB and kexec implement it:
 *
 *   1. The bzImage starts with a real-mode "setup" part of setup_sects + 1
 *      sectors; at 0x1f1 sits the *setup header*: boot_flag 0xAA55 at 0x1fe,
 *      "HdrS" at 0x202, the protocol version at 0x206, and what the kernel
 *      needs: where it prefers to be loaded (pref_address), how much memory
 *      it needs there while it decompresses itself (init_size), whether it
 *      has a 64-bit entry (xloadflags bit 0), the highest initrd address.
 *   2. The rest of the file, the protected-mode kernel, is loaded at
 *      pref_address; the initrd anywhere the kernel can reach.
 *   3. The loader fills a 4 KiB "zero page" (struct boot_params): the setup
 *      header copied from the file, plus the memory map (e820 table at
 *      0x2d0, its length at 0x1e8), the command line's address and the
 *      initrd's address and size (written into the copied header).
 *   4. Entry: 64-bit mode, paging on with the kernel, the zero page and the
 *      command line identity-mapped, a GDT with flat 4 GiB segments
 *      __BOOT_CS (0x10, code) and __BOOT_DS (0x18, data), CS = 0x10,
 *      DS = ES = SS = 0x18, interrupts off, RSI = the zero page, at
 *      load address + 0x200.
 *
 * Everything in the header comes from outside: each number is checked
 * before it is used, and a file that is not a 64-bit x86 bzImage, that is
 * truncated, or that does not fit with its initrd is refused by name.
 */
#include "console.h"
#include "domain.h"
#include "linux_boot.h"
#include "mm.h"
#include "mptable.h"
#include "paging.h"
#include "string.h"
#include "svm.h"
#include "vcpu.h"
#include "vmx.h"
#include "x86.h"

/* Setup header fields: offsets in the file and in boot_params alike. */
#define HDR_SETUP_SECTS 0x1f1   /* u8: setup sectors after the boot sector (0 means 4) */
#define HDR_SYSSIZE 0x1f4       /* u32: protected-mode code size in 16-byte paragraphs */
#define HDR_BOOT_FLAG 0x1fe     /* u16: 0xAA55 */
#define HDR_JUMP 0x200          /* the 2-byte jump; its offset byte gives the header's end */
#define HDR_MAGIC 0x202         /* "HdrS" */
#define HDR_VERSION 0x206       /* u16: protocol version */
#define HDR_TYPE_OF_LOADER 0x210 /* u8: 0xff = a loader without an assigned id */
#define HDR_LOADFLAGS 0x211     /* u8: bit 0 LOADED_HIGH */
#define HDR_RAMDISK_IMAGE 0x218 /* u32 */
#define HDR_RAMDISK_SIZE 0x21c  /* u32 */
#define HDR_CMD_LINE_PTR 0x228  /* u32 */
#define HDR_INITRD_ADDR_MAX 0x22c /* u32: highest address the initrd may end at */
#define HDR_KERNEL_ALIGNMENT 0x230 /* u32 */
#define HDR_RELOCATABLE 0x234   /* u8 */
#define HDR_XLOADFLAGS 0x236    /* u16: bit 0 XLF_KERNEL_64 */
#define HDR_CMDLINE_SIZE 0x238  /* u32: longest command line, NUL excluded */
#define HDR_PREF_ADDRESS 0x258  /* u64 */
#define HDR_INIT_SIZE 0x260     /* u32 */
#define HDR_MIN_SIZE 0x264      /* the file must hold the header up to init_size */

#define BP_E820_ENTRIES 0x1e8   /* u8 */
#define BP_E820_TABLE 0x2d0     /* 20-byte entries: u64 address, u64 size, u32 type */
#define E820_MAX 128
#define E820_RAM 1
#define E820_RESERVED 2

#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define MIN_VERSION 0x020c      /* 2.12: the first with xloadflags and the 64-bit entry */

/* Guest-physical layout of what the loader itself writes (all in low RAM,
 * which Linux keeps reserved: it never reuses the first 1 MiB). */
#define GDT_GPA 0x1000
#define PML4_GPA 0x2000
#define PDPT_GPA 0x3000
#define PD_GPA 0x4000           /* four page directories: 4 GiB in 2 MiB pages */
#define STACK_TOP_GPA 0x9000
#define BOOT_PARAMS_GPA 0x10000
#define CMDLINE_GPA 0x11000
#define TOP_KEEP (64u << 10)    /* the initrd ends this far below the top (the hypervisor's pages) */
#define BOOT_CS 0x10
#define BOOT_DS 0x18

static uint8_t byte_at(const void *image, size_t off) { return ((const uint8_t *)image)[off]; }
static uint16_t u16_at(const void *image, size_t off) { uint16_t v; memcpy(&v, (const uint8_t *)image + off, 2); return v; }
static uint32_t u32_at(const void *image, size_t off) { uint32_t v; memcpy(&v, (const uint8_t *)image + off, 4); return v; }
static uint64_t u64_at(const void *image, size_t off) { uint64_t v; memcpy(&v, (const uint8_t *)image + off, 8); return v; }

bool linux_is_bzimage(const void *image, size_t size)
{
	return size >= HDR_MAGIC + 4 && memcmp((const uint8_t *)image + HDR_MAGIC, "HdrS", 4) == 0;
}

/* arm64 and RISC-V "Image" files carry a magic at 0x38 (their booting.rst). */
const char *linux_foreign_kernel(const void *image, size_t size)
{
	if (size < 0x40)
		return NULL;
	if (memcmp((const uint8_t *)image + 0x38, "ARM\x64", 4) == 0)
		return "arm64";
	if (memcmp((const uint8_t *)image + 0x38, "RSC\x05", 4) == 0)
		return "RISC-V";
	return NULL;
}

bool linux_module_is_initrd(const char *options)
{
	size_t n;
	for (const char *word; (word = next_word(&options, &n));)
		if (n == 6 && strncmp(word, "initrd", 6) == 0)
			return true;
	return false;
}

const char *linux_check(const void *image, size_t size, size_t initrd_size, uint64_t memory_bytes,
			struct linux_boot *boot)
{
	memset(boot, 0, sizeof(*boot));
	if (size < HDR_MIN_SIZE || !linux_is_bzimage(image, size))
		return "not a Linux bzImage (no \"HdrS\" setup header), or cut short before its end";
	if (u16_at(image, HDR_BOOT_FLAG) != 0xaa55)
		return "bzImage: boot_flag is not 0xAA55";
	boot->version = u16_at(image, HDR_VERSION);
	if (boot->version < MIN_VERSION)
		return "bzImage: boot protocol older than 2.12 (no 64-bit entry point)";
	if (!(u16_at(image, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return "bzImage: no 64-bit entry point (XLF_KERNEL_64): a 32-bit x86 kernel?";
	if (!(byte_at(image, HDR_LOADFLAGS) & LOADED_HIGH))
		return "bzImage: a zImage (loaded low), not a bzImage";
	unsigned setup_sects = byte_at(image, HDR_SETUP_SECTS) ? byte_at(image, HDR_SETUP_SECTS) : 4;
	boot->kernel_offset = (setup_sects + 1) * 512ull;
	uint64_t syssize = u32_at(image, HDR_SYSSIZE) * 16ull;
	if (boot->kernel_offset >= size || syssize == 0 || syssize > size - boot->kernel_offset)
		return "bzImage: truncated (the header announces more protected-mode code than the file has)";
	boot->kernel_size = size - boot->kernel_offset;

	uint64_t align = u32_at(image, HDR_KERNEL_ALIGNMENT);
	boot->load_address = u64_at(image, HDR_PREF_ADDRESS);
	boot->init_size = u32_at(image, HDR_INIT_SIZE);
	if (align == 0 || (align & (align - 1)) || boot->load_address % align || boot->load_address < 0x100000 ||
	    boot->init_size < boot->kernel_size)
		return "bzImage: nonsense in the setup header (alignment, preferred address or init_size)";
	if (boot->load_address > memory_bytes || boot->init_size > memory_bytes - boot->load_address)
		return "the kernel needs more memory than mem= gives (pref_address + init_size)";
	boot->entry = boot->load_address + 0x200;

	if (initrd_size) {
		/* As high as allowed: below initrd_addr_max, below the top pages. */
		uint64_t top = MIN(memory_bytes - TOP_KEEP, (uint64_t)u32_at(image, HDR_INITRD_ADDR_MAX) + 1);
		uint64_t kernel_end = boot->load_address + boot->init_size;
		if (initrd_size > top || ALIGN_DOWN(top - initrd_size, PAGE_SIZE) < kernel_end)
			return "the initrd does not fit in mem= above the kernel (or below initrd_addr_max)";
		boot->initrd_address = ALIGN_DOWN(top - initrd_size, PAGE_SIZE);
		boot->initrd_size = initrd_size;
	}
	return NULL;
}

/* The PC memory map a BIOS would report: low RAM up to the EBDA, the BIOS
 * area reserved, then RAM from 1 MiB to the end. The VGA/ROM hole
 * (0xa0000-0xeffff) is simply not RAM. */
static unsigned build_e820(const struct domain *d, uint8_t *boot_params)
{
	const struct {
		uint64_t address, size;
		uint32_t type;
	} map[] = {
		{0, 0x9fc00, E820_RAM},
		{0x9fc00, 0x400, E820_RESERVED},
		{0xf0000, 0x10000, E820_RESERVED},
		{0x100000, d->memory_bytes - 0x100000, E820_RAM},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
		uint8_t *e = boot_params + BP_E820_TABLE + 20 * i;
		memcpy(e, &map[i].address, 8);
		memcpy(e + 8, &map[i].size, 8);
		memcpy(e + 16, &map[i].type, 4);
	}
	boot_params[BP_E820_ENTRIES] = ARRAY_SIZE(map);
	return ARRAY_SIZE(map);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* True if @p line has the word @p key (e.g. "tsc_early_khz=") at a word's start. */
static bool has_option(const char *line, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = line; *p; p++)
		if ((p == line || p[-1] == ' ') && strncmp(p, key, n) == 0)
			return true;
	return false;
}

/* The TSC's frequency, which Linux cannot measure here (each PIT read it
 * calibrates against is an exit: docs/linux.md), given on its command line
 * as `tsc_early_khz=` (Linux's kernel-parameters.txt) — the hypervisor
 * knows it, as the platform clock measured it (pit.c). With it Linux trusts
 * its TSC, uses the TSC-deadline mode of its local APIC timer (lapic.c) and
 * needs no calibration against PIT ticks that a loaded host delays. */
void linux_command_line(char *out, size_t size, const char *cmdline)
{
	if (has_option(cmdline, "tsc_early_khz="))
		ksnprintf(out, size, "%s", cmdline);
	else
		ksnprintf(out, size, "%s%stsc_early_khz=%lu", cmdline, *cmdline ? " " : "", vpit_tsc_hz() / 1000);
}

/* Identity page tables for the first 4 GiB (2 MiB pages) and the boot GDT. */
static bool write_boot_tables(struct domain *d)
{
	const uint64_t gdt[4] = {
		0, 0,
		0x00af9a000000ffffull, /* 0x10: code, DPL 0, present, L = 1 (64-bit), G */
		0x00cf92000000ffffull, /* 0x18: data, writable, present, D/B, G, 4 GiB */
	};
	if (!domain_write(d, GDT_GPA, gdt, sizeof(gdt)))
		return false;
	uint64_t entry = PDPT_GPA | PTE_PRESENT | PTE_WRITE;
	if (!domain_write(d, PML4_GPA, &entry, 8))
		return false;
	for (uint64_t i = 0; i < 4; i++) {
		entry = (PD_GPA + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITE;
		if (!domain_write(d, PDPT_GPA + 8 * i, &entry, 8))
			return false;
	}
	static uint64_t pd[512];
	for (uint64_t i = 0; i < 4; i++) {
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((i * 512 + j) << 21) | PTE_PRESENT | PTE_WRITE | PTE_LARGE;
		if (!domain_write(d, PD_GPA + i * PAGE_SIZE, pd, sizeof(pd)))
			return false;
	}
	return true;
}

bool linux_load(struct domain *d, const void *image, const void *initrd, const char *cmdline,
		const struct linux_boot *boot)
{
	static uint8_t boot_params[PAGE_SIZE];
	memset(boot_params, 0, sizeof(boot_params));
	/* The setup header, copied as the file has it: from 0x1f1 to its end,
	 * 0x202 + the jump's offset byte (boot.rst, "The real-mode kernel header"). */
	size_t header_end = HDR_JUMP + 2 + byte_at(image, HDR_JUMP + 1);
	header_end = MIN(header_end, (size_t)boot->kernel_offset);
	memcpy(boot_params + HDR_SETUP_SECTS, (const uint8_t *)image + HDR_SETUP_SECTS,
	       MIN(header_end, sizeof(boot_params)) - HDR_SETUP_SECTS);
	boot_params[HDR_TYPE_OF_LOADER] = 0xff;
	put32(boot_params + HDR_CMD_LINE_PTR, CMDLINE_GPA);
	put32(boot_params + HDR_RAMDISK_IMAGE, (uint32_t)boot->initrd_address);
	put32(boot_params + HDR_RAMDISK_SIZE, (uint32_t)boot->initrd_size);
	build_e820(d, boot_params);

	/* The command line, with the TSC's rate added, cut to what the kernel accepts. */
	static char line[2048];
	linux_command_line(line, sizeof(line), cmdline);
	cmdline = line;
	size_t max = u32_at(image, HDR_CMDLINE_SIZE);
	size_t length = MIN(strlen(cmdline), max ? max : 255);
	char zero = 0;
	return write_boot_tables(d) && mptable_write(d) && domain_write(d, BOOT_PARAMS_GPA, boot_params, sizeof(boot_params)) &&
	       domain_write(d, CMDLINE_GPA, cmdline, length) && domain_write(d, CMDLINE_GPA + length, &zero, 1) &&
	       domain_write(d, boot->load_address, (const uint8_t *)image + boot->kernel_offset, boot->kernel_size) &&
	       (!boot->initrd_size || domain_write(d, boot->initrd_address, initrd, boot->initrd_size));
}

void linux_enter(struct vcpu *v, const struct linux_boot *boot)
{
	/* Long mode as the vCPU starts (CR0.PG, CR4.PAE, EFER.LME/LMA), on the
	 * loader's identity tables, in __BOOT_CS with the data selectors. */
	v->cr3 = PML4_GPA;
	v->regs = (struct vcpu_regs){
		.rip = boot->entry,
		.rsi = BOOT_PARAMS_GPA,
		.rsp = STACK_TOP_GPA,
		.rflags = 0x2, /* IF = 0 */
	};
	(v->ops == &vmx_vcpu_ops ? vmx_enter_long_mode : svm_enter_long_mode)(v, boot->entry, BOOT_CS, BOOT_DS,
										  GDT_GPA, 4 * 8 - 1);
}
