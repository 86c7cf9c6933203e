/*
 * vcpu.c — the run loop and the exit dispatch shared by every backend.
 *
 * A backend's run() enters the guest and comes back with vcpu->exit filled
 * in. What to do about each exit reason is decided here, once, through a
 * table indexed by the reason (as KVM's svm_exit_handlers / vmx's
 * kvm_vmx_exit_handlers do per vendor; here one table serves all).
 */
#include "console.h"
#include "cpu.h"
#include "domain.h"
#include "emulate.h"
#include "event_channel.h"
#include "hypercall.h"
#include "ioport.h"
#include "paging.h"
#include "pv.h"
#include "shadow.h"
#include "mm.h"
#include "timer.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"
#include "xstate.h"

/* The entry stubs (pv_entry.S, svm_entry.S, vmx_entry.S) reach struct
 * vcpu_regs through the offsets in vcpu_regs.inc: hold them to the C layout. */
_Static_assert(offsetof(struct vcpu_regs, rax) == 0 && offsetof(struct vcpu_regs, rbx) == 8 &&
		       offsetof(struct vcpu_regs, rcx) == 16 && offsetof(struct vcpu_regs, rdx) == 24 &&
		       offsetof(struct vcpu_regs, rsi) == 32 && offsetof(struct vcpu_regs, rdi) == 40 &&
		       offsetof(struct vcpu_regs, rbp) == 48 && offsetof(struct vcpu_regs, rsp) == 56 &&
		       offsetof(struct vcpu_regs, r8) == 64 && offsetof(struct vcpu_regs, r15) == 120 &&
		       offsetof(struct vcpu_regs, rip) == 128 && offsetof(struct vcpu_regs, rflags) == 136,
	       "struct vcpu_regs no longer matches kernel/include/vcpu_regs.inc");

/* A domain runs for at most this many timer ticks before the next one goes. */
#define SLICE_TICKS 2

static const char *const reason_names[VCPU_EXIT_REASON_COUNT] = {
	[VCPU_EXIT_NONE] = "none",
	[VCPU_EXIT_PRIVILEGED] = "privileged",
	[VCPU_EXIT_IO] = "io",
	[VCPU_EXIT_CPUID] = "cpuid",
	[VCPU_EXIT_MSR] = "msr",
	[VCPU_EXIT_HLT] = "hlt",
	[VCPU_EXIT_HYPERCALL] = "hypercall",
	[VCPU_EXIT_EXCEPTION] = "exception",
	[VCPU_EXIT_PAGE_FAULT] = "page_fault",
	[VCPU_EXIT_NESTED_PAGE_FAULT] = "nested_page_fault",
	[VCPU_EXIT_INTERRUPT] = "interrupt",
	[VCPU_EXIT_SHUTDOWN] = "shutdown",
};

const char *vcpu_exit_reason_name(enum vcpu_exit_reason reason)
{
	return reason < VCPU_EXIT_REASON_COUNT && reason_names[reason] ? reason_names[reason] : "unknown";
}

struct vcpu *vcpu_create(struct domain *domain, const struct vcpu_ops *ops)
{
	struct vcpu *v = kzalloc(sizeof(*v));
	if (!v)
		return NULL;
	v->domain = domain;
	v->ops = ops;
	/* The state the native shim leaves a test guest in (docs/hypercalls.md),
	 * so the same guest sees the same machine natively and virtualized. */
	v->cr0 = CR0_PE | (1ul << 1) | (1ul << 4) | (1ul << 5) | CR0_WP | CR0_PG; /* PE MP ET NE WP PG */
	v->cr4 = CR4_PAE;
	v->efer = EFER_LME | (1ul << 10) /* LMA */ | (cpu.nx ? EFER_NXE : 0);
	v->msr.apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_ENABLE | APIC_BASE_BSP;
	vlapic_reset(v);
	if (!xstate_vcpu_init(v)) {
		kfree(v);
		return NULL;
	}
	if (!ops->setup(v)) {
		xstate_vcpu_free(v);
		kfree(v);
		return NULL;
	}
	return v;
}

