/**
 * @file hypercall.h
 * @brief The guest's side of Hypatia's hypercall ABI (docs/hypercalls.md).
 *
 * A paravirtualized guest calls the hypervisor on purpose with `int $0x82`:
 * number in RAX, arguments in RDI, RSI, RDX, R10, R8, the result in RAX,
 * every other register preserved (Xen's x86-64 convention). Only the `pv`
 * build's platform layer and tests that check `guest_platform()` is "pv"
 * may use these: natively, vector 0x82 is just an unexpected interrupt.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stdint.h>

/** @name Hypercall numbers (docs/hypercalls.md, one table)
 * @{ */
#define HYPERCALL_CONSOLE_WRITE 0 /**< (buffer, length) -> bytes written */
#define HYPERCALL_YIELD 1         /**< () -> 0 */
#define HYPERCALL_SET_TIMER 2     /**< (period in us, vector) -> 0 */
#define HYPERCALL_SHUTDOWN 3      /**< (exit code) -> does not return */
#define HYPERCALL_SHARED_INFO 4   /**< (page-aligned guest address) -> 0 */
#define HYPERCALL_EVENT_CHECK 5   /**< () -> 0, delivers a pending interrupt */
/** @} */

/** @name Error results (negated Linux errno values)
 * @{ */
#define HYPERCALL_EFAULT 14 /**< a pointer outside the guest's memory */
#define HYPERCALL_EINVAL 22 /**< a bad argument */
#define HYPERCALL_ENOSYS 38 /**< no such hypercall */
/** @} */

/** The shared-info page (docs/hypercalls.md): the virtual interrupt flag
 * without a trap, Xen's evtchn_upcall_mask / evtchn_upcall_pending. */
struct guest_shared_info {
	uint8_t irq_mask;    /**< guest writes: 1 = virtual interrupts masked (IF = 0) */
	uint8_t irq_pending; /**< hypervisor writes: 1 = an interrupt waits */
	uint8_t reserved[6];
	uint64_t ticks;      /**< hypervisor writes: virtual timer interrupts raised so far */
};

/** Make hypercall @p number with up to five arguments; returns RAX. */
static inline int64_t hypercall5(uint64_t number, uint64_t a1, uint64_t a2, uint64_t a3,
				 uint64_t a4, uint64_t a5)
{
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	uint64_t result = number;
	/* "memory": the hypervisor reads buffers and may deliver an interrupt
	 * whose handler changes guest memory before this returns. */
	__asm__ volatile("int $0x82"
			 : "+a"(result)
			 : "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
			 : "memory");
	return (int64_t)result;
}

static inline int64_t hypercall0(uint64_t number) { return hypercall5(number, 0, 0, 0, 0, 0); }
static inline int64_t hypercall1(uint64_t number, uint64_t a1) { return hypercall5(number, a1, 0, 0, 0, 0); }
static inline int64_t hypercall2(uint64_t number, uint64_t a1, uint64_t a2)
{
	return hypercall5(number, a1, a2, 0, 0, 0);
}

#endif
