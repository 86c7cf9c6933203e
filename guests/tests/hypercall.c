/*
 * hypercall — the paravirtual interface itself: Xen's hypercalls
 * (guests/include/xen.h, docs/hypercalls.md).
 *
 * The `pv` build talks to the hypervisor on purpose with `int $0x82`; a
 * hardware-assisted domain (lab 3: the `image` build with mode=nested or
 * type=hvm) with VMCALL (Intel) or VMMCALL (AMD), the same ABI — it knows
 * it runs on a Xen-compatible hypervisor from CPUID leaf 0x40000000
 * ("XenVMMXenVMM") and picks the instruction by CPUID's vendor. Natively,
 * and deprivileged in the `image` build (where CPUID is the host's), this
 * guest says SKIP. Each call's result is printed:
 * - console_io(CONSOLEIO_write) returns 0; a buffer outside guest memory
 *   gives -14 (EFAULT); CONSOLEIO_read is Dom0's (-1, EPERM); an unknown
 *   console_io command, an unknown hypercall and an unknown sched_op give
 *   -38 (ENOSYS); sched_op(SCHEDOP_yield) gives 0;
 * - the virtual timer, PV build (`timer=0` leaves it out: the rest needs
 *   no interrupt delivery): the upcall on a nonce-chosen vector
 *   (HVMOP_set_param CALLBACK_IRQ), VIRQ_TIMER bound to a port
 *   (EVTCHNOP_bind_virq), vcpu_op(VCPUOP_set_periodic_timer, 10 ms).
 *   Events arrive while evtchn_upcall_mask is 0; while it is 1 none is
 *   delivered, yet the port's bit in evtchn_pending and
 *   evtchn_upcall_pending say one waits; unmasking delivers it at once;
 * - sched_op(SCHEDOP_shutdown) with a nonce-derived reason (a Hypatia exit
 *   code) ends the domain: the hypervisor logs `[hv] dN exited: code 0x...`.
 */
#include "guest.h"
#include "hypercall.h"
#include "x86.h"

static volatile uint64_t handled;
static uint32_t timer_port;

static void on_port(uint32_t port)
{
	if (port == timer_port)
		handled++;
}

static void on_upcall(struct guest_frame *f)
{
	(void)f;
	xen_handle_events(guest_shared_info(), on_port);
}

static void virtual_timer(uint64_t nonce)
{
	struct shared_info *info = guest_shared_info();
	volatile struct vcpu_info *vcpu = &info->vcpu_info[0];
	unsigned vector = 48 + nonce % 16;
	guest_set_handler(vector, on_upcall);
	gprintf("hvm_op(set_param CALLBACK_IRQ, vector %u): %ld\n", vector, xen_set_callback_vector(vector));
	struct evtchn_bind_virq bind = {.virq = VIRQ_TIMER, .vcpu = 0};
	int64_t r = xen_event_channel_op(EVTCHNOP_bind_virq, &bind);
	timer_port = bind.port;
	gprintf("event_channel_op(bind_virq VIRQ_TIMER): %ld, port %u\n", r, bind.port);
	struct vcpu_set_periodic_timer period = {.period_ns = 10000000};
	gprintf("vcpu_op(set_periodic_timer 10 ms): %ld\n", xen_vcpu_op(VCPUOP_set_periodic_timer, 0, &period));
	while (handled < 3)
		guest_wait_for_interrupt();
	gprintf("unmasked: at least 3 timer events handled\n");

	guest_irq_disable();
	uint64_t seen = handled, word = timer_port / 64, bit = 1ull << timer_port % 64;
	for (int i = 0; i < 1000000 && !(((volatile uint64_t *)info->evtchn_pending)[word] & bit); i++)
		xen_sched_op(SCHEDOP_yield, NULL);
	gprintf("masked: %lu handled, port pending: %u, selector bit: %u, upcall pending: %u\n", handled - seen,
		(((volatile uint64_t *)info->evtchn_pending)[word] & bit) != 0, (unsigned)(vcpu->evtchn_pending_sel >> word) & 1,
		vcpu->evtchn_upcall_pending);
	seen = handled;
	guest_irq_enable(); /* evtchn_upcall_mask = 0, then a hypercall since evtchn_upcall_pending */
	gprintf("unmasked again: delivered at once: %s\n", handled > seen ? "yes" : "no");
	guest_irq_disable();
	gprintf("vcpu_op(stop_periodic_timer): %ld\n", xen_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL));
	struct evtchn_port_arg close = {.port = timer_port};
	gprintf("event_channel_op(close): %ld\n", xen_event_channel_op(EVTCHNOP_close, &close));
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	bool pv = strcmp(guest_platform(), "pv") == 0;
	if (!pv && !hypercall_find_xen())
		guest_skip("hypercalls are for the pv build (this is %s)", guest_platform());
	gprintf("hypercall: nonce=%lu\n", nonce);
	if (!pv)
		gprintf("hypercall: entered with %s\n", hypercall_door == HYPERCALL_DOOR_VMCALL ? "vmcall" : "vmmcall");

	/* console_io, straight (the platform's own line buffer is empty
	 * after a "\n"). */
	char line[64];
	int length = gsnprintf(line, sizeof(line), "console_write: %lx\n", (uint64_t)(nonce * 0x9e3779b97f4a7c15ull));
	gprintf("console_io(write) returned %ld (length %d)\n", xen_console_write(line, length), length);
	gprintf("console_io(write) outside guest memory: %ld\n",
		xen_console_write((void *)(0x40000000ull + (nonce % 1024) * 4096), 16));
	gprintf("console_io(read): %ld\n", hypercall3(HYPERCALL_console_io, CONSOLEIO_read, sizeof(line), (uint64_t)line));
	gprintf("console_io(%lu): %ld\n", 2 + nonce % 50, hypercall3(HYPERCALL_console_io, 2 + nonce % 50, 0, 0));
	uint64_t unknown = 1000 + nonce % 1000;
	gprintf("hypercall %lu: %ld\n", unknown, hypercall3(unknown, 0, 0, 0));
	gprintf("sched_op(yield): %ld\n", xen_sched_op(SCHEDOP_yield, NULL));
	gprintf("sched_op(%lu): %ld\n", 100 + nonce % 100, xen_sched_op(100 + nonce % 100, NULL));

	if (guest_cmdline_u64("timer", 1) != 0 && pv)
		virtual_timer(nonce);

	/* shutdown with a code of our own; the result line comes first. */
	unsigned code = GUEST_EXIT_SUCCESS | (unsigned)(1 + nonce % 15) << 8;
	gprintf("sched_op(shutdown 0x%x)\n", code);
	gprintf("RESULT: PASS\n");
	xen_shutdown(code);
	gprintf("RESULT: FAIL shutdown returned\n");
	guest_exit(GUEST_EXIT_FAILURE);
}
