/*
 * vcpu.c — the run loop and the exit dispatch shared by every backend.
 *
 * A backend's run() enters the guest and comes back with vcpu->exit filled
 * in. What to do about each exit reason is decided here, once, through a
 * table indexed by the reason (as KVM's svm_exit_handlers / vmx's
 * kvm_vmx_exit_handlers do per vendor; here one table serves all).
 */
#include "console.h"
#include "domain.h"
#include "emulate.h"
#include "mm.h"
#include "timer.h"
#include "trap.h"
#include "vcpu.h"
#include "x86.h"

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
	if (!ops->setup(v)) {
		kfree(v);
		return NULL;
	}
	return v;
}

void vcpu_destroy(struct vcpu *v)
{
	v->ops->teardown(v);
	kfree(v);
}

static void exit_nothing(struct vcpu *v)
{
	(void)v;
}

static void exit_hlt(struct vcpu *v)
{
	v->halted = true;
}

static void exit_exception(struct vcpu *v)
{
	v->ops->inject_exception(v, v->exit.vector, v->exit.has_error_code, v->exit.error_code);
}

static void exit_page_fault(struct vcpu *v)
{
	/* In paging mode "direct" every guest page is mapped, so a #PF is the
	 * guest's own: an access outside its memory, or to page 0. */
	domain_crash(v->domain, "page fault at 0x%lx (error 0x%x)", v->exit.fault_address, v->exit.error_code);
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
};

void vcpu_run_slice(struct vcpu *v)
{
	uint64_t end = timer_ticks() + SLICE_TICKS;
	while (v->domain->state == DOMAIN_RUNNABLE) {
		v->ops->run(v);
		enum vcpu_exit_reason reason = v->exit.reason;
		v->exits[reason < VCPU_EXIT_REASON_COUNT ? reason : VCPU_EXIT_NONE]++;
		exit_handler_t handler = reason < VCPU_EXIT_REASON_COUNT ? exit_handlers[reason] : NULL;
		(handler ? handler : exit_unexpected)(v);
		if (v->halted) {
			/* Nothing to run until an interrupt: give the CPU away until the next tick. */
			timer_wait_ticks(1);
			cli();
			v->halted = false;
			return;
		}
		if (timer_ticks() >= end)
			return;
	}
}
