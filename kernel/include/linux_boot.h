/**
 * @file linux_boot.h
 * @brief Loading an unmodified Linux bzImage into an HVM domain (the x86 boot protocol).
 *
 * Linux's Documentation/arch/x86/boot.rst defines how a boot loader hands
 * over: the "setup header" near the start of the bzImage says where the
 * 64-bit entry is and what the kernel needs; the loader fills a 4 KiB
 * `boot_params` ("zero page") with that header, a memory map (e820), the
 * command line and the initrd's place, and enters at the protected-mode
 * code + 0x200 in 64-bit mode with RSI pointing at `boot_params`.
 */
#ifndef HYPATIA_LINUX_BOOT_H
#define HYPATIA_LINUX_BOOT_H

#include "types.h"

struct domain;
struct vcpu;

/** Where linux_check() decided everything goes (guest-physical addresses). */
struct linux_boot {
	uint64_t kernel_offset;  /**< file offset of the protected-mode kernel */
	uint64_t kernel_size;    /**< its bytes in the file */
	uint64_t load_address;   /**< where it is loaded (the header's pref_address) */
	uint64_t init_size;      /**< memory it needs from there while it decompresses itself */
	uint64_t entry;          /**< the 64-bit entry: load_address + 0x200 */
	uint64_t initrd_address; /**< where the initrd goes (0: none) */
	uint64_t initrd_size;    /**< its size */
	uint16_t version;        /**< boot protocol version of the image */
};

/** True if @p image carries a Linux x86 setup header (the "HdrS" magic at 0x202). */
bool linux_is_bzimage(const void *image, size_t size);
/**
 * Name the architecture of a Linux kernel image for another architecture
 * (arm64, RISC-V), or NULL: so that such a file is refused by name.
 */
const char *linux_foreign_kernel(const void *image, size_t size);
/** Linux's command line: @p cmdline, plus `tsc_early_khz=` (the TSC's rate) unless it has one; into @p out. */
void linux_command_line(char *out, size_t size, const char *cmdline);
/** True if a module's options @p options mark it as the previous module's initrd (a bare word `initrd`). */
bool linux_module_is_initrd(const char *options);
/**
 * Check a bzImage of @p size bytes and an initrd of @p initrd_size bytes
 * against @p memory_bytes of guest memory and plan where they go. Returns
 * NULL if they fit, else a sentence saying what is wrong.
 */
const char *linux_check(const void *image, size_t size, size_t initrd_size, uint64_t memory_bytes,
			struct linux_boot *boot);
/**
 * Write the kernel, the initrd, `boot_params` (setup header, e820 map,
 * command line @p cmdline), a GDT and identity page tables into @p d.
 * False if guest memory ran out.
 */
bool linux_load(struct domain *d, const void *image, const void *initrd, const char *cmdline,
		const struct linux_boot *boot);
/** Set the vCPU to the 64-bit boot protocol's entry state. */
void linux_enter(struct vcpu *vcpu, const struct linux_boot *boot);

#endif
