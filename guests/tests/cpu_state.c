/*
 * cpu_state — the privileged registers, read and written back.
 *
 * Every instruction here is privileged (CPL 0 only): deprivileged, each one
 * traps with #GP, and the hypervisor must emulate it against the *virtual*
 * CPU (lab 1, kernel/pv/emulate_priv.c), never the real one. Only values
 * the architecture defines are printed (no raw CR3 or table addresses,
 * which differ between native and virtual machines: comparisons instead):
 * - MOV to/from CR0 (toggle WP), CR2, CR3 (write back what was read), CR4,
 *   CR8 (the task-priority register, bits 3:0) (SDM Vol. 3A §2.5, Vol. 2B
 *   "MOV—Move to/from Control Registers");
 * - LGDT/LIDT then SGDT/SIDT give back what was loaded; SLDT, STR, SMSW;
 *   LLDT of the null selector (SDM Vol. 2A/2B under each mnemonic);
 * - WRMSR then RDMSR of STAR, LSTAR, SFMASK, FS_BASE, GS_BASE and
 *   KERNEL_GS_BASE with nonce-derived canonical values; RDMSR of EFER and
 *   APIC_BASE; RDMSR of an MSR that does not exist must raise #GP(0) (SDM
 *   Vol. 2B "RDMSR") — QEMU's TCG returns 0 instead, hence a DIFF: line;
 * - INVLPG and WBINVD have no visible effect here; SWAPGS exchanges GS_BASE
 *   and KERNEL_GS_BASE (SDM Vol. 2B "SWAPGS").
 */
#include "guest.h"
#include "x86.h"

#define MSR_APIC_BASE 0x1b
#define MSR_NONEXISTENT 0xdeadbeef
#define CANONICAL_MASK 0x00007ffffffffff0ull /* user-half canonical addresses */

static uint64_t mix_state; /* next_value(): one nonce-derived value per use */
static uint64_t next_value(void)
{
	return splitmix64(&mix_state);
}

/* The #GP handler continues at resume_rip (Linux's exception tables, in
 * miniature) and records what it saw. */
static uint64_t resume_rip;
static volatile int gp_count;
static volatile uint64_t gp_error;

static void on_gp(struct guest_frame *frame)
{
	gp_count++;
	gp_error = frame->error_code;
	frame->rip = resume_rip;
}

static void msr_round_trip(const char *name, uint32_t msr, uint64_t value)
{
	uint64_t before = rdmsr(msr);
	wrmsr(msr, value);
	uint64_t read = rdmsr(msr);
	gprintf("msr %s: wrote 0x%016lx, read 0x%016lx\n", name, value, read);
	wrmsr(msr, before);
	if (read != value)
		guest_fail("%s read back 0x%lx, not the 0x%lx written", name, read, value);
}

