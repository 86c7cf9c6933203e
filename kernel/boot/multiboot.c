/*
 * multiboot.c — reading what the boot loader tells us (Multiboot spec §3.3).
 */
#include "console.h"
#include "linux_boot.h"
#include "memlayout.h"
#include "multiboot.h"
#include "string.h"

const struct multiboot_info *boot_info;

static const char *memory_type_name(uint32_t type)
{
	switch (type) {
	case 1: return "usable";
	case 2: return "reserved";
	case 3: return "ACPI reclaimable";
	case 4: return "ACPI NVS";
	case 5: return "bad RAM";
	}
	return "unknown";
}

void multiboot_print_memory_map(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MULTIBOOT_INFO_MMAP)) {
		kprintf("memory map: none given by the boot loader\n");
		return;
	}
	kprintf("memory map:\n");
	uint64_t map = mbi->mmap_addr, end = map + mbi->mmap_length;
	while (map < end) {
		const struct multiboot_mmap_entry *e = phys_to_virt(map);
		kprintf("  [%016lx-%016lx] %8lu KiB %s\n", e->addr, e->addr + e->len - 1, e->len / 1024,
			memory_type_name(e->type));
		map += e->size + sizeof(e->size);
	}
}

const char *multiboot_cmdline(const struct multiboot_info *mbi)
{
	if ((mbi->flags & MULTIBOOT_INFO_CMDLINE) && mbi->cmdline)
		return phys_to_virt(mbi->cmdline);
	return "";
}

/* The ELF identification a guest image must have (System V ABI, ELF header
 * e_ident): magic, 64-bit class (2), little-endian data (1), and an x86-64
 * machine (62) at offset 18. */
static const char *elf_image_problem(const uint8_t *image, size_t size)
{
	if (size < 64)
		return "too small to be an ELF file";
	if (memcmp(image, "\x7f" "ELF", 4) != 0)
		return "not an ELF file (bad magic)";
	if (image[4] == 1 && image[18] == 3)
		return NULL; /* ELF32 i386: a native multiboot kernel, for mode=nested */
	if (image[4] != 2)
		return "an ELF file, but neither ELF64 x86-64 nor ELF32 i386";
	if (image[5] != 1)
		return "an ELF file, but not little-endian";
	uint16_t machine = (uint16_t)(image[18] | image[19] << 8);
	if (machine != 62)
		return "an ELF64 file, but not for x86-64";
	return NULL;
}

void multiboot_print_modules(const struct multiboot_info *mbi)
{
	if (!(mbi->flags & MULTIBOOT_INFO_MODS) || mbi->mods_count == 0) {
		kprintf("modules: none\n");
		return;
	}
	const struct multiboot_module *mods = phys_to_virt(mbi->mods_addr);
	kprintf("modules: %u\n", mbi->mods_count);
	for (uint32_t i = 0; i < mbi->mods_count; i++) {
		const char *args = mods[i].string ? (const char *)phys_to_virt(mods[i].string) : "";
		size_t size = mods[i].mod_end - mods[i].mod_start;
		const uint8_t *head = phys_to_virt(mods[i].mod_start);
		/* Linux comes as a bzImage (dom/linux_boot.c) and its initrd as the next module. */
		bool bzimage = linux_is_bzimage(head, size), initrd = linux_module_is_initrd(args);
		const char *problem = bzimage || initrd ? NULL : elf_image_problem(head, size);
		const char *kind = bzimage       ? "Linux bzImage (runs with type=hvm)"
				   : initrd      ? "initrd of the module before"
				   : size > 4 && head[4] == 1 ? "ELF32 i386 kernel (runs with mode=nested)"
							      : "ELF64 x86-64 image";
		kprintf("  module %u: [%08x-%08x] %lu bytes \"%s\": %s\n", i, mods[i].mod_start, mods[i].mod_end,
			size, args, problem ? problem : kind);
		if (problem)
			kprintf("[hv] warning: module %u (\"%s\") is %s; it cannot be a guest image\n", i, args,
				problem);
	}
}
