/*
 * hypercall — the paravirtual interface itself (docs/hypercalls.md).
 *
 * Only the `pv` build talks to the hypervisor on purpose; natively and in
 * the `image` build this guest says SKIP. Each call's result is printed:
 * - console_write returns the length written; a buffer outside guest memory
 *   gives -14 (EFAULT), more than 4096 bytes -22 (EINVAL);
 * - an unknown number gives -38 (ENOSYS); yield gives 0;
 * - set_timer with the shared-info page: timer interrupts arrive while
 *   irq_mask is 0; while it is 1 none is delivered, the page's `ticks`
 *   still counts them and `irq_pending` says one waits; unmasking and
 *   event_check deliver it (Xen's evtchn_upcall_mask/pending protocol);
 *   (`timer=0` leaves this part out: the rest needs no interrupt delivery);
 * - shutdown with a nonce-derived code ends the domain: the hypervisor logs
 *   `[hv] dN exited: code 0x...`.
 */
#include "guest.h"
#include "hypercall.h"
#include "x86.h"

static volatile uint64_t handled;

static void on_timer(struct guest_frame *f)
{
	(void)f;
	handled++;
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	if (strcmp(guest_platform(), "pv") != 0)
		guest_skip("hypercalls are for the pv build (this is %s)", guest_platform());
	volatile struct guest_shared_info *shared = guest_shared_info();
	gprintf("hypercall: nonce=%lu\n", nonce);

	/* console_write, straight (the platform's own line buffer is empty
	 * after a "\n"). */
	char line[64];
	int length = gsnprintf(line, sizeof(line), "console_write: %lx\n", (uint64_t)(nonce * 0x9e3779b97f4a7c15ull));
	int64_t r = hypercall2(HYPERCALL_CONSOLE_WRITE, (uint64_t)line, length);
	gprintf("console_write returned %ld (length %d)\n", r, length);
	r = hypercall2(HYPERCALL_CONSOLE_WRITE, 0x40000000ull + (nonce % 1024) * 4096, 16);
	gprintf("console_write outside guest memory: %ld\n", r);
	r = hypercall2(HYPERCALL_CONSOLE_WRITE, (uint64_t)line, 4097);
	gprintf("console_write of 4097 bytes: %ld\n", r);
	uint64_t unknown = 1000 + nonce % 1000;
	gprintf("hypercall %lu: %ld\n", unknown, hypercall0(unknown));
	gprintf("yield: %ld\n", hypercall0(HYPERCALL_YIELD));

	/* The virtual timer and the mask. */
	if (guest_cmdline_u64("timer", 1) == 0)
		goto shutdown;
	unsigned vector = 48 + nonce % 16;
	guest_set_handler(vector, on_timer);
	gprintf("set_timer(10000 us, vector %u): %ld\n", vector,
		hypercall2(HYPERCALL_SET_TIMER, 10000, vector));
	while (handled < 3)
		guest_wait_for_interrupt();
	gprintf("unmasked: at least 3 timer interrupts handled\n");

	guest_irq_disable();
	uint64_t seen = handled, raised = shared->ticks;
	while (shared->ticks < raised + 3)
		hypercall0(HYPERCALL_YIELD);
	gprintf("masked for 3 ticks: %lu handled, pending: %u\n", handled - seen, shared->irq_pending);
	seen = handled;
	guest_irq_enable(); /* irq_mask = 0, then event_check since irq_pending */
	gprintf("unmasked again: delivered at once: %s\n", handled > seen ? "yes" : "no");
	guest_irq_disable();
	gprintf("set_timer(0): %ld\n", hypercall2(HYPERCALL_SET_TIMER, 0, 0));

shutdown:;
	/* shutdown with a code of our own; the result line comes first. */
	unsigned code = GUEST_EXIT_SUCCESS | (unsigned)(1 + nonce % 15) << 8;
	gprintf("shutdown(0x%x)\n", code);
	gprintf("RESULT: PASS\n");
	hypercall1(HYPERCALL_SHUTDOWN, code);
	gprintf("RESULT: FAIL shutdown returned\n");
	guest_exit(GUEST_EXIT_FAILURE);
}
