/*
 * trap.c — dispatching interrupts and exceptions, and the register dump.
 *
 * Every vector arrives in trap_dispatch(). A vector with a registered handler
 * (the timer, later the guest-facing ones) goes there; anything else is an
 * exception the hypervisor did not expect from itself, so it prints a dump a
 * student can read (which exception, the error code decoded, where, and the
 * registers) and panics.
 */
#include "console.h"
#include "ksyms.h"
#include "panic.h"
#include "pv.h"
#include "trap.h"
#include "x86.h"

static trap_handler_t handlers[256];

void trap_set_handler(unsigned vector, trap_handler_t handler)
{
	ASSERT(vector < ARRAY_SIZE(handlers));
	handlers[vector] = handler;
}

static const char *const exception_names[32] = {
	[0] = "#DE divide error",
	[1] = "#DB debug",
	[2] = "NMI",
	[3] = "#BP breakpoint",
	[4] = "#OF overflow",
	[5] = "#BR bound range",
	[6] = "#UD invalid opcode",
	[7] = "#NM device not available",
	[8] = "#DF double fault",
	[10] = "#TS invalid TSS",
	[11] = "#NP segment not present",
	[12] = "#SS stack fault",
	[13] = "#GP general protection",
	[14] = "#PF page fault",
	[16] = "#MF x87 error",
	[17] = "#AC alignment check",
	[18] = "#MC machine check",
	[19] = "#XM SIMD error",
	[20] = "#VE virtualization",
	[21] = "#CP control protection",
	[29] = "#VC VMM communication",
	[30] = "#SX security",
};

const char *trap_vector_name(unsigned vector)
{
	if (vector < 32)
		return exception_names[vector] ? exception_names[vector] : "reserved exception";
	return vector < VEC_IRQ_BASE + 16 ? "IRQ" : "interrupt";
}

/* Spell out a page-fault error code (SDM Vol. 3A §4.7, Figure 4-12). */
static void print_page_fault_error(uint64_t error)
{
	kprintf(" (%s %s %s%s%s)", error & PF_PRESENT ? "protection-violation" : "not-present",
		error & PF_FETCH ? "fetch" : error & PF_WRITE ? "write" : "read",
		error & PF_USER ? "user" : "supervisor", error & PF_RSVD ? " reserved-bit" : "", "");
}

void trap_dump(const struct trap_frame *f)
{
	char where[96];
	ksym_format(f->rip, where, sizeof(where));
	kprintf("\n[hv] EXCEPTION: vector %lu %s, error code 0x%lx", f->vector, trap_vector_name(f->vector), f->error);
	if (f->vector == VEC_PF)
		print_page_fault_error(f->error);
	kprintf("\n");
	kprintf("  rip %016lx <%s>  cs %04lx  rflags %016lx\n", f->rip, where, f->cs, f->rflags);
	if (f->vector == VEC_PF)
		kprintf("  cr2 %016lx (the address that faulted)\n", read_cr2());
	kprintf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  rsi %016lx  rdi %016lx  rbp %016lx  rsp %016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
	kprintf("  r8  %016lx  r9  %016lx  r10 %016lx  r11 %016lx\n", f->r8, f->r9, f->r10, f->r11);
	kprintf("  r12 %016lx  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r12, f->r13, f->r14, f->r15);
	kprintf("  cr0 %016lx  cr3 %016lx  cr4 %016lx  ss %04lx\n", read_cr0(), read_cr3(), read_cr4(), f->ss);
}

void trap_dispatch(struct trap_frame *frame)
{
	/* From CPL 3: a PV guest was running. Its traps are exits, not our bugs. */
	if ((frame->cs & 3) == 3)
		pv_trap_from_guest(frame, handlers[frame->vector]);

	trap_handler_t handler = frame->vector < ARRAY_SIZE(handlers) ? handlers[frame->vector] : NULL;
	if (handler) {
		handler(frame);
		return;
	}
	trap_dump(frame);
	panic("unhandled %s in the hypervisor", trap_vector_name((unsigned)frame->vector));
}
