/*
 * uart.c — an emulated 16550A on COM1 (port 0x3f8, IRQ 4).
 *
 * Eight registers (National PC16550D data sheet, "Register Summary"): the
 * receive buffer / transmit holding register, interrupt enable, interrupt
 * identification / FIFO control, line control, modem control, line status,
 * modem status, scratch; with LCR.DLAB = 1 the first two are the baud
 * divisor. Transmission is instant: a byte written to THR goes to the
 * domain's console and THR is empty again at once.
 *
 * Interrupts, in the data sheet's priority order: receiver line status
 * (overrun), received data available, THR empty, modem status. The THR-empty
 * interrupt is an event, not a level: it is pending when THR becomes empty
 * (or when the guest enables it while THR is empty) and is cleared by
 * reading IIR while it is the one shown, or by writing THR. The IRQ line
 * reaches the PIC only while MCR.OUT2 is set, as on every PC serial card.
 *
 * Input: bytes typed on the hypervisor's own console (COM1 of the machine)
 * go to Dom0's receive FIFO, as on Xen, whether its driver polls or takes
 * the interrupt; without a Dom0, to a domain whose driver enabled the
 * received-data interrupt (vuart_poll_input).
 */
#include "console.h"
#include "domain.h"
#include "vdev.h"

#define COM1 0x3f8
#define IRQ 4

#define IER_RX 0x01     /* received data available */
#define IER_THR 0x02    /* THR empty */
#define IER_LSR 0x04    /* receiver line status */
#define IER_MSR 0x08    /* modem status */
#define IIR_NONE 0x01
#define IIR_MSR 0x00
#define IIR_THR 0x02
#define IIR_RX 0x04
#define IIR_LSR 0x06
#define IIR_FIFO 0xc0   /* FIFOs enabled (16550A) */
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01     /* data ready */
#define LSR_OE 0x02     /* overrun error */
#define LSR_THRE 0x20   /* THR empty */
#define LSR_TEMT 0x40   /* transmitter empty */
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

static uint8_t interrupt_id(const struct vuart *u)
{
	if ((u->ier & IER_LSR) && u->lsr_errors)
		return IIR_LSR;
	if ((u->ier & IER_RX) && u->rx_count)
		return IIR_RX;
	if ((u->ier & IER_THR) && u->thr_interrupt)
		return IIR_THR;
	return IIR_NONE; /* modem status never changes here */
}

/* The IRQ line follows "an interrupt is pending", gated by OUT2 (in loopback
 * OUT2 is looped to DCD instead and the line stays quiet). */