static bool same_table(const struct x86_desc_ptr *a, const struct x86_desc_ptr *b)
{
	return a->base == b->base && a->limit == b->limit;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	mix_state = nonce;
	gprintf("cpu_state: nonce=%lu\n", nonce);

	/* Control registers. */
	uint64_t cr0 = read_cr0();
	gprintf("cr0: 0x%lx\n", cr0);
	write_cr0(cr0 & ~X86_CR0_WP);
	uint64_t cr0_no_wp = read_cr0();
	write_cr0(cr0);
	gprintf("cr0 without wp: 0x%lx, restored: 0x%lx\n", cr0_no_wp, read_cr0());

	uint64_t cr2 = next_value() & CANONICAL_MASK;
	write_cr2(cr2);
	gprintf("cr2: wrote 0x%lx, read 0x%lx\n", cr2, read_cr2());

	uint64_t cr3 = read_cr3();
	write_cr3(cr3);
	gprintf("cr3: written back, unchanged: %s\n", yes_no(read_cr3() == cr3));
	gprintf("cr4: 0x%lx\n", read_cr4());

	uint64_t tpr = nonce & 0xf;
	write_cr8(tpr);
	uint64_t tpr_read = read_cr8();
	write_cr8(0);
	gprintf("cr8: wrote 0x%lx, read 0x%lx, restored 0x%lx\n", tpr, tpr_read, read_cr8());

	/* Descriptor-table registers: what the runtime loaded, then copies
	 * at other addresses, then the runtime's again. */
	struct x86_desc_ptr runtime_gdtr, runtime_idtr, now;
	guest_arch_tables(&runtime_gdtr, &runtime_idtr);
	sgdt(&now);
	gprintf("sgdt matches the runtime's lgdt: %s (limit 0x%x)\n",
		yes_no(same_table(&now, &runtime_gdtr)), now.limit);
	sidt(&now);
	gprintf("sidt matches the runtime's lidt: %s (limit 0x%x)\n",
		yes_no(same_table(&now, &runtime_idtr)), now.limit);

	static uint64_t gdt_copy[4] __attribute__((aligned(16)));
	static uint8_t idt_copy[4096] __attribute__((aligned(16)));
	memcpy(gdt_copy, (const void *)runtime_gdtr.base, runtime_gdtr.limit + 1);
	memcpy(idt_copy, (const void *)runtime_idtr.base, runtime_idtr.limit + 1);
	struct x86_desc_ptr gdt_new = { runtime_gdtr.limit, (uint64_t)gdt_copy };
	struct x86_desc_ptr idt_new = { runtime_idtr.limit, (uint64_t)idt_copy };
	lgdt(&gdt_new);
	lidt(&idt_new);
	struct x86_desc_ptr gdt_read, idt_read;
	sgdt(&gdt_read);
	sidt(&idt_read);
	lgdt(&runtime_gdtr);
	lidt(&runtime_idtr);
	gprintf("lgdt/sgdt of a copy: same: %s; lidt/sidt of a copy: same: %s\n",
		yes_no(same_table(&gdt_read, &gdt_new)), yes_no(same_table(&idt_read, &idt_new)));
	sgdt(&gdt_read);
	sidt(&idt_read);
	gprintf("back to the runtime's tables: %s\n",
		yes_no(same_table(&gdt_read, &runtime_gdtr) && same_table(&idt_read, &runtime_idtr)));

	gprintf("sldt: 0x%x, str: 0x%x, smsw: 0x%x\n", sldt(), str(), smsw());
	lldt(0);
	gprintf("lldt of the null selector, then sldt: 0x%x\n", sldt());

	/* MSRs. SFMASK's upper half is reserved: a 32-bit mask. */
	msr_round_trip("star", MSR_STAR, next_value());
	msr_round_trip("lstar", MSR_LSTAR, next_value() & CANONICAL_MASK);
	msr_round_trip("sfmask", MSR_SFMASK, next_value() & 0xffffffffull);
	msr_round_trip("fs_base", MSR_FS_BASE, next_value() & CANONICAL_MASK);
	msr_round_trip("gs_base", MSR_GS_BASE, next_value() & CANONICAL_MASK);
	msr_round_trip("kernel_gs_base", MSR_KERNEL_GS_BASE, next_value() & CANONICAL_MASK);
	gprintf("msr efer: 0x%lx\n", rdmsr(MSR_EFER));
	gprintf("msr apic_base: 0x%lx\n", rdmsr(MSR_APIC_BASE));

	/* Only here is a #GP expected: anywhere else it is a crash. */
	guest_set_handler(13, on_gp);
	uint32_t lo = 0x1234, hi = 0x5678;
	__asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
			 "movq %%rax, %[resume]\n\t"
			 "movl $0x1234, %%eax\n\t"
			 "rdmsr\n"
			 "1:"
			 : "=&a"(lo), "+d"(hi), [resume] "=m"(resume_rip)
			 : "c"(MSR_NONEXISTENT)
			 : "memory");
	if (gp_count)
		gprintf("DIFF: rdmsr 0x%x: #GP error=0x%lx\n", MSR_NONEXISTENT, gp_error);
	else
		gprintf("DIFF: rdmsr 0x%x: no fault, read 0x%08x%08x\n", MSR_NONEXISTENT, hi, lo);
	guest_set_handler(13, NULL);

	/* Instructions without a visible effect. */
	invlpg((const void *)&mix_state);
	wbinvd();
	gprintf("invlpg, wbinvd: done\n");

	/* SWAPGS exchanges the two GS bases. */
	uint64_t gs = next_value() & CANONICAL_MASK, kernel_gs = next_value() & CANONICAL_MASK;
	wrmsr(MSR_GS_BASE, gs);
	wrmsr(MSR_KERNEL_GS_BASE, kernel_gs);
	swapgs();
	uint64_t gs_after = rdmsr(MSR_GS_BASE), kernel_gs_after = rdmsr(MSR_KERNEL_GS_BASE);
	swapgs();
	gprintf("swapgs: gs_base 0x%lx -> 0x%lx, kernel_gs_base 0x%lx -> 0x%lx\n", gs, gs_after,
		kernel_gs, kernel_gs_after);
	gprintf("swapgs again: gs_base 0x%lx, kernel_gs_base 0x%lx\n", rdmsr(MSR_GS_BASE),
		rdmsr(MSR_KERNEL_GS_BASE));
	wrmsr(MSR_GS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);

	GUEST_ASSERT(gs_after == kernel_gs && kernel_gs_after == gs);
	GUEST_ASSERT(cr0_no_wp == (cr0 & ~X86_CR0_WP));
	guest_pass();
}
