/**
 * @file gdt.h
 * @brief The hypervisor's GDT and TSS.
 *
 * In long mode segmentation is mostly gone, but the CPU still needs code and
 * data descriptors for each privilege level and a TSS that says which stack to
 * switch to when an interrupt arrives from CPL 3 (RSP0) or through an IST slot
 * (SDM Vol. 3A §7.7, AMD APM Vol. 2 §12.2.5).
 */
#ifndef HYPATIA_GDT_H
#define HYPATIA_GDT_H

/** @name Segment selectors (index * 8 | RPL)
 *  @{ */
#define GDT_KERNEL_CS 0x08 /**< 64-bit code, DPL 0 */
#define GDT_KERNEL_DS 0x10 /**< data, DPL 0 */
#define GDT_USER_CS32 0x1b /**< 32-bit code, DPL 3 (kept for SYSRET's layout) */
#define GDT_USER_DS 0x23   /**< data, DPL 3 */
#define GDT_USER_CS 0x2b   /**< 64-bit code, DPL 3 */
#define GDT_TSS 0x30       /**< the TSS (a 16-byte system descriptor) */
/** @} */

/** IST slot used for double faults, so a kernel stack overflow still gets a dump. */
#define IST_DOUBLE_FAULT 1

#ifndef __ASSEMBLER__
#include "types.h"

/** The 64-bit TSS (SDM Vol. 3A Figure 8-11). */
struct tss {
	uint32_t reserved0; /**< reserved */
	uint64_t rsp[3];    /**< stack for entry from CPL 0-2 (RSP0 is used from CPL 3) */
	uint64_t reserved1; /**< reserved */
	uint64_t ist[7];    /**< interrupt stack table: IST1..IST7 */
	uint64_t reserved2; /**< reserved */
	uint16_t reserved3; /**< reserved */
	uint16_t iopb_offset; /**< offset of the I/O permission bitmap; past the limit = none */
} PACKED;

struct percpu;
/** Build this CPU's GDT and TSS in @p cpu and load them (LGDT, LTR). */
void gdt_init(struct percpu *cpu);
#endif

#endif
