/*
 * pv.c — the trap-and-emulate backend: guests run deprivileged at CPL 3.
 *
 * The guest's kernel runs in ring 3 of the lower half, on page tables the
 * hypervisor built (paging mode "direct"). Anything privileged it does —
 * port I/O, CLI/STI, HLT, a control-register access — raises #GP (or #UD)
 * because CPL 3 may not do it (Intel SDM Vol. 3A §5.9; port I/O also needs
 * CPL <= IOPL or a TSS I/O-bitmap bit, §19.5). The trap becomes an exit of
 * the common vCPU interface and is emulated in kernel/virt/.
 */
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "mm.h"
#include "paging.h"
#include "panic.h"
#include "percpu.h"
#include "pv.h"
#include "shadow.h"
#include "string.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

/* RFLAGS the guest really runs with: IF=1 so the hypervisor's timer still
 * preempts it, IOPL=0 so every port access traps, bit 1 is always 1. */
#define PV_RFLAGS (RFLAGS_IF | 0x2)
#define RFLAGS_TF (1ull << 8)

struct pv_state {
	uint64_t host_rsp; /* the hypervisor's stack pointer inside pv_enter_guest */
};

void pv_enter_guest(struct vcpu_regs *regs, uint64_t *host_rsp);
NORETURN void pv_return_to_host(uint64_t host_rsp);

static bool pv_setup(struct vcpu *v)
{
	v->backend = kzalloc(sizeof(struct pv_state));
	v->regs.rflags = PV_RFLAGS;
	v->virtual_if = false;
	v->virtual_cpl = 0; /* the guest starts in its kernel */
	v->virtual_cs = PV_GUEST_CS;
	v->virtual_ss = PV_GUEST_SS;
	return v->backend != NULL;
}

static void pv_run(struct vcpu *v)
{
	struct pv_state *pv = v->backend;
	struct percpu *cpu = &boot_cpu;
	/* Our IRETQ into the guest would #GP on a non-canonical RIP or RSP, and
	 * WRMSR on a non-canonical base — at CPL 0, in the hypervisor. An
	 * emulated IRETQ, a bounce through a bad IDT entry or an emulation bug
	 * can produce one: the guest dies, not the hypervisor. */
	const char *problem = !is_canonical(v->regs.rip) || !is_canonical(v->regs.rsp) ? "non-canonical RIP or RSP"
			      : !is_canonical(v->msr.fs_base) || !is_canonical(v->msr.gs_base) ? "non-canonical FS or GS base"
											: NULL;
	if (problem) {
		v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE};
		domain_crash(v->domain, "cannot resume it: %s (RSP 0x%lx)", problem, v->regs.rsp);
		return;
	}
	/* Shadow paging: the root of the mode the guest runs in (the U/S split,
	 * shadow.c). Both roots share the hypervisor's half, so the switch can
	 * happen here, at the last moment. */
	if (v->domain->paging == PAGING_SHADOW) {
		uint64_t root = shadow_root_for(v, v->virtual_cpl == 3);
		if (!root) {
			v->exit = (struct vcpu_exit){.reason = VCPU_EXIT_NONE};
			domain_crash(v->domain, "out of memory for its user-mode shadow root");
			return;
		}
		if ((read_cr3() & PTE_ADDR_MASK) != root)
			write_cr3(root);
	}
	cli(); /* from here until the guest runs, GS base is the guest's */
	cpu->tss.rsp[0] = (uint64_t)cpu->guest_trap_stack + sizeof(cpu->guest_trap_stack);
	cpu->current_vcpu = v;
	v->regs.rflags = (v->regs.rflags & ~0x3000ull) | PV_RFLAGS; /* IOPL 0, IF 1 */
	/* UMIP makes SGDT/SIDT/SLDT/STR/SMSW trap at CPL 3; umip=0 shows why it matters. */
	if (cpu_has_umip())
		write_cr4(v->domain->umip ? read_cr4() | CR4_UMIP : read_cr4() & ~CR4_UMIP);
	/* The guest's FS and GS bases are real while it runs (the hypervisor does
	 * not use FS; GS is restored in pv_trap_from_guest). */
	wrmsr(MSR_FS_BASE, v->msr.fs_base);
	wrmsr(MSR_GS_BASE, v->msr.gs_base);
	/* RFLAGS.TF: a #DB trap after one instruction (SDM Vol. 3A §17.3.1.4). */
	bool stepping = v->step_one;
	if (stepping)
		v->regs.rflags |= RFLAGS_TF;
	pv_enter_guest(&v->regs, &pv->host_rsp);
	cpu->current_vcpu = NULL;
	if (stepping) {
		v->step_one = false;
		v->regs.rflags &= ~RFLAGS_TF;
		if (v->exit.reason == VCPU_EXIT_EXCEPTION && v->exit.vector == VEC_DB)
			v->exit.reason = VCPU_EXIT_NONE; /* our own single step, not the guest's */
	}
}

