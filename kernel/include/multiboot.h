/**
 * @file multiboot.h
 * @brief The Multiboot v1 information structure the boot loader hands us.
 *
 * Layout from the Multiboot Specification 0.6.96, §3.3 "Boot information
 * format". QEMU's `-kernel` loader and GRUB both fill it in. Every address in
 * it is physical.
 */
#ifndef HYPATIA_MULTIBOOT_H
#define HYPATIA_MULTIBOOT_H

#include "types.h"

/** Value the loader leaves in EAX (spec §3.2). */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002

/** @name Bits of multiboot_info.flags: which fields are valid
 *  @{ */
#define MULTIBOOT_INFO_MEMORY (1u << 0)  /**< mem_lower / mem_upper */
#define MULTIBOOT_INFO_CMDLINE (1u << 2) /**< cmdline */
#define MULTIBOOT_INFO_MODS (1u << 3)    /**< mods_count / mods_addr */
#define MULTIBOOT_INFO_MMAP (1u << 6)    /**< mmap_length / mmap_addr */
#define MULTIBOOT_INFO_LOADER_NAME (1u << 9) /**< boot_loader_name */
/** @} */

/** Memory-map entry type for RAM the OS may use. */
#define MULTIBOOT_MEMORY_AVAILABLE 1

/** The boot information block (spec §3.3). */
struct multiboot_info {
	uint32_t flags;        /**< which of the fields below are valid */
	uint32_t mem_lower;    /**< KiB of memory below 1 MiB */
	uint32_t mem_upper;    /**< KiB of memory from 1 MiB to the first hole */
	uint32_t boot_device;  /**< BIOS boot device */
	uint32_t cmdline;      /**< physical address of the NUL-terminated command line */
	uint32_t mods_count;   /**< number of modules */
	uint32_t mods_addr;    /**< physical address of the first struct multiboot_module */
	uint32_t syms[4];      /**< a.out or ELF symbol information (unused) */
	uint32_t mmap_length;  /**< bytes of memory map */
	uint32_t mmap_addr;    /**< physical address of the first struct multiboot_mmap_entry */
	uint32_t drives_length; /**< BIOS drive table length */
	uint32_t drives_addr;  /**< BIOS drive table address */
	uint32_t config_table; /**< ROM configuration table */
	uint32_t boot_loader_name; /**< physical address of the loader's name */
} PACKED;

/** One memory-map entry. @c size does not count itself (spec §3.3). */
struct multiboot_mmap_entry {
	uint32_t size; /**< size of the rest of the entry */
	uint64_t addr; /**< physical start */
	uint64_t len;  /**< length in bytes */
	uint32_t type; /**< 1 = available RAM, others reserved */
} PACKED;

/** One boot module (QEMU: each file of `-initrd a,b`). */
struct multiboot_module {
	uint32_t mod_start; /**< physical start */
	uint32_t mod_end;   /**< physical end (exclusive) */
	uint32_t string;    /**< physical address of the module's command line */
	uint32_t reserved;  /**< must be zero */
} PACKED;

/** The multiboot info the boot code received, as a hypervisor pointer. */
extern const struct multiboot_info *boot_info;

/** Print the memory map, as the banner shows it. */
void multiboot_print_memory_map(const struct multiboot_info *mbi);
/** Print the modules, checking each is an ELF64 guest image. */
void multiboot_print_modules(const struct multiboot_info *mbi);
/** The kernel command line ("" if none was given). */
const char *multiboot_cmdline(const struct multiboot_info *mbi);

#endif
