/*
 * console.c — the hypervisor's console on COM1.
 *
 * A 16550 UART has eight registers at port base 0x3f8 (PC16550D data sheet,
 * "Register Summary"). We only transmit, polling the Line Status Register's
 * "transmit holding register empty" bit before each byte. Polling is slow
 * but needs no interrupts, so it works from the first instruction to the
 * last panic. Input is polled too (console_getc): the UART's receive FIFO
 * holds what was typed until the hypervisor asks.
 */
#include "console.h"
#include "x86.h"

#define COM1 0x3f8
#define UART_DATA 0        /* transmit/receive buffer (DLAB=0) */
#define UART_IER 1         /* interrupt enable (DLAB=0) */
#define UART_DLL 0         /* divisor latch low (DLAB=1) */
#define UART_DLM 1         /* divisor latch high (DLAB=1) */
#define UART_FCR 2         /* FIFO control */
#define UART_LCR 3         /* line control: word length, DLAB */
#define UART_MCR 4         /* modem control */
#define UART_LSR 5         /* line status */
#define LSR_DATA_READY 0x01 /* a received byte waits in the receive buffer */
#define LSR_THR_EMPTY 0x20 /* transmitter can take a byte */
#define LSR_TX_DONE 0x40   /* transmitter has sent every byte */

void console_init(void)
{
	outb(COM1 + UART_IER, 0x00);   /* no UART interrupts */
	outb(COM1 + UART_LCR, 0x80);   /* DLAB=1: next two ports are the divisor */
	outb(COM1 + UART_DLL, 1);      /* 115200 / 1 = 115200 baud */
	outb(COM1 + UART_DLM, 0);
	outb(COM1 + UART_LCR, 0x03);   /* DLAB=0, 8 data bits, no parity, 1 stop */
	outb(COM1 + UART_FCR, 0xc7);   /* enable and clear FIFOs */
	outb(COM1 + UART_MCR, 0x03);   /* DTR, RTS */
}

static void uart_putc(char c)
{
	/* Bound the wait: a missing UART must not hang the hypervisor. */
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THR_EMPTY); i++)
		;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void console_putc(char c)
{
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

void console_puts(const char *s)
{
	while (*s)
		console_putc(*s++);
}

void console_flush(void)
{
	/* Bochs ends the simulation at the shutdown-port write, QEMU at the
	 * debug-exit write: bytes still in the UART would be lost. */
	for (int i = 0; i < 1000000 && !(inb(COM1 + UART_LSR) & LSR_TX_DONE); i++)
		;
}

int console_getc(void)
{
	uint8_t status = inb(COM1 + UART_LSR);
	/* All-ones: no UART at all (nothing was ever received from nowhere). */
	if (status == 0xff || !(status & LSR_DATA_READY))
		return -1;
	return inb(COM1 + UART_DATA);
}
