/*
 * nonvirt — why x86 is not classically virtualizable (Popek and Goldberg
 * 1974; Robin and Irvine 2000), the lesson of lab 1.
 *
 * Some *sensitive* instructions do not trap at CPL 3, so a trap-and-emulate
 * hypervisor never sees them and the guest notices it is not on the bare
 * machine. Each such line starts with `DIFF:`: the grader expects it to
 * differ under the deprivileged `image` build, and checks which ones the
 * paravirtualized `pv` build fixes.
 * - POPF at CPL 3 with IOPL 0 leaves IF alone without a fault (SDM Vol. 2B
 *   "POPF"), and PUSHF shows the real IF — always 1 under Hypatia. So a
 *   guest that restores "interrupts off" with POPF keeps taking them.
 *   The guest uses only guest_irq_*(): CLI/STI/PUSHF/POPF natively and in
 *   `image`; the shared-info irq_mask in `pv`, which is ordinary memory
 *   and cannot be ignored — there these lines equal native.
 * - `mov %cs` shows the real RPL: 3, not the 0 the guest believes in.
 * - SGDT, SIDT, STR at CPL 3 without UMIP (CR4.UMIP, SDM Vol. 3A §2.5)
 *   return the *hypervisor's* registers: its GDT and IDT live in the upper
 *   half. The grader runs this guest with the domain option `umip=0`; with
 *   UMIP on, they trap and are emulated, and match native again.
 */
#include "guest.h"
#include "x86.h"

#define PIC1_COMMAND 0x20
#define PIC1_DATA 0x21
#define PIC2_COMMAND 0xa0
#define PIC2_DATA 0xa1
#define IRQ_BASE 32

static volatile uint64_t ticks;
static volatile uint64_t last_tick_tsc;
/* The longest time between two ticks, the period to wait for: a tick that
 * came late (a busy host) can be followed by one a moment later, so the
 * last interval may be short, but the longest is never under the period. */
static volatile uint64_t longest_period;

static void on_timer(struct guest_frame *f)
{
	(void)f;
	uint64_t now = rdtsc();
	if (ticks++ && now - last_tick_tsc > longest_period)
		longest_period = now - last_tick_tsc;
	last_tick_tsc = now;
	outb(PIC1_COMMAND, 0x20); /* EOI */
}

/* The timer of guests/tests/timer.c: PIC at 32-47, IRQ 0 only, PIT 100 Hz. */
static void timer_start(void)
{
	static const uint8_t pic_init[] = { 0x11, IRQ_BASE, 0x04, 0x01 };
	static const uint8_t pic2_init[] = { 0x11, IRQ_BASE + 8, 0x02, 0x01 };
	for (int i = 0; i < 4; i++) {
		outb(i ? PIC1_DATA : PIC1_COMMAND, pic_init[i]);
		outb(i ? PIC2_DATA : PIC2_COMMAND, pic2_init[i]);
	}
	outb(PIC1_DATA, 0xfe);
	outb(PIC2_DATA, 0xff);
	outb(0x43, 0x34);
	outb(0x40, 11932 & 0xff); /* 1193182 Hz / 100 */
	outb(0x40, 11932 >> 8);
}

void guest_main(void)
{
	uint64_t nonce = guest_nonce();
	gprintf("nonvirt: nonce=%lu\n", nonce);

	/* The interrupt flag, through the platform's operations. */
	guest_set_handler(IRQ_BASE, on_timer);
	guest_irq_disable();
	gprintf("DIFF: interrupts enabled after disabling them: %s\n",
		guest_irqs_enabled() ? "yes" : "no");
	timer_start();
	unsigned long off = guest_irq_save(); /* a saved "interrupts off" */
	uint64_t wanted = 3 + nonce % 3;
	while (ticks < wanted)
		guest_wait_for_interrupt(); /* leaves interrupts on */
	/* At least @wanted: a busy host may deliver two ticks in the last wait. */
	gprintf("ticks with interrupts on: %lu or more\n", wanted);
	guest_irq_restore(off); /* POPF of a state with IF = 0 */
	gprintf("DIFF: interrupts enabled after restoring a saved disabled state: %s\n",
		guest_irqs_enabled() ? "yes" : "no");
	uint64_t period = longest_period, before = ticks, start = rdtsc();
	while (rdtsc() - start < 5 * period)
		pause();
	gprintf("DIFF: timer interrupts taken in the five periods after that: %s\n",
		ticks != before ? "some" : "none");
	guest_irq_disable();
	outb(PIC1_DATA, 0xff);

	/* The privilege level in CS. */
	uint16_t cs = read_cs();
	gprintf("DIFF: cs: 0x%x, rpl %u\n", cs, cs & 3u);

	/* The descriptor-table registers, compared with what the runtime loaded. */
	struct x86_desc_ptr gdtr, idtr, loaded_gdtr, loaded_idtr;
	guest_arch_tables(&loaded_gdtr, &loaded_idtr);
	sgdt(&gdtr);
	sidt(&idtr);
	gprintf("DIFF: sgdt: base bits 63-48 0x%04lx, as loaded: %s\n", gdtr.base >> 48,
		gdtr.base == loaded_gdtr.base && gdtr.limit == loaded_gdtr.limit ? "yes" : "no");
	gprintf("DIFF: sidt: base bits 63-48 0x%04lx, as loaded: %s\n", idtr.base >> 48,
		idtr.base == loaded_idtr.base && idtr.limit == loaded_idtr.limit ? "yes" : "no");
	gprintf("DIFF: str: 0x%x\n", str());

	/* Nothing here can fail: the grader judges the lines. */
	guest_pass();
}
