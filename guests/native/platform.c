/*
 * platform.c — the native platform: real (or fully emulated) PC hardware.
 *
 * Console: the 16550 UART COM1 at I/O port 0x3f8, polled, 115200 8N1.
 * Exit: QEMU's isa-debug-exit device at port 0xf4 (QEMU exits with status
 * (value << 1) | 1), then Bochs' shutdown port 0x8900, then a halt loop for
 * anything else (a real PC, a hypervisor without either device).
 */
#include "guest.h"
#include "platform.h"
#include "x86.h"

#define COM1 0x3f8
/* 16550 registers, as offsets from the base port (PC16550D data sheet,
 * "Register Description"; OSDev "Serial Ports"). */
#define UART_DATA 0        /* THR on write; with LCR.DLAB = 1: divisor low byte */
#define UART_IER 1         /* interrupt enable; with DLAB: divisor high byte */
#define UART_FCR 2         /* FIFO control */
#define UART_LCR 3         /* line control: word length, parity, stop bits, DLAB */
#define UART_MCR 4         /* modem control */
#define UART_LSR 5         /* line status */
#define LCR_DLAB 0x80      /* divisor latch access */
#define LCR_8N1 0x03       /* 8 data bits, no parity, 1 stop bit */
#define FCR_ENABLE_CLEAR 0xc7 /* enable and clear both FIFOs, 14-byte trigger */
#define MCR_DTR_RTS 0x03   /* OUT2 stays 0: the UART raises no interrupts */
#define LSR_THR_EMPTY 0x20 /* the transmit holding register can take a byte */
#define LSR_TX_IDLE 0x40   /* TEMT: holding and shift registers both empty */
/* The UART's clock is 1.8432 MHz / 16 = 115200 baud for divisor 1. */
#define BAUD_DIVISOR 1

/* The two 8259A PICs' data ports: writing the interrupt mask register. */
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

#define DEBUG_EXIT_PORT 0xf4
#define BOCHS_SHUTDOWN_PORT 0x8900

const char *platform_name(void)
{
	return "native";
}

void platform_init(void)
{
	/*
	 * The BIOS leaves the 8259 timer (IRQ 0) unmasked, and it is still
	 * mapped to vector 8 (#DF's vector) as in real mode. A test that
	 * executes `sti` must not see it, so mask every legacy IRQ.
	 */
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);

	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, BAUD_DIVISOR & 0xff);
	outb(COM1 + UART_IER, BAUD_DIVISOR >> 8);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

void platform_putc(char c)
{
	/* Wait for room, but not forever: without a UART the LSR reads 0xff
	 * (no device answers) and we must not hang here either. */
	for (int spins = 0; spins < 100000; spins++) {
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
		pause();
	}
	outb(COM1 + UART_DATA, (uint8_t)c);
}

/* Wait (boundedly) until the UART has sent its last bit. */
static void uart_drain(void)
{
	for (int spins = 0; spins < 1000000; spins++) {
		if (inb(COM1 + UART_LSR) & LSR_TX_IDLE)
			return;
		pause();
	}
}

GUEST_NORETURN void platform_exit(enum guest_exit_code code)
{
	/*
	 * "Transmit holding register empty" only means the UART took the
	 * byte; it may still be shifting out the last one or two. Bochs
	 * ends the simulation at once on the shutdown port and loses them
	 * ("RESULT: PAS"), so wait for the transmitter to go idle first.
	 */
	uart_drain();
	outl(DEBUG_EXIT_PORT, code);
	/* Still here: not QEMU with isa-debug-exit. Try Bochs. */
	for (const char *p = "Shutdown"; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	for (;;) {
		cli();
		hlt();
	}
}

/* The interrupt flag: the real one, guests/lib/irq_flags.c. */
