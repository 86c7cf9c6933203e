/*
 * exceptions — exceptions with and without error codes, each handled by
 * the guest's own IDT and resumed.
 *
 * Natively the CPU delivers each exception through the runtime's IDT.
 * Deprivileged, the CPU delivers it to the *hypervisor*, which must bounce
 * it to the guest's handler with the frame the CPU would have pushed at
 * CPL 0 (lab 1, kernel/pv/bounce.c): SS 0x10, RSP, RFLAGS, CS 0x08, RIP,
 * and an error code where the vector has one (SDM Vol. 3A §6.14.2, Table
 * 6-1). The handler's IRETQ traps and is emulated. Covered:
 * - #DE (DIV by zero; fault: RIP names the DIV), #UD (UD2), #BP (INT3; a
 *   trap: RIP is past it), INT n to a nonce-chosen vector (RIP past it);
 * - #GP with an error code: loading DS with a selector beyond every GDT's
 *   limit, error code = the selector's index and TI (SDM Vol. 3A §6.13);
 * - #PF: a write to 0x40000000 + a nonce-derived page offset, unmapped
 *   both natively (the shim maps the first 1 GiB) and virtualized (a domain
 *   has at most 64 MiB): error code 0x2 (write, not present, supervisor)
 *   and CR2 = the address (SDM Vol. 3A §4.7).
 * Faults are resumed after the faulting instruction through resume_rip,
 * set just before it: Linux's exception tables in miniature.
 */
#include "guest.h"
#include "x86.h"

#define VECTOR_DE 0
#define VECTOR_BP 3
#define VECTOR_UD 6
#define VECTOR_GP 13
#define VECTOR_PF 14

struct seen {
	uint64_t vector, error_code, rip, cs, ss, rflags, cr2;
	int count;
};

/* Set by AT() around the instruction under test: its address, and the
 * address after it (where a fault handler resumes). */
static uint64_t insn_rip, resume_rip;
static volatile struct seen seen;

static void record(struct guest_frame *f)
{
	seen.vector = f->vector;
	seen.error_code = f->error_code;
	seen.rip = f->rip;
	seen.cs = f->cs;
	seen.ss = f->ss;
	seen.rflags = f->rflags;
	seen.count++;
}

/* Faults: RIP names the faulting instruction; continue after it. */
static void on_fault(struct guest_frame *f)
{
	record(f);
	if (f->vector == VECTOR_PF)
		seen.cr2 = read_cr2();
	f->rip = resume_rip;
}

/* Traps (INT3, INT n): RIP is already past the instruction. */
static void on_trap(struct guest_frame *f)
{
	record(f);
}

/* Run the one instruction @insn with insn_rip and resume_rip set around it.
 * Input operands follow; R10 and R11 are scratch. */
#define AT(insn, ...)                                                          \
	__asm__ volatile("leaq 2f(%%rip), %%r10\n\t"                           \
			 "movq %%r10, %[at]\n\t"                               \
			 "leaq 1f(%%rip), %%r11\n\t"                           \
			 "movq %%r11, %[resume]\n"                             \
			 "2: " insn "\n"                                       \
			 "1:"                                                  \
			 : [at] "=m"(insn_rip), [resume] "=m"(resume_rip)      \
			 : __VA_ARGS__                                         \
			 : "r10", "r11", "memory")

/* INT takes its vector as an immediate: 32 stubs `int $0x40+i; ret`, 4
 * bytes apart, so the vector can come from the nonce. */
__asm__(".pushsection .text\n"
	".balign 16\n"
	"int_stubs:\n"
	".set i, 0\n"
	".rept 32\n"
	".org int_stubs + 4 * i, 0xcc\n"
	"int $(0x40 + i)\n"
	"ret\n"
	".set i, i + 1\n"
	".endr\n"
	".popsection");
extern const char int_stubs[];
#define INT_STUB_VECTOR0 0x40

static int failures;

static void report(const char *what, uint64_t expected_vector, uint64_t expected_rip)
{
	bool ok = seen.vector == expected_vector && seen.rip == expected_rip;
	failures += !ok;
	gprintf("%s: vector %lu (%s), error 0x%lx, cs 0x%lx, ss 0x%lx, if %lu, rip %s\n", what,
		seen.vector, guest_vector_name((unsigned)seen.vector), seen.error_code, seen.cs, seen.ss,
		(uint64_t)((seen.rflags & X86_RFLAGS_IF) >> 9), seen.rip == expected_rip ? "as expected" : "WRONG");
	seen.vector = ~0ull; /* so that a missing exception shows next time */
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	gprintf("exceptions: nonce=%lu\n", nonce);
	guest_set_handler(VECTOR_DE, on_fault);
	guest_set_handler(VECTOR_UD, on_fault);
	guest_set_handler(VECTOR_GP, on_fault);
	guest_set_handler(VECTOR_PF, on_fault);
	guest_set_handler(VECTOR_BP, on_trap);

	/* #DE: a nonce-derived dividend, divisor 0 (a fault: never completes). */
	AT("divq %[zero]", [zero] "r"(0ull), "a"(nonce), "d"(0ull));
	report("divide by zero", VECTOR_DE, insn_rip);

	/* #UD. */
	AT("ud2");
	report("ud2", VECTOR_UD, insn_rip);

	/* #BP: INT3 is a trap, the saved RIP is the next instruction. */
	AT("int3");
	report("int3", VECTOR_BP, resume_rip);

	/* INT n, n chosen by the nonce, through its own handler. */
	unsigned n = nonce % 32;
	const char *stub = int_stubs + 4 * n;
	guest_set_handler(INT_STUB_VECTOR0 + n, on_trap);
	__asm__ volatile("call *%0" : : "r"(stub) : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
			 "r10", "r11", "memory");
	char what[32];
	gsnprintf(what, sizeof(what), "int $0x%x", INT_STUB_VECTOR0 + n);
	report(what, INT_STUB_VECTOR0 + n, (uint64_t)(stub + 2));

	/* #GP(selector): a selector past the end of the GDT. */
	uint16_t selector = (uint16_t)(0x400 + 8 * (nonce % 64));
	AT("movw %[sel], %%ds", [sel] "r"(selector));
	report("load ds", VECTOR_GP, insn_rip);
	gprintf("  selector 0x%x, error code 0x%lx\n", selector, seen.error_code);

	/* #PF: a write to an unmapped page. */
	uint64_t address = 0x40000000ull + ((nonce % 4096) << 12) + 8 * (nonce % 512);
	AT("movq $1, (%[p])", [p] "r"(address));
	report("write to an unmapped page", VECTOR_PF, insn_rip);
	gprintf("  cr2 0x%lx (the address written: 0x%lx)\n", seen.cr2, address);

	gprintf("exceptions handled: %d\n", seen.count);
	if (failures)
		guest_fail("%d exceptions arrived with the wrong vector or RIP", failures);
	guest_pass();
}
