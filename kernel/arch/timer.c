/*
 * timer.c — the hypervisor's periodic tick.
 *
 * The 8254 PIT's channel 0 counts down from a divisor at 1.193182 MHz and
 * raises IRQ 0 each time it wraps (mode 2, "rate generator"; Intel 8254 data
 * sheet). IRQ 0 reaches the CPU through the master 8259 PIC, which the BIOS
 * left sending IRQs 0-7 on vectors 8-15 — the same vectors as CPU
 * exceptions — so we first remap the PICs to vectors 32-47 (8259A data
 * sheet, ICW1-ICW4) and mask everything but the timer.
 *
 * A LAPIC timer would serve SMP better; the PIT is on every PC that QEMU and
 * Bochs emulate and needs no calibration, which is what lab 0 wants.
 */
#include "panic.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

#define PIC1_COMMAND 0x20
#define PIC1_DATA 0x21
#define PIC2_COMMAND 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define PIT_CHANNEL0 0x40
#define PIT_COMMAND 0x43
#define PIT_FREQUENCY 1193182

static volatile uint64_t ticks;

static void pic_remap(void)
{
	outb(PIC1_COMMAND, 0x11);         /* ICW1: edge triggered, cascade, ICW4 follows */
	outb(PIC2_COMMAND, 0x11);
	outb(PIC1_DATA, VEC_IRQ_BASE);     /* ICW2: vector base */
	outb(PIC2_DATA, VEC_IRQ_BASE + 8);
	outb(PIC1_DATA, 0x04);             /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 0x02);             /* ICW3: slave identity 2 */
	outb(PIC1_DATA, 0x01);             /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xfe);             /* mask all but IRQ 0 */
	outb(PIC2_DATA, 0xff);
}

static void timer_interrupt(struct trap_frame *frame)
{
	(void)frame;
	ticks++;
	outb(PIC1_COMMAND, PIC_EOI);
}

/* Spurious IRQ 7 / 15 happen when an IRQ line drops before the CPU takes it;
 * they must not be acknowledged as real IRQs (8259A data sheet). */
static void spurious_interrupt(struct trap_frame *frame)
{
	if (frame->vector == VEC_IRQ_BASE + 15)
		outb(PIC1_COMMAND, PIC_EOI);
}

void timer_init(void)
{
	pic_remap();
	trap_set_handler(VEC_TIMER, timer_interrupt);
	trap_set_handler(VEC_IRQ_BASE + 7, spurious_interrupt);
	trap_set_handler(VEC_IRQ_BASE + 15, spurious_interrupt);
	uint16_t divisor = PIT_FREQUENCY / TIMER_HZ;
	outb(PIT_COMMAND, 0x34);           /* channel 0, lobyte/hibyte, mode 2 */
	outb(PIT_CHANNEL0, divisor & 0xff);
	outb(PIT_CHANNEL0, divisor >> 8);
}

uint64_t timer_ticks(void)
{
	return ticks;
}

void timer_wait_ticks(uint64_t n)
{
	uint64_t target = ticks + n;
	uint64_t flags = read_rflags();
	while (ticks < target)
		sti_hlt();
	if (!(flags & RFLAGS_IF))
		cli();
}
