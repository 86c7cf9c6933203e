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
 * For tests that run code in user mode (user.c), arch_enable_user_mode()
 * extends the GDT with user segments and a TSS, and arch_set_gate_dpl()
 * opens a gate to CPL 3; until then the GDT has only the three entries
 * above, so tests that print or copy it see what they always saw.
 *
 * The segment registers are not reloaded after LGDT: the new GDT has the
 * layout the native shim (and the hypervisor's virtual CPU) already use, so
 * the selectors in CS and SS stay valid, and a deprivileged guest could not
 * load them anyway (MOV to DS at CPL 3 checks the hypervisor's GDT).
 */
#include "guest.h"
#include "internal.h"
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
#define IDT_DPL_SHIFT 5
#define GDT_KERNEL_ENTRIES 3    /* what LGDT covers until user mode is enabled */

/*
 * Long mode ignores base and limit of code and data segments; what matters
 * is L = 1 and D = 0 in the code descriptor (SDM Vol. 3A §5.2.1; AMD APM
 * Vol. 2 §4.8.1). The accessed bits are preset, so the CPU never writes here.
 */
static uint64_t gdt[7] __attribute__((aligned(16))) = {
	0,                     /* 0x00: the null descriptor */
	0x00af9b000000ffffull, /* 0x08: code, DPL 0, L = 1, present */
	0x00cf93000000ffffull, /* 0x10: data, DPL 0, writable, present */
	/* User mode (arch_enable_user_mode): data before code, the layout
	 * SYSRET expects (STAR[63:48] = 0x10: SS = 0x18|3, CS = 0x20|3). */
	0x00cff3000000ffffull, /* 0x18: data, DPL 3, writable, present (SS 0x1b) */
	0x00affb000000ffffull, /* 0x20: code, DPL 3, L = 1, present (CS 0x23) */
	0, 0,                  /* 0x28: the TSS, a 16-byte system descriptor */
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
	gdtr = (struct x86_desc_ptr){ GDT_KERNEL_ENTRIES * 8 - 1, (uint64_t)(uintptr_t)gdt };
	idtr = (struct x86_desc_ptr){ sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	lgdt(&gdtr);
	lidt(&idtr);
}

/*
 * A 64-bit TSS descriptor (SDM Vol. 3A §8.2.3, Figure 8-4): base split over
 * bits 16-39 and 56-63 of the first quadword and all of the second's low
 * half; type 9 = available 64-bit TSS (LTR makes it 0xB, busy); P = 1.
 */
void arch_enable_user_mode(uint64_t tss_base, uint32_t tss_limit)
{
	gdt[5] = (tss_limit & 0xffff) | (tss_base & 0xffffff) << 16 | 0x89ull << 40 |
		 (uint64_t)((tss_limit >> 16) & 0xf) << 48 | ((tss_base >> 24) & 0xff) << 56;
	gdt[6] = tss_base >> 32;
	gdtr.limit = sizeof(gdt) - 1;
	lgdt(&gdtr);
}

void arch_set_gate_dpl(unsigned vector, unsigned dpl)
{
	if (vector < ARRAY_SIZE(idt))
		idt[vector].type_attr = (uint8_t)((IDT_INTERRUPT_GATE & ~(3u << IDT_DPL_SHIFT)) | (dpl & 3) << IDT_DPL_SHIFT);
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
