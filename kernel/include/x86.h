/**
 * @file x86.h
 * @brief Thin wrappers around single x86 instructions: port I/O, MSRs, CPUID,
 *        control registers, interrupts.
 *
 * Each wrapper is one instruction so that a reader stepping through the
 * hypervisor in GDB sees exactly what the hardware is asked to do.
 */
#ifndef HYPATIA_X86_H
#define HYPATIA_X86_H

#include "types.h"

/** @name Control-register bits (Intel SDM Vol. 3A §2.5, AMD APM Vol. 2 §3.1)
 *  @{ */
#define CR0_PE (1ul << 0)  /**< protected mode enable */
#define CR0_WP (1ul << 16) /**< supervisor writes honour read-only pages */
#define CR0_PG (1ul << 31) /**< paging enable */
#define CR4_PAE (1ul << 5) /**< physical address extension (needed for long mode) */
#define CR4_PGE (1ul << 7) /**< global pages survive CR3 reloads */
#define CR4_OSFXSR (1ul << 9) /**< FXSAVE/FXRSTOR and SSE instructions allowed */
#define CR4_OSXMMEXCPT (1ul << 10) /**< SIMD exceptions as \#XM, not \#UD */
#define CR4_UMIP (1ul << 11) /**< SGDT/SIDT/SLDT/SMSW/STR fault at CPL > 0 */
#define CR4_OSXSAVE (1ul << 18) /**< XSAVE, XRSTOR, XGETBV, XSETBV allowed; XCR0 in use */
/** @} */

/** @name Model-specific registers used by the hypervisor
 *  @{ */
#define MSR_EFER 0xc0000080u          /**< extended feature enable (LME, NXE, SVME) */
#define MSR_FS_BASE 0xc0000100u       /**< FS segment base */
#define MSR_GS_BASE 0xc0000101u       /**< GS segment base: points at per-CPU data */
#define MSR_KERNEL_GS_BASE 0xc0000102u /**< value SWAPGS exchanges with GS base */
#define MSR_IA32_FEATURE_CONTROL 0x3au /**< VMX lock and enable bits (SDM Vol. 3C §23.7) */
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482u  /**< allowed primary processor controls */
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48bu /**< allowed secondary processor controls */
#define EFER_SCE (1ul << 0)  /**< SYSCALL enable */
#define EFER_LME (1ul << 8)  /**< long mode enable */
#define EFER_NXE (1ul << 11) /**< no-execute bit honoured in page tables */
#define EFER_SVME (1ul << 12) /**< AMD SVM enable (APM Vol. 2 §15.4) */
/** @} */

/** @name RFLAGS bits
 *  @{ */
#define RFLAGS_IF (1ul << 9) /**< maskable interrupts enabled */
/** @} */

/** Write one byte to an I/O port. */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
/** Write a 16-bit word to an I/O port. */
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
/** Write a 32-bit value to an I/O port. */
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
/** Read one byte from an I/O port. */
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
/** Read a 16-bit word from an I/O port. */
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
/** Read a 32-bit value from an I/O port. */
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/** Read a model-specific register (RDMSR; \#GP if it does not exist). */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
/** Write a model-specific register (WRMSR). */
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/** Registers returned by CPUID. */
struct cpuid_regs {
	uint32_t eax; /**< EAX output */
	uint32_t ebx; /**< EBX output */
	uint32_t ecx; /**< ECX output */
	uint32_t edx; /**< EDX output */
};
/** Execute CPUID for @p leaf and @p subleaf. */
static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
	return r;
}

/** Read CR0. */
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
/** Read CR2, the linear address of the last page fault. */
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
/** Read CR3, the physical address of the top-level page table. */
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
/** Load CR3 (flushes non-global TLB entries). */
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
/** Read CR4. */
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
/** Write CR4. */
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
/** Read RFLAGS. */
static inline uint64_t read_rflags(void) { uint64_t v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }
/** Read the frame pointer of the calling function. */
static inline uint64_t read_rbp(void) { uint64_t v; __asm__ volatile("mov %%rbp, %0" : "=r"(v)); return v; }
/** Read the time-stamp counter. Under QEMU -icount it counts instructions. */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
/** True if @p address is canonical: bits 63:47 all equal (SDM Vol. 1 §3.3.7.1). */
static inline bool is_canonical(uint64_t address)
{
	return (uint64_t)((int64_t)(address << 16) >> 16) == address;
}
/** Flush the TLB entry for one virtual address. */
static inline void invlpg(vaddr_t va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
/** Enable maskable interrupts. */
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/** Disable maskable interrupts. */
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
/** Halt until the next interrupt. */
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/** Enable interrupts and halt atomically: the interrupt shadow of STI
 *  guarantees no interrupt slips in between the two instructions. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

#endif