uint64_t *vcpu_gpr(struct vcpu *v, unsigned n)
{
	/* ModRM/REX numbering: RAX RCX RDX RBX RSP RBP RSI RDI R8..R15. */
	uint64_t *regs[16] = {&v->regs.rax, &v->regs.rcx, &v->regs.rdx, &v->regs.rbx, &v->regs.rsp, &v->regs.rbp,
			      &v->regs.rsi, &v->regs.rdi, &v->regs.r8,  &v->regs.r9,  &v->regs.r10, &v->regs.r11,
			      &v->regs.r12, &v->regs.r13, &v->regs.r14, &v->regs.r15};
	return regs[n & 15];
}

void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	v->ops->inject_exception(v, vector, has_error, error);
}

void vcpu_destroy(struct vcpu *v)
{
	v->ops->teardown(v);
	xstate_vcpu_free(v);
	kfree(v);
}

static void exit_nothing(struct vcpu *v)
{
	(void)v;
}

/* HLT (hardware-assisted backends; PV's comes as a privileged instruction). */
static void exit_hlt(struct vcpu *v)
{
	v->regs.rip = v->exit.next_rip;
	if (!(v->regs.rflags & RFLAGS_IF)) {
		/* Nothing can ever wake it: what a PC does on power-off without ACPI. */
		kprintf("[hv] d%u halted with interrupts disabled: powered off\n", v->domain->id);
		domain_exit(v->domain, 0);
		return;
	}
	v->halted = true;
}

static void exit_io(struct vcpu *v)
{
	const struct vcpu_exit *e = &v->exit;
	if (e->io_string) {
		if (emulate_string_io(v, e->io_port, e->io_size, e->io_in, e->io_rep, 8, 0) != EMULATE_DONE)
			return;
	} else if (e->io_in) {
		emulate_set_accumulator(v, ioport_read(v->domain, e->io_port, e->io_size), e->io_size);
	} else {
		ioport_write(v->domain, e->io_port, e->io_size, (uint32_t)v->regs.rax);
	}
	v->regs.rip = e->next_rip;
}

static void exit_cpuid(struct vcpu *v)
{
	cpuid_emulate(v);
	v->regs.rip = v->exit.next_rip;
}

/* Handled by the backend (vendor MSR state); here only the step. */
static void exit_msr(struct vcpu *v)
{
	v->regs.rip = v->exit.next_rip;
}

static void exit_nested_page_fault(struct vcpu *v)
{
	uint64_t gpa = v->exit.fault_address;
	struct domain *d = v->domain;
	if (d->lazy_memory && domain_populate(d, gpa))
		return; /* first touch of a RAM page: now it has a frame; retry */
	/* A write to a present page the nested table keeps read-only: dirty
	 * logging. Record it, let writes through, retry (APM §15.25.6: EXITINFO1
	 * bit 0 = present, bit 1 = write; the VMX backend says the same). */
	paddr_t hpa = domain_gpa_to_hpa(d, gpa);
	if (d->dirty_logging && hpa && (v->exit.error_code & 3) == 3) {
		domain_mark_dirty(d, gpa);
		domain_map_nested(d, gpa, hpa, true);
		return;
	}
	if (emulate_mmio(v, gpa))
		return;
	if (gpa >= v->domain->memory_bytes)
		domain_crash(v->domain, "access to guest-physical 0x%lx, outside its %lu KiB", gpa,
			     v->domain->memory_bytes >> 10);
	else
		domain_crash(v->domain, "nested page fault at guest-physical 0x%lx (error 0x%x)", gpa,
			     v->exit.error_code);
}

static void exit_exception(struct vcpu *v)
{
	v->ops->inject_exception(v, v->exit.vector, v->exit.has_error_code, v->exit.error_code);
}

