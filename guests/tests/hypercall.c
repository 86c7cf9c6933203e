/*
 * hypercall — the paravirtual interface itself (docs/hypercalls.md).
 *
 * The `pv` build talks to the hypervisor on purpose with `int $0x82`; a
 * hardware-assisted domain (lab 3: the `image` build with mode=nested or
 * type=hvm) with VMCALL (Intel) or VMMCALL (AMD), the same ABI — it knows
 * it runs under Hypatia from CPUID's hypervisor leaf (0x40000000,
 * "HypatiaHypat") and picks the instruction by CPUID's vendor. Natively,
 * and deprivileged in the `image` build (where CPUID is the host's), this
 * guest says SKIP. Each call's result is printed:
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

/* How this guest enters the hypervisor. */
enum door { DOOR_INT_0X82, DOOR_VMCALL, DOOR_VMMCALL };
static enum door door = DOOR_INT_0X82;

/* Hypercall @number with two arguments through the door in use; the other
 * argument registers (RDX, R10, R8) are 0. */
static int64_t call(uint64_t number, uint64_t a1, uint64_t a2)
{
	if (door == DOOR_INT_0X82)
		return hypercall2(number, a1, a2);
	register uint64_t r10 __asm__("r10") = 0;
	register uint64_t r8 __asm__("r8") = 0;
	uint64_t result = number;
	if (door == DOOR_VMCALL)
		__asm__ volatile("vmcall" : "+a"(result) : "D"(a1), "S"(a2), "d"(0ull), "r"(r10), "r"(r8) : "memory");
	else
		__asm__ volatile("vmmcall" : "+a"(result) : "D"(a1), "S"(a2), "d"(0ull), "r"(r10), "r"(r8) : "memory");
	return (int64_t)result;
}

/* Under a hardware-assisted Hypatia domain: CPUID's hypervisor leaf says
 * "HypatiaHypat" (kernel/virt/cpuid.c); the vendor picks the instruction. */
static bool hardware_assisted_hypatia(void)
{
	uint32_t a, b, c, d;
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (memcmp(&b, "Hypa", 4) != 0 || memcmp(&c, "tiaH", 4) != 0 || memcmp(&d, "ypat", 4) != 0)
		return false;
	cpuid(0, 0, &a, &b, &c, &d);
	door = memcmp(&b, "Genu", 4) == 0 ? DOOR_VMCALL : DOOR_VMMCALL; /* GenuineIntel */
	return true;
}

static void on_timer(struct guest_frame *f)
{
	(void)f;
	handled++;
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	bool pv = strcmp(guest_platform(), "pv") == 0;
	if (!pv && !hardware_assisted_hypatia())
		guest_skip("hypercalls are for the pv build (this is %s)", guest_platform());
	gprintf("hypercall: nonce=%lu\n", nonce);
	if (!pv)
		gprintf("hypercall: entered with %s\n", door == DOOR_VMCALL ? "vmcall" : "vmmcall");

	/* console_write, straight (the platform's own line buffer is empty
	 * after a "\n"). */
	char line[64];
	int length = gsnprintf(line, sizeof(line), "console_write: %lx\n", (uint64_t)(nonce * 0x9e3779b97f4a7c15ull));
	int64_t r = call(HYPERCALL_CONSOLE_WRITE, (uint64_t)line, length);
	gprintf("console_write returned %ld (length %d)\n", r, length);
	r = call(HYPERCALL_CONSOLE_WRITE, 0x40000000ull + (nonce % 1024) * 4096, 16);
	gprintf("console_write outside guest memory: %ld\n", r);
	r = call(HYPERCALL_CONSOLE_WRITE, (uint64_t)line, 4097);
	gprintf("console_write of 4097 bytes: %ld\n", r);
	uint64_t unknown = 1000 + nonce % 1000;
	gprintf("hypercall %lu: %ld\n", unknown, call(unknown, 0, 0));
	gprintf("yield: %ld\n", call(HYPERCALL_YIELD, 0, 0));

	/* The virtual timer and the mask (the pv build's shared-info page). */
	if (guest_cmdline_u64("timer", 1) == 0 || !pv)
		goto shutdown;
	volatile struct guest_shared_info *shared = guest_shared_info();
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
	call(HYPERCALL_SHUTDOWN, code, 0);
	gprintf("RESULT: FAIL shutdown returned\n");
	guest_exit(GUEST_EXIT_FAILURE);
}
