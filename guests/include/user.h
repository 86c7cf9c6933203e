/**
 * @file user.h
 * @brief User mode for test guests (guests/lib/user.c): run code at CPL 3 and come back.
 *
 * The smallest kernel/user split a test needs, the same in every build:
 * natively the CPU really drops to CPL 3; under Hypatia (lab 2) the guest
 * already runs at CPL 3 and the hypervisor tracks its *virtual* CPL — its
 * IRETQ to an RPL-3 selector traps and is emulated, and events from user
 * mode are delivered with the stack switch to the TSS's RSP0.
 *
 * user_init() extends the runtime's GDT with user segments (data 0x18,
 * 64-bit code 0x20: selectors #USER_SS and #USER_CS) and a TSS (0x28), and
 * loads TR. user_run() enters user mode at a given RIP and RSP; the code
 * there comes back only through an exception or an interrupt — a system
 * call is `int $N` through a gate opened with user_open_gate() — whose
 * handler (in the kernel, on the TSS's RSP0 stack) either returns to user
 * mode (an IRETQ with the frame) or ends the user program with
 * user_return(), which makes user_run() return. One user_run() at a time.
 */
#ifndef GUEST_USER_H
#define GUEST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "guest.h"

/** User-mode code selector (GDT entry 4, RPL 3). */
#define USER_CS 0x23
/** User-mode stack selector (GDT entry 3, RPL 3). */
#define USER_SS 0x1b
/** The TSS selector user_init() loads into TR. */
#define USER_TSS_SELECTOR 0x28
/** RFLAGS user code starts with: IF = 1, IOPL 0 (so CLI, HLT and port I/O fault). */
#define USER_RFLAGS 0x202

/** Extend the GDT with the user segments and the TSS, and load TR (LTR). Once. */
void user_init(void);
/** Let `int $vector` from user mode reach its handler (the gate's DPL becomes 3). */
void user_open_gate(unsigned vector);
/**
 * Run at CPL 3 from @p rip with RSP = @p rsp, RDI = @p arg and every other
 * general register 0, until a handler calls user_return(); returns its value.
 * The interrupt flag is restored as it was.
 */
uint64_t user_run(uint64_t rip, uint64_t rsp, uint64_t arg);
/** From a handler that interrupted user mode: abandon it; user_run() returns @p value. */
GUEST_NORETURN void user_return(uint64_t value);
/** The frame was pushed by an event in user mode (its CS has RPL 3). */
static inline bool user_frame(const struct guest_frame *frame)
{
	return (frame->cs & 3) == 3;
}

#endif
