/*
 * arch.c — the guest's own GDT and IDT, the same in every build.
 *
 * At start-up the runtime loads a GDT with the native shim's layout (null,
 * 0x08 64-bit code, 0x10 data) and a 256-entry IDT of interrupt gates, one
 * stub per vector (vectors.S). Natively these are real; in the `image` and
 * `pv` builds LGDT and LIDT trap (CPL 3 may not load them) and the
 * hypervisor remembers the tables in its virtual CPU, then delivers the
 * guest's exceptions and interrupts through this IDT (lab 1). A correct
 * hypervisor makes every handler below run exactly as it does natively.
 *
 * The segment registers are not reloaded after LGDT: the new GDT has the
 * layout the native shim (and the hypervisor's virtual CPU) already use, so
 * the selectors in CS and SS stay valid, and a deprivileged guest could not
 * load them anyway (MOV to DS at CPL 3 checks the hypervisor's GDT).
 */
#include "guest.h"
#include "platform.h"
#include "x86.h"

#define GDT_CODE64 0x08

/* A 64-bit IDT gate descriptor (SDM Vol. 3A §6.14.1, Figure 6-8). */
struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;   /* code segment to run the handler in */
	uint8_t ist;         /* 0: stay on the current stack */
	uint8_t type_attr;   /* P = 1, DPL = 0, type 0xE = 64-bit interrupt gate */
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

#define IDT_INTERRUPT_GATE 0x8e /* present, DPL 0, interrupt gate: clears IF */

/*
 * Long mode ignores base and limit of code and data segments; what matters
 * is L = 1 and D = 0 in the code descriptor (SDM Vol. 3A §5.2.1; AMD APM
 * Vol. 2 §4.8.1). The accessed bits are preset, so the CPU never writes here.
 */
static const uint64_t gdt[3] __attribute__((aligned(16))) = {
	0,                     /* 0x00: the null descriptor */
	0x00af9b000000ffffull, /* 0x08: code, DPL 0, L = 1, present */
	0x00cf93000000ffffull, /* 0x10: data, DPL 0, writable, present */
};

static struct idt_gate idt[256] __attribute__((aligned(16)));
static guest_handler_t handlers[256];
static struct x86_desc_ptr gdtr, idtr;

extern const char guest_vector_stubs[];

/* Mnemonics of the architectural exceptions (SDM Vol. 3A Table 6-1, AMD APM
 * Vol. 2 §8.2). */
static const char *const exception_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
	"#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "reserved",
	"#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "reserved", "reserved",
	"reserved", "reserved", "reserved", "reserved", "#HV", "#VC", "#SX", "reserved",
};

const char *guest_vector_name(unsigned vector)
{
	if (vector < 32)
		return exception_names[vector];
	return vector < 48 ? "IRQ" : "INT";
}

void arch_init(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	for (unsigned v = 0; v < 256; v++) {
		uint64_t stub = (uint64_t)(uintptr_t)(guest_vector_stubs + 16 * v);
		idt[v] = (struct idt_gate){
			.offset_low = stub & 0xffff,
			.selector = GDT_CODE64,
			.type_attr = IDT_INTERRUPT_GATE,
			.offset_mid = (stub >> 16) & 0xffff,
			.offset_high = stub >> 32,
		};
	}
	gdtr = (struct x86_desc_ptr){ sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
	idtr = (struct x86_desc_ptr){ sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	lgdt(&gdtr);
	lidt(&idtr);
}

void guest_arch_tables(void *gdtr_out, void *idtr_out)
{
	if (gdtr_out)
		memcpy(gdtr_out, &gdtr, sizeof(gdtr));
	if (idtr_out)
		memcpy(idtr_out, &idtr, sizeof(idtr));
}

void guest_set_handler(unsigned vector, guest_handler_t handler)
{
	if (vector < ARRAY_SIZE(handlers))
		handlers[vector] = handler;
}

/* Nobody asked for this one: report it as a crash, registers first, so that
 * the GUEST EXCEPTION line is the last one (where the grader looks). */
static GUEST_NORETURN void unexpected(const struct guest_frame *f)
{
	static bool inside;

	/* A fault while reporting a fault: do not loop, just stop. */
	if (inside)
		guest_exit(GUEST_EXIT_PANIC);
	inside = true;
	gstart_line();
	gprintf("  rax=0x%016lx rbx=0x%016lx rcx=0x%016lx rdx=0x%016lx\n",
		f->rax, f->rbx, f->rcx, f->rdx);
	gprintf("  rsi=0x%016lx rdi=0x%016lx rbp=0x%016lx rsp=0x%016lx\n",
		f->rsi, f->rdi, f->rbp, f->rsp);
	gprintf("  rflags=0x%lx cs=0x%lx ss=0x%lx\n", f->rflags, f->cs, f->ss);
	gprintf("GUEST EXCEPTION: vector=%lu (%s) error=0x%lx rip=0x%lx",
		f->vector, guest_vector_name((unsigned)f->vector), f->error_code, f->rip);
	/* CR2 only means something after a #PF (and reading it traps under
	 * the deprivileged backend, so do not ask needlessly). */
	if (f->vector == 14)
		gprintf(" cr2=0x%lx", read_cr2());
	gputc('\n');
	guest_exit(GUEST_EXIT_PANIC);
}

void guest_trap(struct guest_frame *frame);

void guest_trap(struct guest_frame *frame)
{
	guest_handler_t handler = handlers[frame->vector & 0xff];
	if (!handler)
		unexpected(frame);
	handler(frame);
}
