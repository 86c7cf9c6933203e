/*
 * paging_user — a guest kernel with user processes: the U/S split.
 *
 * Two "processes", each an address space of its own (paging.h) that shares
 * the kernel part (the image, U = 0) and maps, at the same nonce-chosen
 * virtual address U in every process, three pages with U = 1: code (a copy
 * of user_program below), data (a parameter block and a heap, NX) and, two
 * pages up, a stack. The kernel enters a process with user_run() (user.h:
 * IRETQ to CPL 3) and gets control back through its handlers: `int $0x80`
 * is the system call (a gate opened to CPL 3), and #PF / #GP from user mode
 * kill the process.
 *
 * The user program does, by its parameter block's first word:
 *   compute  x = a; b times: x = x * LCG_MUL + LCG_ADD (mod 2^64), store x in
 *            the heap, sum += x >> 33; then report(sum), getpid(),
 *            report(heap[0] ^ pid), exit(sum & 0xff);
 *   or one forbidden thing: read / write / execute a kernel page, read an
 *   unmapped page, execute its own NX data page, CLI, HLT, MOV to CR3,
 *   INT 0x81 (a gate with DPL 0), INT 0x82 (the hypervisor's hypercall
 *   vector: to a user program, just another DPL-0 gate of its kernel),
 *   IRETQ up to the kernel's CS; or an IRETQ within user mode; or a spin
 *   that only the timer interrupt ends.
 * The kernel also takes a user page back (clears U) and flushes it with
 * INVLPG, then with a CR3 reload: the user root must forget it too.
 *
 * Natively the CPU enforces all of it: a user access to a U = 0 page is #PF
 * with error U | P (| W), a privileged instruction #GP(0), INT n through a
 * DPL-0 gate #GP(n * 8 + 2). Under Hypatia (`mode=shadow`) the guest's
 * kernel and user mode both really run at CPL 3, so the U bit of a shadow
 * entry cannot keep its user mode out: the hypervisor keeps two shadow
 * roots and loads the user one while the guest runs in user mode. The
 * kernel touches its secret and the kernel function right before each
 * attack, so a hypervisor with one root would have them mapped — and the
 * access would complete.
 */
#include "guest.h"
#include "paging.h"
#include "user.h"
#include "x86.h"

