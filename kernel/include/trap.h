/**
 * @file trap.h
 * @brief Interrupt and exception entry: the saved register frame and the IDT.
 */
#ifndef HYPATIA_TRAP_H
#define HYPATIA_TRAP_H

#include "types.h"

/** @name Exception vectors (Intel SDM Vol. 3A Table 6-1, AMD APM Vol. 2 §8.2)
 *  @{ */
#define VEC_DE 0   /**< divide error */
#define VEC_DB 1   /**< debug */
#define VEC_NMI 2  /**< non-maskable interrupt */
#define VEC_BP 3   /**< breakpoint (INT3) */
#define VEC_UD 6   /**< invalid opcode */
#define VEC_NM 7   /**< device not available */
#define VEC_DF 8   /**< double fault */
#define VEC_TS 10  /**< invalid TSS */
#define VEC_NP 11  /**< segment not present */
#define VEC_SS 12  /**< stack-segment fault */
#define VEC_GP 13  /**< general protection */
#define VEC_PF 14  /**< page fault */
#define VEC_MF 16  /**< x87 floating-point error */
#define VEC_AC 17  /**< alignment check */
#define VEC_MC 18  /**< machine check */
#define VEC_XM 19  /**< SIMD floating-point */
/** @} */

/** First vector the remapped 8259 PIC delivers IRQ 0 on (vectors 0-31 are exceptions). */
#define VEC_IRQ_BASE 32
/** Vector of the timer interrupt (IRQ 0). */
#define VEC_TIMER (VEC_IRQ_BASE + 0)

/** @name Page-fault error-code bits (SDM Vol. 3A §4.7)
 *  @{ */
#define PF_PRESENT (1u << 0) /**< 0: page not present; 1: protection violation */
#define PF_WRITE (1u << 1)   /**< the access was a write */
#define PF_USER (1u << 2)    /**< the access came from CPL 3 */
#define PF_RSVD (1u << 3)    /**< a reserved bit was set in a paging entry */
#define PF_FETCH (1u << 4)   /**< the access was an instruction fetch */
/** @} */

/**
 * Registers saved on every interrupt or exception, lowest address first.
 * The entry stubs (trap_entry.S) push the general-purpose registers below what
 * the CPU pushed (SDM Vol. 3A §6.14.2: SS, RSP, RFLAGS, CS, RIP, error code).
 */
struct trap_frame {
	uint64_t r15; /**< saved by the entry stub */
	uint64_t r14; /**< saved by the entry stub */
	uint64_t r13; /**< saved by the entry stub */
	uint64_t r12; /**< saved by the entry stub */
	uint64_t r11; /**< saved by the entry stub */
	uint64_t r10; /**< saved by the entry stub */
	uint64_t r9; /**< saved by the entry stub */
	uint64_t r8; /**< saved by the entry stub */
	uint64_t rbp; /**< saved by the entry stub */
	uint64_t rdi; /**< saved by the entry stub */
	uint64_t rsi; /**< saved by the entry stub */
	uint64_t rdx; /**< saved by the entry stub */
	uint64_t rcx; /**< saved by the entry stub */
	uint64_t rbx; /**< saved by the entry stub */
	uint64_t rax; /**< saved by the entry stub */
	uint64_t vector; /**< pushed by the stub: which IDT entry fired */
	uint64_t error;  /**< pushed by the CPU, or 0 by the stub for vectors without one */
	uint64_t rip;    /**< pushed by the CPU: where the interrupted code was */
	uint64_t cs;     /**< pushed by the CPU */
	uint64_t rflags; /**< pushed by the CPU */
	uint64_t rsp;    /**< pushed by the CPU (always, in 64-bit mode) */
	uint64_t ss;     /**< pushed by the CPU (always, in 64-bit mode) */
};

/** Handler for one vector, called with interrupts disabled. */
typedef void (*trap_handler_t)(struct trap_frame *frame);

/** Build and load the IDT; every vector starts with the default (panicking) handler. */
void idt_init(void);
/** Route @p vector to @p handler instead of the default. */
void trap_set_handler(unsigned vector, trap_handler_t handler);
/** C entry point called by the assembly stubs for every vector. */
void trap_dispatch(struct trap_frame *frame);
/** Print the register dump the default handler shows before it panics. */
void trap_dump(const struct trap_frame *frame);
/** Short name of an exception vector ("\#PF"), or "IRQ"/"INT" for others. */
const char *trap_vector_name(unsigned vector);

#endif
