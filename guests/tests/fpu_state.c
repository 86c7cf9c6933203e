/*
 * fpu_state — the x87 and SSE registers are this domain's own.
 *
 * The registers of the floating-point unit and of SSE (x87 control word
 * and data registers, MXCSR, XMM0-XMM15; Intel SDM Vol. 1 §8 and §10) are
 * loaded with values drawn from the nonce and a per-domain `salt=`, then
 * the guest spins for ten 10 ms periods of its PIT (measured against the
 * TSC), long enough for the hypervisor to run other domains in between,
 * and reads them back. Two
 * domains running this guest with different salts in one boot each find
 * their own values only if the hypervisor saves and restores the state
 * when it switches between them (kernel/arch/xstate.c); without that the
 * one that ran last has overwritten the other's. Natively nothing else
 * runs, so the native run of the same salt prints the same lines.
 *
 * Where the CPU has AVX and the platform lets the guest set XCR0 (not PV),
 * the upper halves of YMM0-YMM15 are drawn and checked too (a DIFF: line
 * says which: QEMU's qemu64 has no AVX, Bochs' Haswell has).
 *
 * Needs CR4.OSFXSR (SSE instructions allowed) and CR4.OSXMMEXCPT, which the
 * guest sets itself (SDM Vol. 3A §2.5), and for AVX CR4.OSXSAVE and XCR0;
 * the runtime never uses these registers (-mgeneral-regs-only).
 */
#include "guest.h"
#include "x86.h"

#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_OSXSAVE (1ul << 18)
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1
#define PIT_10MS 11932 /* 1193182 Hz / 100 */
#define PERIODS 10
#define X87_VALUES 3

static uint64_t mix_state; /* next_value(): one nonce-derived value per use */
static uint64_t next_value(void)
{
	return splitmix64(&mix_state);
}

struct sse_state {
	uint64_t xmm[16][2];
	uint32_t mxcsr;
	uint16_t fcw;
	int64_t st[X87_VALUES];
};

/* .irp repeats its body for each register number \r: 16 moves. */
static void load(const struct sse_state *s)
{
	__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			 "movdqu \\r*16(%0), %%xmm\\r\n\t"
			 ".endr"
			 : : "r"(s->xmm) : "memory");
	__asm__ volatile("ldmxcsr %0" : : "m"(s->mxcsr));
	/* FNINIT empties the x87 stack; then three integers pushed (ST0 = the last). */
	__asm__ volatile("fninit\n\tfldcw %0" : : "m"(s->fcw));
	for (int i = 0; i < X87_VALUES; i++)
		__asm__ volatile("fildq %0" : : "m"(s->st[i]));
}

static void store(struct sse_state *s)
{
	__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			 "movdqu %%xmm\\r, \\r*16(%0)\n\t"
			 ".endr"
			 : : "r"(s->xmm) : "memory");
	__asm__ volatile("stmxcsr %0" : "=m"(s->mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(s->fcw));
	/* Popped in reverse: ST0 holds the value pushed last. */
	for (int i = X87_VALUES - 1; i >= 0; i--)
		__asm__ volatile("fistpq %0" : "=m"(s->st[i]));
}

/* AVX: the upper halves of YMM0-15 (SDM Vol. 1 §14), loaded without
 * touching the lower halves (the XMM registers above): VINSERTF128 of
 * lane 1, VEXTRACTF128 to read it back. */
static void load_ymm_high(const uint64_t (*high)[2])
{
	__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			 "vinsertf128 $1, \\r*16(%0), %%ymm\\r, %%ymm\\r\n\t"
			 ".endr"
			 : : "r"(high) : "memory");
}

static void store_ymm_high(uint64_t (*high)[2])
{
	__asm__ volatile(".irp r,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t"
			 "vextractf128 $1, %%ymm\\r, \\r*16(%0)\n\t"
			 ".endr"
			 : : "r"(high) : "memory");
}

static uint64_t resume_rip;
static volatile bool took_gp;

static void on_gp(struct guest_frame *frame)
{
	took_gp = true;
	frame->rip = resume_rip;
}

/* AVX needs CPUID's XSAVE (ECX bit 26) and AVX (bit 28), CR4.OSXSAVE and
 * XCR0 = x87 | SSE | AVX (SDM Vol. 1 §14.3). XSETBV is #GP where the
 * platform does not let this guest set XCR0 (a PV guest runs at CPL 3): no
 * AVX then. */