/* Deliver an exception, escalating as the CPU does when delivery itself
 * fails (SDM Vol. 3A §6.15, "Interrupt 8—Double Fault Exception"): a fault
 * while delivering becomes #DF, and a fault while delivering #DF shuts the
 * (virtual) machine down — here, the domain alone. */
static void pv_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	if (pv_bounce(v, vector, BOUNCE_EXCEPTION, has_error, error) || v->domain->state != DOMAIN_RUNNABLE)
		return;
	if (vector != VEC_DF && pv_bounce(v, VEC_DF, BOUNCE_EXCEPTION, true, 0))
		return;
	domain_crash(v->domain, "triple fault: could not deliver %s (vector %u) through the guest's IDT",
		     trap_vector_name(vector), vector);
}

static void pv_teardown(struct vcpu *v)
{
	kfree(v->backend);
	v->backend = NULL;
}

const struct vcpu_ops pv_vcpu_ops = {
	.name = "pv",
	.setup = pv_setup,
	.run = pv_run,
	.deliver_pending = pv_deliver_pending_interrupt,
	.inject_exception = pv_inject_exception,
	.teardown = pv_teardown,
};

static enum vcpu_exit_reason exit_reason_for(unsigned vector)
{
	switch (vector) {
	case VEC_GP:
	case VEC_UD:
		return VCPU_EXIT_PRIVILEGED;
	case VEC_PF:
		return VCPU_EXIT_PAGE_FAULT;
	case VEC_DF:
		return VCPU_EXIT_SHUTDOWN;
	case PV_HYPERCALL_VECTOR:
		return VCPU_EXIT_HYPERCALL;
	}
	return vector >= VEC_IRQ_BASE ? VCPU_EXIT_INTERRUPT : VCPU_EXIT_EXCEPTION;
}

NORETURN void pv_trap_from_guest(struct trap_frame *f, trap_handler_t handler)
{
	struct percpu *cpu = &boot_cpu;
	struct vcpu *v = cpu->current_vcpu;
	/* The guest may have loaded GS, which replaces the base that points at
	 * our per-CPU data: put it back before anything uses it. */
	wrmsr(MSR_GS_BASE, (uint64_t)cpu);
	if (!v)
		panic("trap from CPL 3 (vector %lu at 0x%lx) with no guest running", f->vector, f->rip);
	if (handler)
		handler(f);

	v->regs = (struct vcpu_regs){
		.rax = f->rax, .rbx = f->rbx, .rcx = f->rcx, .rdx = f->rdx, .rsi = f->rsi, .rdi = f->rdi,
		.rbp = f->rbp, .rsp = f->rsp, .r8 = f->r8, .r9 = f->r9, .r10 = f->r10, .r11 = f->r11,
		.r12 = f->r12, .r13 = f->r13, .r14 = f->r14, .r15 = f->r15, .rip = f->rip, .rflags = f->rflags,
	};
	v->exit = (struct vcpu_exit){
		.reason = exit_reason_for((unsigned)f->vector),
		.vector = (uint8_t)f->vector,
		.has_error_code = f->vector == VEC_GP || f->vector == VEC_PF,
		.error_code = (uint32_t)f->error,
		.fault_address = f->vector == VEC_PF ? read_cr2() : 0,
	};
	/* Really every guest fault happens at CPL 3: a #PF's U bit says what
	 * the guest's own CPL was, as its hardware would. */
	if (f->vector == VEC_PF)
		v->exit.error_code = (v->exit.error_code & ~PF_USER) | (v->virtual_cpl == 3 ? PF_USER : 0);
	/* The hypercall gate is the guest kernel's. From its user mode, INT 0x82
	 * is an ordinary software interrupt through the guest's own IDT (usually
	 * #GP(0x412): its gate has DPL 0), as on bare metal: step back onto the
	 * 2-byte CD 82 and let the emulator deliver it. */
	if (v->exit.reason == VCPU_EXIT_HYPERCALL && v->virtual_cpl == 3) {
		v->regs.rip -= 2;
		v->exit.reason = VCPU_EXIT_PRIVILEGED;
	}
	pv_return_to_host(((struct pv_state *)v->backend)->host_rsp);
}