static void update_irq(struct domain *d)
{
	struct vuart *u = &d->uart;
	bool level = interrupt_id(u) != IIR_NONE && (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
	vpic_set_irq(d, IRQ, level);
}

static void receive(struct vuart *u, uint8_t byte)
{
	unsigned capacity = u->fcr & FCR_ENABLE ? VUART_FIFO : 1;
	if (u->rx_count >= capacity) {
		u->lsr_errors |= LSR_OE; /* the byte is lost, as on the chip */
		return;
	}
	u->rx[(u->rx_head + u->rx_count++) % VUART_FIFO] = byte;
}

/* A byte the guest sent. Until its driver listens for input, lines go to
 * the domain's console whole ("[dN] line"); once it does (a shell may print
 * a prompt without a newline), bytes go out as they come, each line still
 * starting with the domain's prefix. */
static void transmit(struct domain *d, uint8_t byte)
{
	struct vuart *u = &d->uart;
	if (!u->interactive) {
		domain_console_putc(d, (char)byte);
		return;
	}
	if (byte == '\r')
		return;
	if (u->at_line_start)
		kprintf("[d%u] ", d->id);
	console_putc((char)byte);
	u->at_line_start = byte == '\n';
}

/* The driver enabled receive interrupts: from now on the console is
 * interactive. A line already half-assembled goes out first. */
static void become_interactive(struct domain *d)
{
	struct vuart *u = &d->uart;
	u->interactive = true;
	u->at_line_start = true;
	for (unsigned i = 0; i < d->console_length; i++)
		transmit(d, (uint8_t)d->console[i]);
	d->console_length = 0;
}

void vuart_end_line(struct domain *d)
{
	if (d->uart.interactive && !d->uart.at_line_start) {
		console_putc('\n');
		d->uart.at_line_start = true;
	}
}

uint32_t vuart_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)size;
	struct vuart *u = &d->uart;
	unsigned reg = port - COM1;
	uint32_t value;
	if ((u->lcr & LCR_DLAB) && reg < 2)
		return u->divisor[reg];
	switch (reg) {
	case 0: /* receive buffer */
		value = 0;
		if (u->rx_count) {
			value = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % VUART_FIFO;
			u->rx_count--;
		}
		break;
	case 1:
		value = u->ier;
		break;
	case 2:
		value = interrupt_id(u);
		if (value == IIR_THR)
			u->thr_interrupt = false; /* reading IIR acknowledges THR empty */
		value |= u->fcr & FCR_ENABLE ? IIR_FIFO : 0;
		break;
	case 3:
		value = u->lcr;
		break;
	case 4:
		value = u->mcr;
		break;
	case 5:
		value = (u->rx_count ? LSR_DR : 0) | u->lsr_errors | LSR_THRE | LSR_TEMT;
		u->lsr_errors = 0;
		break;
	case 6:
		/* Modem status: in loopback the outputs come back (RTS->CTS,
		 * DTR->DSR, OUT1->RI, OUT2->DCD); otherwise a connected modem:
		 * CTS, DSR and DCD high. */
		if (u->mcr & MCR_LOOP)
			value = (u->mcr & MCR_RTS ? 0x10 : 0) | (u->mcr & MCR_DTR ? 0x20 : 0) |
				(u->mcr & MCR_OUT1 ? 0x40 : 0) | (u->mcr & MCR_OUT2 ? 0x80 : 0);
		else
			value = 0xb0;
		break;
	default:
		value = u->scr;
	}
	update_irq(d);
	return value;
}

void vuart_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	struct vuart *u = &d->uart;
	unsigned reg = port - COM1;
	uint8_t v = (uint8_t)value;
	if ((u->lcr & LCR_DLAB) && reg < 2) {
		u->divisor[reg] = v; /* a driver setting the baud rate */
		return;
	}
	switch (reg) {
	case 0: /* transmit holding register: sent at once, so empty again */
		if (u->mcr & MCR_LOOP)
			receive(u, v);
		else
			transmit(d, v);
		u->thr_interrupt = true;
		break;
	case 1:
		/* Enabling the THR-empty interrupt while THR is empty raises it. */
		if ((v & IER_THR) && !(u->ier & IER_THR))
			u->thr_interrupt = true;
		u->ier = v & 0x0f;
		if ((u->ier & IER_RX) && !u->interactive)
			become_interactive(d);
		break;
	case 2:
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		u->fcr = v & 0xc9; /* enable, DMA mode, trigger level */
		break;
	case 3:
		u->lcr = v;
		break;
	case 4:
		u->mcr = v & 0x1f;
		break;
	case 7:
		u->scr = v;
		break;
	}
	update_irq(d);
}

void vuart_poll_input(struct domain *d)
{
	struct vuart *u = &d->uart;
	if (!d->privileged && (!(u->ier & IER_RX) || domain_lookup(0)))
		return; /* the console's input is Dom0's when there is one */
	if (u->mcr & MCR_LOOP)
		return;
	unsigned capacity = u->fcr & FCR_ENABLE ? VUART_FIFO : 1;
	bool got = false;
	int c;
	while (u->rx_count < capacity && (c = console_getc()) >= 0) {
		receive(u, (uint8_t)c);
		got = true;
	}
	if (got)
		update_irq(d);
}
