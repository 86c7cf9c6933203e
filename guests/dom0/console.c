/*
 * console.c — reading what is typed on Dom0's console (COM1, 16550 UART).
 *
 * Dom0 polls the line status register for a received byte (LSR bit 0, "data
 * ready"; 16550 data sheet, register 5) and echoes what it takes, as a
 * terminal in cooked mode would: backspace erases, Enter ends the line.
 */
#include "dom0.h"
#include "xc.h"
#include "x86.h"

#define COM1 0x3f8
#define UART_LSR 5
#define LSR_DATA_READY 0x01

static char console_getc(void)
{
	/* Under the hypervisor, the wait is the other domains' time. */
	while (!(inb(COM1 + UART_LSR) & LSR_DATA_READY)) {
		if (xc_on_xen)
			xc_yield();
		else
			__asm__ volatile("pause");
	}
	return (char)inb(COM1);
}

int console_read_line(char *line, int size)
{
	int n = 0;
	for (;;) {
		char c = console_getc();
		if (c == '\r' || c == '\n') {
			gputc('\n');
			line[n] = '\0';
			return n;
		}
		if (c == 0x7f || c == 0x08) { /* DEL or backspace */
			if (n > 0) {
				n--;
				gputs("\b \b");
			}
			continue;
		}
		if ((unsigned char)c < 0x20 || n + 1 >= size)
			continue; /* control characters and overlong lines are dropped */
		line[n++] = c;
		gputc(c);
	}
}
