/*
 * start.c — the native shim's C entry: from multiboot.S to guest_main().
 *
 * We arrive in 64-bit mode at CPL 0 with the first 1 GiB identity-mapped,
 * interrupts off, and the multiboot loader's EAX and EBX as arguments.
 */
#include "guest.h"
#include "hypatia_note.h"
#include "native.h"
#include "platform.h"

/* Multiboot Specification 0.6.96 §3.2: EAX from a multiboot loader. */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
/* §3.3: bit 2 of flags says the cmdline field is valid. */
#define MULTIBOOT_INFO_CMDLINE (1u << 2)

/* The start of the boot information (§3.3 "Boot information format"): only
 * the fields up to cmdline matter here. All addresses are physical, and so
 * usable as they are under our identity map. */
struct multiboot_info {
	uint32_t flags;       /* which fields below are valid */
	uint32_t mem_lower;   /* KiB below 1 MiB (flags bit 0) */
	uint32_t mem_upper;   /* KiB from 1 MiB to the first hole (flags bit 0) */
	uint32_t boot_device; /* (flags bit 1) */
	uint32_t cmdline;     /* NUL-terminated command line (flags bit 2) */
};

/* Everything below 1 GiB is mapped (multiboot.S); refuse pointers beyond. */
#define IDENTITY_MAPPED_END 0x40000000ull

/*
 * The command line without the kernel's file name: QEMU's -kernel and GRUB
 * both put the file name first ("build/guests/native/hello.elf32 nonce=42"),
 * which a guest image's command line does not have. So a first word without
 * '=' is dropped, and both builds see the same "nonce=42".
 */
static const char *multiboot_cmdline(const struct multiboot_info *info)
{
	if (!(info->flags & MULTIBOOT_INFO_CMDLINE) || info->cmdline == 0 ||
	    info->cmdline >= IDENTITY_MAPPED_END - HYPATIA_CMDLINE_MAX)
		return "";
	const char *line = (const char *)(uintptr_t)info->cmdline;
	const char *p = line;
	while (*p == ' ')
		p++;
	const char *word = p;
	while (*p && *p != ' ' && *p != '=')
		p++;
	if (*p == '=')
		return word;
	while (*p == ' ')
		p++;
	return p;
}

GUEST_NORETURN void native_start(uint32_t magic, uint32_t info_address);

GUEST_NORETURN void native_start(uint32_t magic, uint32_t info_address)
{
	platform_init();
	/* The runtime's GDT and IDT (guests/lib/arch.c), early, so that even
	 * a fault while checking the multiboot information is reported. */
	arch_init();

	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		guest_error("not started by a multiboot loader (EAX=0x%x, expected 0x%x)",
			    magic, MULTIBOOT_BOOTLOADER_MAGIC);
	if (info_address == 0 ||
	    info_address >= IDENTITY_MAPPED_END - sizeof(struct multiboot_info))
		guest_error("bad multiboot information address 0x%x", info_address);
	const struct multiboot_info *info =
		(const struct multiboot_info *)(uintptr_t)info_address;
	/*
	 * The multiboot loader may have put its information anywhere that
	 * is not our image — GRUB and QEMU use low memory or the space just
	 * after the image — so it is copied out (by guest_start) before the
	 * test runs and can scribble on memory.
	 */
	guest_start(multiboot_cmdline(info));
}