#define POOL_PAGES 48
static uint8_t pool[POOL_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

#define VECTOR_GP 13
#define VECTOR_PF 14
#define SYSCALL_VECTOR 0x80
#define CLOSED_VECTOR 0x81
#define IRQ_TIMER 32 /* IRQ 0, with the PIC remapped to vectors 32-47 */

/* System calls: RAX = number, RDI = argument, result in RAX. */
#define SYS_EXIT 0
#define SYS_REPORT 1
#define SYS_GETPID 2

/* The user program's operations (first word of its parameter block). */
enum user_op {
	OP_COMPUTE, OP_READ, OP_WRITE, OP_CALL, OP_CLI, OP_HLT, OP_MOV_CR3, OP_INT_CLOSED, OP_INT_HYPERCALL,
	OP_IRET_KERNEL, OP_IRET_USER, OP_SPIN,
};

/* user_run()'s value for a killed process: the vector in the low byte. */
#define KILLED 0x1000

#define HEAP_OFFSET 64 /* the heap follows the parameter block in the data page */
#define LCG_MUL 6364136223846793005ull
#define LCG_ADD 1442695040888963407ull

/*
 * The user program: position-independent, no data of its own, so the kernel
 * can copy it into a process's code page. RDI = its parameter block
 * {op, a, b} in its data page; the heap follows at +64.
 */
extern const char user_program_start[], user_program_end[];
__asm__(".pushsection .text\n"
	".globl user_program_start, user_program_end\n"
	"user_program_start:\n\t"
	"movq %rdi, %r14\n\t"           /* the parameter block */
	"movq 0(%r14), %rax\n\t"
	"movq 8(%r14), %rsi\n\t"
	"movq 16(%r14), %rdx\n\t"
	"cmpq $0, %rax\n\tje 10f\n\t"
	"cmpq $1, %rax\n\tje 20f\n\t"
	"cmpq $2, %rax\n\tje 30f\n\t"
	"cmpq $3, %rax\n\tje 40f\n\t"
	"cmpq $4, %rax\n\tje 50f\n\t"
	"cmpq $5, %rax\n\tje 60f\n\t"
	"cmpq $6, %rax\n\tje 70f\n\t"
	"cmpq $7, %rax\n\tje 80f\n\t"
	"cmpq $8, %rax\n\tje 90f\n\t"
	"cmpq $9, %rax\n\tje 100f\n\t"
	"cmpq $10, %rax\n\tje 110f\n\t"
	"cmpq $11, %rax\n\tje 120f\n\t"
	"jmp 99f\n"
	/* compute: RBX = x, RCX = count, R12 = heap pointer, R13 = sum */
	"10:\n\t"
	"movq %rsi, %rbx\n\t"
	"movq %rdx, %rcx\n\t"
	"leaq 64(%r14), %r12\n\t"
	"xorl %r13d, %r13d\n"
	"11:\n\t"
	"movabsq $6364136223846793005, %r8\n\t"
	"imulq %r8, %rbx\n\t"
	"movabsq $1442695040888963407, %r8\n\t"
	"addq %r8, %rbx\n\t"
	"movq %rbx, (%r12)\n\t"          /* a user write to its own page */
	"addq $8, %r12\n\t"
	"pushq %rbx\n\t"                 /* and to its own stack */
	"popq %r9\n\t"
	"shrq $33, %r9\n\t"
	"addq %r9, %r13\n\t"
	"decq %rcx\n\t"
	"jnz 11b\n\t"
	"movl $1, %eax\n\tmovq %r13, %rdi\n\tint $0x80\n\t"    /* report(sum) */
	"movl $2, %eax\n\tint $0x80\n\t"                        /* getpid() */
	"xorq 64(%r14), %rax\n\t"
	"movq %rax, %rdi\n\tmovl $1, %eax\n\tint $0x80\n\t"    /* report(heap[0] ^ pid) */
	"movq %r13, %rdi\n\tandl $0xff, %edi\n\tmovl $0, %eax\n\tint $0x80\n\t"
	"ud2\n"
	"20:\n\tmovq (%rsi), %rdi\n\tmovl $1, %eax\n\tint $0x80\n\tjmp 99f\n"   /* read, report it */
	"30:\n\tmovq %rdx, (%rsi)\n\tjmp 99f\n"
	"40:\n\tcall *%rsi\n\tjmp 99f\n"
	"50:\n\tcli\n\tjmp 99f\n"
	"60:\n\thlt\n\tjmp 99f\n"
	"70:\n\tmovq %rsi, %cr3\n\tjmp 99f\n"
	"80:\n\tint $0x81\n\tjmp 99f\n"
	"90:\n\tint $0x82\n\tjmp 99f\n"
	/* IRETQ up to the kernel's CS 0x08 (and RIP = a), which must #GP */
	"100:\n\tmovq %rsp, %rax\n\tpushq $0x10\n\tpushq %rax\n\tpushq $0x202\n\t"
	"pushq $0x08\n\tpushq %rsi\n\tiretq\n\tjmp 99f\n"
	/* IRETQ within user mode (USER_SS, USER_CS), then report(a) */
	"110:\n\tmovq %rsp, %rax\n\tpushq $0x1b\n\tpushq %rax\n\tpushq $0x202\n\t"
	"pushq $0x23\n\tleaq 111f(%rip), %rax\n\tpushq %rax\n\tiretq\n"
	"111:\n\tmovq %rsi, %rdi\n\tmovl $1, %eax\n\tint $0x80\n\tjmp 99f\n"
	/* spin until something takes the CPU away */
	"120:\n\tincq %rbx\n\tjmp 120b\n"
	"99:\n\tmovl $0, %eax\n\txorl %edi, %edi\n\tint $0x80\n\tud2\n"
	"user_program_end:\n"
	".popsection");

struct process {
	unsigned pid;
	uint64_t *pml4;
	uint64_t *code, *data, *stack; /* the frames (their addresses are their guest-physical ones) */
};

static struct process procs[2];
static struct process *current;
static uint64_t user_base, nonce;
static volatile uint64_t secret, sink;
static uint64_t secret_value;
static uint64_t syscalls, kills, preemptions, runs, returns_to_user, page_faults;
static uint64_t expected_cr2; /* the address the current attack touches */
static const char *diff_key;  /* set: the kill line may differ natively (QEMU), print it as DIFF */
static int failures;

static const char *yes(bool b)
{
	failures += !b;
	return b ? "yes" : "NO";
}

/* A kernel function: user mode must not be able to run it. */
static __attribute__((noinline)) uint64_t kernel_function(void)
{
	return secret + 1;
}

static uint64_t data_va(void) { return user_base + PAGE_SIZE; }
static uint64_t stack_top(void) { return user_base + 4 * PAGE_SIZE; }

static void syscall_handler(struct guest_frame *f)
{
	if (!user_frame(f))
		guest_fail("int $0x80 from the kernel");
	syscalls++;
	switch (f->rax) {
	case SYS_EXIT:
		user_return(f->rdi & 0xff);
	case SYS_REPORT:
		gprintf("pid %u: report 0x%016lx\n", current->pid, f->rdi);
		f->rax = 0;
		break;
	case SYS_GETPID:
		f->rax = current->pid;
		break;
	default:
		f->rax = (uint64_t)-38;
	}
	returns_to_user++; /* the runtime's IRETQ with this frame */
}

/* #PF and #GP from user mode kill the process; in the kernel they are bugs. */
static void fault_handler(struct guest_frame *f)
{
	if (!user_frame(f))
		guest_fail("%s in the kernel: error 0x%lx at rip 0x%lx", guest_vector_name((unsigned)f->vector),
			   f->error_code, f->rip);
	kills++;
	page_faults += f->vector == VECTOR_PF;
	if (f->vector == VECTOR_PF)
		gprintf("pid %u: #PF error 0x%lx, cr2 matches: %s, killed\n", current->pid, f->error_code,
			yes(read_cr2() == expected_cr2));
	else if (diff_key)
		gprintf("DIFF: %s: pid %u: #GP error 0x%lx, killed\n", diff_key, current->pid, f->error_code);
	else
		gprintf("pid %u: #GP error 0x%lx, killed\n", current->pid, f->error_code);
	user_return(KILLED | f->vector);
}

static void closed_gate_handler(struct guest_frame *f)
{
	guest_fail("int $0x81 from %s reached its DPL-0 gate", user_frame(f) ? "user mode" : "the kernel");
}

static void make_process(struct process *p, unsigned pid)
{
	p->pid = pid;
	p->pml4 = paging_new_space();
	p->code = paging_alloc();
	p->data = paging_alloc();
	p->stack = paging_alloc();
	memcpy(p->code, user_program_start, (size_t)(user_program_end - user_program_start));
	uint64_t nx = PTE_NX;
	if (!paging_map(p->pml4, user_base, (uint64_t)(uintptr_t)p->code, PTE_U) ||
	    !paging_map(p->pml4, data_va(), (uint64_t)(uintptr_t)p->data, PTE_U | PTE_W | nx) ||
	    !paging_map(p->pml4, stack_top() - PAGE_SIZE, (uint64_t)(uintptr_t)p->stack, PTE_U | PTE_W | nx))
		guest_error("cannot map process %u", pid);
}

/* The timer (8254 channel 0 through the 8259, as guests/tests/timer.c
 * programs them): it preempts a process that spins in user mode. */
static void timer_handler(struct guest_frame *f)
{
	outb(0x20, 0x20); /* non-specific EOI */
	if (!user_frame(f))
		return;
	preemptions++;
	gprintf("pid %u: timer interrupt in user mode, frame: user cs %s, if %s; preempted\n", current->pid,
		yes(f->cs == USER_CS), yes(f->rflags & X86_RFLAGS_IF));
	user_return(KILLED | IRQ_TIMER);
}

static void timer_start(void)
{
	static const uint8_t init[][2] = {
		{ 0x20, 0x11 }, { 0xa0, 0x11 }, { 0x21, IRQ_TIMER }, { 0xa1, IRQ_TIMER + 8 }, { 0x21, 0x04 },
		{ 0xa1, 0x02 }, { 0x21, 0x01 }, { 0xa1, 0x01 }, { 0x21, 0xfe }, { 0xa1, 0xff },
		{ 0x43, 0x34 }, { 0x40, (1193182 / 100) & 0xff }, { 0x40, (1193182 / 100) >> 8 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(init); i++)
		outb(init[i][0], init[i][1]);
}

/* Enter process @p with parameter block {op, a, b}; returns what user_run() did.
 * Switching to another process loads its CR3 (a context switch). */
static uint64_t run(struct process *p, enum user_op op, uint64_t a, uint64_t b)
{
	if (current != p)
		paging_load_cr3(p->pml4);
	current = p;
	p->data[0] = op;
	p->data[1] = a;
	p->data[2] = b;
	/* The kernel writes its secret and runs its function right before:
	 * whatever the shadow holds for them must not serve the user. */
	secret = secret_value;
	sink += kernel_function();
	runs++;
	return user_run(user_base, stack_top(), data_va());
}

static void expect_killed(uint64_t r, unsigned vector)
{
	if (r != (KILLED | vector))
		gprintf("  (the process was not killed by %s: it %s 0x%lx)\n", guest_vector_name(vector),
			r & KILLED ? "was killed by vector" : "exited with status", r & ~(uint64_t)KILLED);
	failures += r != (KILLED | vector);
}

static void compute(struct process *p, uint64_t seed, uint64_t count)
{
	uint64_t r = run(p, OP_COMPUTE, seed, count);
	gprintf("pid %u: exited with status %lu\n", p->pid, r);
	/* Its writes landed in its own frame. */
	uint64_t x = seed;
	bool own = true;
	for (uint64_t i = 0; i < count; i++) {
		x = x * LCG_MUL + LCG_ADD;
		own &= p->data[HEAP_OFFSET / 8 + i] == x;
	}
	gprintf("pid %u: its heap frame holds its values: %s\n", p->pid, yes(own));
}

void guest_main(void)
{
	nonce = guest_nonce();
	paging_init(pool, POOL_PAGES);
	user_init();
	user_open_gate(SYSCALL_VECTOR);
	guest_set_handler(SYSCALL_VECTOR, syscall_handler);
	guest_set_handler(CLOSED_VECTOR, closed_gate_handler);
	guest_set_handler(VECTOR_PF, fault_handler);
	guest_set_handler(VECTOR_GP, fault_handler);
	secret_value = nonce * 0x9e3779b97f4a7c15ull;

	/* PML4 slots 1-255 (slot 0 is the kernel part), a nonce-chosen PDPT and
	 * PD entry: U and the pages above it. */
	user_base = paging_address(1 + nonce % 255, (nonce >> 8) % 512, (nonce >> 17) % 512, 0);
	gprintf("user pages at 0x%lx: code, data, stack below 0x%lx\n", user_base, stack_top());
	make_process(&procs[0], 1);
	make_process(&procs[1], 2);

	/* 1. Two processes compute, at the same addresses, each in its own frames. */
	uint64_t seed1 = nonce ^ 0x5851f42d4c957f2dull, seed2 = nonce * 3 + 7;
	uint64_t count1 = 4 + nonce % 13, count2 = 4 + (nonce >> 4) % 13;
	compute(&procs[0], seed1, count1);
	compute(&procs[1], seed2, count2);
	uint64_t x = seed1 * LCG_MUL + LCG_ADD;
	gprintf("pid 1: heap untouched by pid 2: %s\n", yes(procs[0].data[HEAP_OFFSET / 8] == x));

	/* 2. The kernel's pages (U = 0): read, write, execute. */
	struct process *p = &procs[nonce % 2];
	gprintf("pid %u reads a kernel page:\n", p->pid);
	expected_cr2 = (uint64_t)(uintptr_t)&secret;
	expect_killed(run(p, OP_READ, expected_cr2, 0), VECTOR_PF);
	gprintf("pid %u writes a kernel page:\n", p->pid);
	expect_killed(run(p, OP_WRITE, expected_cr2, nonce), VECTOR_PF);
	gprintf("kernel secret unchanged: %s\n", yes(secret == secret_value));
	gprintf("pid %u calls a kernel function:\n", p->pid);
	expected_cr2 = (uint64_t)(uintptr_t)kernel_function;
	expect_killed(run(p, OP_CALL, expected_cr2, 0), VECTOR_PF);

	/* 3. Its own pages: not present, and no-execute. */
	gprintf("pid %u reads an unmapped page of its own:\n", p->pid);
	expected_cr2 = user_base + 2 * PAGE_SIZE + 8 * (nonce % 512);
	expect_killed(run(p, OP_READ, expected_cr2, 0), VECTOR_PF);
	gprintf("pid %u jumps into its no-execute data page:\n", p->pid);
	expected_cr2 = data_va() + HEAP_OFFSET;
	expect_killed(run(p, OP_CALL, expected_cr2, 0), VECTOR_PF);

	/* 4. Privileged instructions and closed gates: #GP to the kernel.

	 * The error code of INT n through a gate whose DPL is too low is
	 * n * 8 + 2 (SDM Vol. 3A §6.13: the gate's index, IDT bit); QEMU 7.2's
	 * TCG gives n * 16 + 2, so those lines are DIFF: lines, checked on
	 * their own by the grader. */
	static const struct { enum user_op op; const char *what; bool diff; } privileged[] = {
		{ OP_CLI, "cli", false }, { OP_HLT, "hlt", false }, { OP_MOV_CR3, "mov to cr3", false },
		{ OP_INT_CLOSED, "int $0x81", true }, { OP_INT_HYPERCALL, "int $0x82", true },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(privileged); i++) {
		struct process *q = &procs[(nonce + i) % 2];
		gprintf("pid %u executes %s:\n", q->pid, privileged[i].what);
		diff_key = privileged[i].diff ? privileged[i].what : NULL;
		expect_killed(run(q, privileged[i].op, (uint64_t)(uintptr_t)q->pml4, 0), VECTOR_GP);
		diff_key = NULL;
	}

	/* 5. IRETQ from user mode: up to the kernel's CS (#GP(0x8)), or within user mode. */
	gprintf("pid %u iretqs to the kernel's code segment:\n", p->pid);
	expect_killed(run(p, OP_IRET_KERNEL, (uint64_t)(uintptr_t)kernel_function, 0), VECTOR_GP);
	gprintf("pid %u iretqs within user mode:\n", p->pid);
	run(p, OP_IRET_USER, nonce ^ 0x1237, 0);

	/* 6. The kernel takes a user page back (U cleared): after INVLPG, and
	 * after a CR3 reload, the user program's first read of its parameter
	 * block faults. */
	uint64_t *pte = paging_leaf(p->pml4, data_va(), NULL);
	p->data[3] = ~nonce;
	run(p, OP_READ, data_va() + 24, 0); /* the page is in use... */
	*pte &= ~PTE_U;
	paging_invlpg(data_va());
	gprintf("pid %u, its data page made kernel-only + invlpg:\n", p->pid);
	expected_cr2 = data_va();
	expect_killed(run(p, OP_COMPUTE, seed1, 3), VECTOR_PF);
	*pte |= PTE_U;
	paging_invlpg(data_va());
	run(p, OP_READ, data_va() + 24, 0);
	*pte &= ~PTE_U;
	paging_load_cr3(p->pml4);
	gprintf("pid %u, its data page made kernel-only + cr3 reload:\n", p->pid);
	expect_killed(run(p, OP_COMPUTE, seed1, 3), VECTOR_PF);
	*pte |= PTE_U;
	paging_invlpg(data_va());

	/* 7. A killed process's address space still works. */
	compute(p, seed1 ^ seed2, 3);

	/* 8. The timer preempts a process spinning in user mode. */
	guest_set_handler(IRQ_TIMER, timer_handler);
	timer_start();
	gprintf("pid %u spins in user mode:\n", p->pid);
	expect_killed(run(p, OP_SPIN, 0, 0), IRQ_TIMER);
	outb(0x21, 0xff); /* quiet again */

	gprintf("system calls: %lu, processes killed: %lu\n", syscalls, kills);
	gprintf("entries into user mode: %lu, into the kernel from user mode: %lu\n", runs + returns_to_user,
		syscalls + kills + preemptions);
	gprintf("cr3 loads: %lu, invlpg: %lu\n", paging_cr3_loads(), paging_invlpgs());
	gprintf("true faults seen: %lu\n", page_faults);
	if (failures)
		guest_fail("%d check(s) failed", failures);
	guest_pass();
}
