/**
 * @file x86.h
 * @brief Inline wrappers for the x86 instructions guests use directly.
 *
 * The platform layers and the runtime's arch layer use them; test guests
 * that exercise an instruction on purpose (lab 1's privileged and sensitive
 * instructions) use them too. Each wrapper is one instruction (plus register
 * moves), so a trap lands exactly on it. Under Hypatia's deprivileged
 * backend most of these trap and are emulated: that is what lab 1 tests.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdint.h>

/** RFLAGS.IF, the interrupt flag (SDM Vol. 1 §3.4.3.3). */
#define X86_RFLAGS_IF (1ull << 9)
/** CR0.WP: supervisor writes honour read-only pages (SDM Vol. 3A §2.5). */
#define X86_CR0_WP (1ull << 16)

/** The memory operand of LGDT/LIDT/SGDT/SIDT in 64-bit mode: limit, then base. */
struct x86_desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* --- port I/O (SDM Vol. 2B "IN", "OUT") -------------------------------- */

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t value)
{
	__asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;
	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t value;
	__asm__ volatile("inw %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t value;
	__asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

/* --- interrupt flag (SDM Vol. 2A "CLI", Vol. 2B "STI", "PUSHF", "POPF") -- */

static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause"); }

/** STI then HLT: the STI shadow (one instruction) means no interrupt can
 * slip in between and be missed by the HLT. */
static inline void sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

static inline uint64_t read_flags(void)
{
	uint64_t flags;
	__asm__ volatile("pushfq; popq %0" : "=r"(flags) : : "memory");
	return flags;
}

static inline void write_flags(uint64_t flags)
{
	__asm__ volatile("pushq %0; popfq" : : "r"(flags) : "memory", "cc");
}

/* --- control registers (SDM Vol. 2B "MOV—Move to/from Control Registers") */

#define X86_CR_ACCESSORS(n)                                                    \
	static inline uint64_t read_cr##n(void)                                \
	{                                                                      \
		uint64_t value;                                                \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(value));          \
		return value;                                                  \
	}                                                                      \
	static inline void write_cr##n(uint64_t value)                         \
	{                                                                      \
		__asm__ volatile("mov %0, %%cr" #n : : "r"(value) : "memory"); \
	}
X86_CR_ACCESSORS(0)
X86_CR_ACCESSORS(2)
X86_CR_ACCESSORS(3)
X86_CR_ACCESSORS(4)
X86_CR_ACCESSORS(8)
#undef X86_CR_ACCESSORS

/** SMSW to memory: stores CR0 bits 15:0 (SDM Vol. 2B "SMSW"). */
static inline uint16_t smsw(void)
{
	uint16_t value;
	__asm__ volatile("smsw %0" : "=m"(value));
	return value;
}

/* --- descriptor tables (SDM Vol. 2A "LGDT/LIDT", Vol. 2B "SGDT", "SIDT",
 *     "SLDT", "STR", "LLDT") ---------------------------------------------- */

static inline void lgdt(const struct x86_desc_ptr *p) { __asm__ volatile("lgdt %0" : : "m"(*p) : "memory"); }
static inline void lidt(const struct x86_desc_ptr *p) { __asm__ volatile("lidt %0" : : "m"(*p) : "memory"); }
static inline void sgdt(struct x86_desc_ptr *p) { __asm__ volatile("sgdt %0" : "=m"(*p)); }
static inline void sidt(struct x86_desc_ptr *p) { __asm__ volatile("sidt %0" : "=m"(*p)); }
static inline void lldt(uint16_t selector) { __asm__ volatile("lldt %0" : : "r"(selector) : "memory"); }

static inline uint16_t sldt(void)
{
	uint16_t selector;
	__asm__ volatile("sldt %0" : "=m"(selector));
	return selector;
}

static inline uint16_t str(void)
{
	uint16_t selector;
	__asm__ volatile("str %0" : "=m"(selector));
	return selector;
}

static inline uint16_t read_cs(void)
{
	uint16_t selector;
	__asm__ volatile("mov %%cs, %0" : "=r"(selector));
	return selector;
}

/* --- MSRs (SDM Vol. 2B "RDMSR", "WRMSR"; Vol. 4 for the numbers) -------- */

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
}

/* --- the rest ------------------------------------------------------------ */

static inline void swapgs(void) { __asm__ volatile("swapgs" ::: "memory"); }
static inline void invlpg(const void *address) { __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory"); }
static inline void wbinvd(void) { __asm__ volatile("wbinvd" ::: "memory"); }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *eax,
			 uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
	__asm__ volatile("cpuid"
			 : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx)
			 : "a"(leaf), "c"(subleaf));
}

#endif