static bool enable_avx(void)
{
	uint32_t eax, ebx, ecx, edx;
	cpuid(1, 0, &eax, &ebx, &ecx, &edx);
	if (!(ecx & (1u << 26)) || !(ecx & (1u << 28)))
		return false;
	write_cr4(read_cr4() | CR4_OSXSAVE);
	guest_set_handler(13, on_gp);
	__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %[resume]\n\t"
			 "xorl %%ecx, %%ecx\n\t"
			 "movl $7, %%eax\n\t"
			 "xorl %%edx, %%edx\n\t"
			 "xsetbv\n"
			 "1:"
			 : [resume] "=m"(resume_rip)
			 :
			 : "rax", "rcx", "rdx", "memory");
	guest_set_handler(13, NULL);
	return !took_gp;
}

/* TSC cycles in one 10 ms count of PIT counter 2, the shortest of three:
 * the wait needs a time, not a precise one. */
static uint64_t tsc_per_period(void)
{
	uint64_t best = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t took = guest_pit_countdown(PIT_10MS, 4000000000ull);
		best = took && (!best || took < best) ? took : best;
	}
	return best;
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce(), salt = guest_cmdline_u64("salt", 0);
	gprintf("fpu_state: nonce=%lu salt=%lu\n", nonce, salt);
	mix_state = nonce ^ (salt * 0x2545f4914f6cdd1dull);

	struct sse_state want, got;
	for (int i = 0; i < 16; i++)
		want.xmm[i][0] = next_value(), want.xmm[i][1] = next_value();
	/* MXCSR: every exception masked (bits 7-12), a drawn rounding mode
	 * (bits 13-14) and flush-to-zero (bit 15). x87 control word: every
	 * exception masked, a drawn precision (bits 8-9, 01 is reserved) and
	 * rounding mode (bits 10-11). */
	uint64_t r = next_value();
	want.mxcsr = 0x1f80u | (uint32_t)(r & 0x7) << 13;
	static const uint16_t precision[] = {0x000, 0x200, 0x300};
	want.fcw = (uint16_t)(0x7f | precision[(r >> 3) % 3] | ((r >> 5) & 3) << 10);
	/* Integers below 2^24: exact even at 24-bit precision, so FISTP gives them back. */
	for (int i = 0; i < X87_VALUES; i++)
		want.st[i] = (int64_t)(next_value() & 0xffffff);

	uint64_t ymm_want[16][2], ymm_got[16][2];
	for (int i = 0; i < 16; i++)
		ymm_want[i][0] = next_value(), ymm_want[i][1] = next_value();

	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	bool avx = enable_avx();
	uint64_t period = tsc_per_period();
	load(&want);
	if (avx)
		load_ymm_high(ymm_want);
	uint64_t start = rdtsc();
	/* Interrupts on, every PIC input masked: none comes to this guest, but
	 * Bochs 2.7 only makes a VMX guest exit for the host's timer while the
	 * guest's IF is 1 (the SDM says IF does not matter), and without those
	 * exits nothing else would run during the wait. */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
	guest_irq_enable();
	while (rdtsc() - start < PERIODS * period)
		pause();
	guest_irq_disable();
	store(&got);
	if (avx)
		store_ymm_high(ymm_got);

	bool xmm_kept = true;
	for (int i = 0; i < 16; i++)
		xmm_kept &= got.xmm[i][0] == want.xmm[i][0] && got.xmm[i][1] == want.xmm[i][1];
	bool st_kept = true;
	for (int i = 0; i < X87_VALUES; i++)
		st_kept &= got.st[i] == want.st[i];
	gprintf("mxcsr 0x%04x, as loaded: %s\n", got.mxcsr, got.mxcsr == want.mxcsr ? "yes" : "no");
	gprintf("x87 control word 0x%04x, as loaded: %s\n", got.fcw, got.fcw == want.fcw ? "yes" : "no");
	gprintf("x87 st0-st%d as loaded: %s\n", X87_VALUES - 1, st_kept ? "yes" : "no");
	gprintf("xmm0-xmm15 as loaded: %s, fnv1a %016lx\n", xmm_kept ? "yes" : "no", fnv1a64(got.xmm, sizeof(got.xmm)));
	/* A DIFF: line: whether AVX exists depends on the CPU (QEMU's qemu64 has
	 * none, Bochs' Haswell has it), not on the hypervisor. */
	bool ymm_kept = true;
	for (int i = 0; avx && i < 16; i++)
		ymm_kept &= ymm_got[i][0] == ymm_want[i][0] && ymm_got[i][1] == ymm_want[i][1];
	if (avx)
		gprintf("DIFF: avx: ymm0-ymm15 upper halves as loaded: %s\n", ymm_kept ? "yes" : "no");
	else
		gprintf("DIFF: avx: not available\n");
	if (!xmm_kept || !st_kept || !ymm_kept || got.mxcsr != want.mxcsr || got.fcw != want.fcw)
		guest_fail("the x87/SSE/AVX registers changed while this guest was not looking");
	guest_pass();
}
