/*
 * hcfuzz — random hypercalls with random arguments, drawn from the nonce:
 * whatever a domain asks, the hypervisor must answer (an error, mostly)
 * and carry on, and the other domains with it (issue 12, "isolation").
 *
 * `calls=N` (default 100000). Each call picks a hypercall number — one of
 * Xen's (xen.h), or any number up to 255 — a sub-operation, and five
 * arguments: zero, small numbers, -1, addresses in a scratch area filled
 * with random bytes (so that structure arguments are garbage), addresses at
 * the end of the guest's memory, in the hypervisor's half, non-canonical.
 * Left out are the few calls with which a guest legitimately stops itself or
 * rearranges its own memory (shutdown, block, poll, watchdog, vCPU down,
 * remapping or giving back its own pages, moving its upcall vector): those
 * would end the fuzzer, not test the hypervisor. Console writes are left
 * out too, to keep the log readable.
 *
 * Prints a count of results by class and RESULT: PASS when every call came
 * back; a hypervisor that panics, hangs or crashes this domain for a call
 * fails the test that runs it.
 */
#include "guest.h"
#include "hypercall.h"

#define SCRATCH_PAGES 4

static uint8_t scratch[SCRATCH_PAGES * 4096] __attribute__((aligned(4096)));

static const uint64_t xen_numbers[] = {
	0, 1, 3, 4, 12, 14, 15, 17, 18, 20, 21, 24, 26, 29, 32, 33, 34, 35, 36, 38, 40,
};

static uint64_t pick_argument(uint64_t *state)
{
	uint64_t r = splitmix64(state);
	switch (r % 9) {
	case 0: return 0;
	case 1: return r >> 60;                                   /* a small number */
	case 2: return ~0ull;
	case 3: return (uint64_t)(uintptr_t)scratch + (r >> 8) % sizeof(scratch);
	case 4: return (uint64_t)(uintptr_t)scratch + sizeof(scratch) - (r >> 8) % 16; /* straddling the end */
	case 5: return 0xffff800000000000ull + ((r >> 8) << 12);  /* the hypervisor's half */
	case 6: return 0x0000800000000000ull | (r >> 20);         /* non-canonical */
	case 7: return (r >> 8) & 0xffffffffull;                  /* anywhere in the first 4 GiB */
	default: return r;
	}
}

/* Would this call stop the fuzzer or pull its own memory away? (See the top of the file.) */
static bool left_out(uint64_t number, uint64_t op)
{
	switch (number) {
	case HYPERCALL_sched_op: return op != SCHEDOP_yield && op != 7 && op != 8; /* 7, 8: unknown sub-ops */
	case HYPERCALL_vcpu_op: return op == 1 || op == 0;          /* VCPUOP_down, VCPUOP_up */
	case HYPERCALL_memory_op: return op <= 1 || op == 6 || op == 7 || op == 23;
	case HYPERCALL_hvm_op: return op == 0;                      /* HVMOP_set_param: the upcall vector */
	case HYPERCALL_console_io: return op == 0;                  /* CONSOLEIO_write */
	default: return false;
	}
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce(), state = nonce ^ 0x6863667a7a00ull; /* "hcfzz" */
	uint64_t calls = guest_cmdline_u64("calls", 100000), done = 0;
	uint64_t ok = 0, enosys = 0, efault = 0, einval = 0, other = 0;
	bool pv = strcmp(guest_platform(), "pv") == 0;
	if (!pv && !hypercall_find_xen())
		guest_skip("hypercalls need the pv build or an HVM domain (this is %s)", guest_platform());
	for (size_t i = 0; i < sizeof(scratch); i += 8)
		*(uint64_t *)(scratch + i) = splitmix64(&state);
	gprintf("hcfuzz: nonce=%lu calls=%lu\n", nonce, calls);
	while (done < calls) {
		uint64_t r = splitmix64(&state);
		/* Mostly Xen's own numbers and sub-operations that exist, so that the calls get past
		 * the first check and their arguments are looked at; now and then anything. */
		uint64_t number = r % 8 ? xen_numbers[(r >> 3) % ARRAY_SIZE(xen_numbers)] : (r >> 8) & 0xff;
		uint64_t pick = splitmix64(&state);
		uint64_t op = pick % 8 == 0 ? splitmix64(&state) : pick % 8 < 3 ? (pick >> 3) % 32 : (pick >> 3) % 12;
		if (left_out(number, op))
			continue;
		/* Refill a little of the scratch area: no call sees the same garbage twice. */
		*(uint64_t *)(scratch + (r >> 24) % (sizeof(scratch) / 8) * 8) = splitmix64(&state);
		int64_t result = hypercall5(number, op, pick_argument(&state), pick_argument(&state),
					    pick_argument(&state), pick_argument(&state));
		ok += result >= 0;
		enosys += result == -38;
		efault += result == -14;
		einval += result == -22;
		other += result < 0 && result != -38 && result != -14 && result != -22;
		done++;
	}
	gprintf("hcfuzz: %lu calls came back: %lu ok, %lu ENOSYS, %lu EFAULT, %lu EINVAL, %lu other errors\n", done,
		ok, enosys, efault, einval, other);
	guest_pass();
}
