/*
 * timer — a periodic timer interrupt under STI/HLT and CLI.
 *
 * The guest programs the PC's own timer hardware, as an OS of the 1990s
 * would: the 8254 PIT channel 0 at 100 Hz in mode 2 (rate generator), and
 * the 8259A PIC pair remapped to vectors 32-47 with only IRQ 0 unmasked
 * (Intel 8254 and 8259A data sheets; OSDev "PIT", "8259 PIC"). Then:
 * 1. STI; HLT until N = 3 + nonce % 5 ticks have been handled: each HLT
 *    returns after exactly one interrupt, so there are N halts;
 * 2. CLI and busy-wait for five timer periods (measured with RDTSC: the
 *    average over the ticks of step 1, so that two ticks a loaded host
 *    delivered close together cannot shrink it), and on, up to 50 periods,
 *    until the PIC shows IRQ 0 requested (IRR bit 0, read with OCW3; QEMU's
 *    PIT runs on the host's clock and may lag): no interrupt may arrive
 *    while IF = 0, and the PIC must hold the request;
 * 3. STI: the held interrupt is delivered at once (SDM Vol. 2B "STI": after
 *    the next instruction), exactly one.
 * The handler acknowledges each interrupt with a non-specific EOI to port
 * 0x20. Deprivileged, every one of these steps traps: CLI/STI keep a
 * virtual IF, HLT blocks the vCPU, the PIT and PIC are emulated, and the
 * interrupt is bounced through the guest's IDT (lab 1, kernel/pv/bounce.c).
 * The pv build does the same through the shared-info page's irq_mask.
 */
#include "guest.h"
#include "x86.h"

#define PIC1_COMMAND 0x20
#define PIC1_DATA 0x21
#define PIC2_COMMAND 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define PIC_READ_IRR 0x0a /* OCW3: the next read of the command port gives IRR */
#define IRQ_BASE 32
#define PIT_CHANNEL0 0x40
#define PIT_COMMAND 0x43
#define PIT_HZ 1193182
#define TIMER_HZ 100

static volatile uint64_t ticks;
static volatile uint64_t first_tick_tsc, last_tick_tsc; /* TSC at the first and the latest tick */
static volatile uint64_t frame_cs, frame_if;

static void on_timer(struct guest_frame *f)
{
	last_tick_tsc = rdtsc();
	if (!ticks)
		first_tick_tsc = last_tick_tsc;
	ticks++;
	frame_cs = f->cs;
	frame_if = (f->rflags & X86_RFLAGS_IF) != 0;
	outb(PIC1_COMMAND, PIC_EOI);
}

/* ICW1-ICW4: edge-triggered, cascaded, vectors 32-39 and 40-47, 8086 mode. */
static void pic_remap(void)
{
	outb(PIC1_COMMAND, 0x11);
	outb(PIC2_COMMAND, 0x11);
	outb(PIC1_DATA, IRQ_BASE);
	outb(PIC2_DATA, IRQ_BASE + 8);
	outb(PIC1_DATA, 0x04); /* the slave hangs on IRQ 2 */
	outb(PIC2_DATA, 0x02); /* its cascade identity */
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xfe); /* IRQ 0 only */
	outb(PIC2_DATA, 0xff);
}

static void pit_start(unsigned hz)
{
	unsigned divisor = (PIT_HZ + hz / 2) / hz;
	outb(PIT_COMMAND, 0x34); /* channel 0, low then high byte, mode 2, binary */
	outb(PIT_CHANNEL0, divisor & 0xff);
	outb(PIT_CHANNEL0, divisor >> 8);
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	uint64_t wanted = 3 + nonce % 5;
	gprintf("timer: nonce=%lu, waiting for %lu ticks\n", nonce, wanted);

	guest_set_handler(IRQ_BASE, on_timer);
	guest_irq_disable();
	pic_remap();
	pit_start(TIMER_HZ);

	/* 1. STI; HLT until enough ticks. */
	uint64_t halts = 0;
	while (ticks < wanted) {
		guest_wait_for_interrupt();
		halts++;
	}
	gprintf("ticks: %lu after %lu halts\n", (uint64_t)ticks, halts);
	gprintf("interrupt frame: cs 0x%lx, if %lu\n", (uint64_t)frame_cs, (uint64_t)frame_if);

	/*
	 * 2. CLI, then wait five periods without interrupts; 3. STI: the one
	 * held interrupt arrives. A second one in the STI window is the PIT's
	 * next edge if the host stalled across it (a busy machine, native or
	 * virtual alike), or a duplicate delivery: the pair is tried again, up
	 * to three times, and only "two" every time counts. A tick during CLI
	 * is never retried.
	 */
	uint64_t period = (last_tick_tsc - first_tick_tsc) / (ticks - 1); /* ticks >= 3 */
	uint64_t during = 0, at_sti = 0;
	uint8_t irr = 0;
	for (int attempt = 0; attempt < 3; attempt++) {
		guest_irq_disable();
		uint64_t before = ticks, start = rdtsc();
		irr = 0;
		for (uint64_t waited = 0; waited < 5 * period || (!(irr & 1) && waited < 50 * period);
		     waited = rdtsc() - start) {
			pause();
			if (waited >= 5 * period) {
				outb(PIC1_COMMAND, PIC_READ_IRR);
				irr = inb(PIC1_COMMAND);
			}
		}
		during = ticks - before;
		outb(PIC1_COMMAND, PIC_READ_IRR);
		irr = inb(PIC1_COMMAND);

		before = ticks;
		guest_irq_enable();
		__asm__ volatile("nop" ::: "memory");
		at_sti = ticks - before;
		guest_irq_disable();
		if (during != 0 || !(irr & 1) || at_sti != 2)
			break;
	}
	gprintf("interrupts disabled for five periods: %lu ticks delivered, irq 0 requested: %s\n",
		during, irr & 1 ? "yes" : "no");
	gprintf("ticks delivered right after sti: %lu\n", at_sti);

	outb(PIC1_DATA, 0xff); /* quiet again */
	if (ticks < wanted || during != 0 || at_sti != 1)
		guest_fail("timer interrupts did not follow the interrupt flag");
	guest_pass();
}