static void exit_page_fault(struct vcpu *v)
{
	if (v->domain->paging == PAGING_SHADOW) {
		shadow_handle_page_fault(v, v->exit.fault_address, v->exit.error_code);
		return;
	}
	/* In paging mode "direct" every guest page is mapped, so a #PF is the
	 * guest's own: an access outside its memory, or to page 0. It gets the
	 * fault it would get natively: the same CR2 and error code (the PV
	 * backend already made its U bit the guest's own CPL). */
	v->cr2 = v->exit.fault_address;
	vcpu_inject_exception(v, VEC_PF, true, v->exit.error_code);
}

static void exit_hypercall(struct vcpu *v)
{
	if (v->exit.next_rip) /* VMMCALL/VMCALL; int $0x82 already returned past itself */
		v->regs.rip = v->exit.next_rip;
	hypercall_dispatch(v);
}

static void exit_shutdown(struct vcpu *v)
{
	domain_crash(v->domain, "triple fault (shutdown)");
}

static void exit_unexpected(struct vcpu *v)
{
	domain_crash(v->domain, "unexpected exit '%s'", vcpu_exit_reason_name(v->exit.reason));
}

typedef void (*exit_handler_t)(struct vcpu *v);

static const exit_handler_t exit_handlers[VCPU_EXIT_REASON_COUNT] = {
	[VCPU_EXIT_NONE] = exit_nothing,
	[VCPU_EXIT_PRIVILEGED] = emulate_privileged,
	[VCPU_EXIT_HLT] = exit_hlt,
	[VCPU_EXIT_EXCEPTION] = exit_exception,
	[VCPU_EXIT_PAGE_FAULT] = exit_page_fault,
	[VCPU_EXIT_INTERRUPT] = exit_nothing,
	[VCPU_EXIT_SHUTDOWN] = exit_shutdown,
	[VCPU_EXIT_HYPERCALL] = exit_hypercall,
	[VCPU_EXIT_IO] = exit_io,
	[VCPU_EXIT_CPUID] = exit_cpuid,
	[VCPU_EXIT_MSR] = exit_msr,
	[VCPU_EXIT_NESTED_PAGE_FAULT] = exit_nested_page_fault,
};

/* Advance the domain's virtual timers to now and mark what they raised. */
static void update_timers(struct vcpu *v)
{
	struct domain *d = v->domain;
	uint64_t now = timer_ticks();
	vpit_update(d, now);
	vlapic_timer_update(v);
	vuart_poll_input(d); /* what was typed on the console, for a guest that listens */
	if (d->timer_period_ticks && now >= d->timer_next_tick) {
		evtchn_send_virq(d, VIRQ_TIMER); /* ticks missed meanwhile are one event */
		d->timer_next_tick += d->timer_period_ticks * ((now - d->timer_next_tick) / d->timer_period_ticks + 1);
	}
	if (!d->hvm)
		pv_publish_pending(v, vpic_pending_vector(d) >= 0);
}

void vcpu_run_slice(struct vcpu *v)
{
	uint64_t end = timer_ticks() + SLICE_TICKS;
	struct domain *d = v->domain;
	v->yielded = false;
	while (d->state == DOMAIN_RUNNABLE) {
		update_timers(v);
		v->ops->deliver_pending(v);
		if (v->halted || v->yielded)
			return; /* nothing to do until an interrupt: let the others run */
		v->ops->run(v);
		v->sti_shadow = false; /* the one instruction after STI has run */
		enum vcpu_exit_reason reason = v->exit.reason;
		v->exits[reason < VCPU_EXIT_REASON_COUNT ? reason : VCPU_EXIT_NONE]++;
		exit_handler_t handler = reason < VCPU_EXIT_REASON_COUNT ? exit_handlers[reason] : NULL;
		(handler ? handler : exit_unexpected)(v);
		if (timer_ticks() >= end)
			return;
	}
}
