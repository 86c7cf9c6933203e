/**
 * @file memlayout.h
 * @brief Where things live in the hypervisor's virtual address space.
 *
 * ```
 * 0x0000000000000000 - 0x00007fffffffffff   lower half: belongs to the running PV guest (lab 1+)
 * 0xffff800000000000 - +4 GiB               direct map of physical memory (phys + DIRECT_MAP_BASE)
 * 0xffffffff80000000 - +1 GiB               the hypervisor image (linked at KERNEL_BASE + 1 MiB)
 * ```
 * Like Xen and Linux, the hypervisor keeps the whole upper half for itself, so
 * a guest in the lower half can never see it: every upper-half page has U=0.
 */
#ifndef HYPATIA_MEMLAYOUT_H
#define HYPATIA_MEMLAYOUT_H

/** Base of the direct map: physical address p is visible at p + DIRECT_MAP_BASE. */
#define DIRECT_MAP_BASE 0xffff800000000000
/** How much physical memory the boot page tables map in the direct map. */
#define DIRECT_MAP_SIZE 0x100000000
/** Virtual address the hypervisor image is linked against (physical 0 maps here). */
#define KERNEL_BASE 0xffffffff80000000
/** Physical address where the boot loader places the image. */
#define KERNEL_LOAD_PHYS 0x100000
/** Size of a page and a frame. */
#define PAGE_SIZE 4096
/** log2(PAGE_SIZE). */
#define PAGE_SHIFT 12
/** Size of each hypervisor stack (boot and per-CPU). */
#define KERNEL_STACK_SIZE (16 * 1024)

#ifndef __ASSEMBLER__
#include "types.h"
/** Hypervisor-virtual address of physical address @p pa (through the direct map). */
static inline void *phys_to_virt(paddr_t pa) { return (void *)(pa + DIRECT_MAP_BASE); }
/** Physical address of a direct-map or image address. */
static inline paddr_t virt_to_phys(const void *va)
{
	vaddr_t v = (vaddr_t)va;
	return v >= KERNEL_BASE ? v - KERNEL_BASE : v - DIRECT_MAP_BASE;
}
#endif

#endif
