/*
 * primes — a CPU-bound guest: count the primes below a limit with the sieve
 * of Eratosthenes.
 *
 * The limit comes from the nonce (10000 + nonce % 20000), so the grader
 * recomputes the expected lines rather than remembering them:
 *     primes below <limit>: <count>
 *     sum of primes below <limit> mod 2^32: <sum>
 * `rounds=N` (default 1) repeats the sieve N times, every round checked
 * against the first: a knob for benchmarks (native vs. virtualized time)
 * that also catches a hypervisor corrupting guest state between rounds.
 * The work is plain loads, stores and arithmetic — nothing a hypervisor
 * should need to trap.
 */
#include "guest.h"

#define LIMIT_BASE 10000
#define LIMIT_SPAN 20000

static bool composite[LIMIT_BASE + LIMIT_SPAN];

struct prime_stats {
	uint32_t count;
	uint32_t sum; /* wraps: the sum mod 2^32 */
};

static struct prime_stats sieve(uint32_t limit)
{
	struct prime_stats stats = { 0, 0 };

	memset(composite, 0, sizeof(composite));
	for (uint32_t n = 2; n < limit; n++) {
		if (composite[n])
			continue;
		stats.count++;
		stats.sum += n;
		for (uint64_t multiple = (uint64_t)n * n; multiple < limit; multiple += n)
			composite[multiple] = true;
	}
	return stats;
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	uint32_t limit = LIMIT_BASE + (uint32_t)(nonce % LIMIT_SPAN);
	uint64_t rounds = guest_cmdline_u64("rounds", 1);

	if (rounds == 0)
		guest_error("rounds= must be at least 1");
	struct prime_stats first = sieve(limit);
	for (uint64_t round = 1; round < rounds; round++) {
		struct prime_stats again = sieve(limit);
		if (again.count != first.count || again.sum != first.sum)
			guest_fail("round %llu found %u primes (sum %u), round 0 found %u (sum %u)",
				   (unsigned long long)round, again.count, again.sum,
				   first.count, first.sum);
	}
	gprintf("primes below %u: %u\n", limit, first.count);
	gprintf("sum of primes below %u mod 2^32: %u\n", limit, first.sum);
	guest_pass();
}
