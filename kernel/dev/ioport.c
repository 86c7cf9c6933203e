/*
 * ioport.c — routing guest port I/O to emulated devices.
 *
 * The devices a test guest needs: COM1 (a 16550 UART reduced to what a
 * polling driver uses), the 8259 PIC pair and the 8254 PIT (pic.c, pit.c),
 * QEMU's debug-exit port, and Bochs' shutdown port.
 * Each guest gets its own console (lines are prefixed with its domain id);
 * nothing here touches the real hardware.
 */
#include "domain.h"
#include "ioport.h"
#include "vdev.h"

#define COM1 0x3f8
#define UART_LSR 5
#define LSR_THR_EMPTY 0x20 /* the transmitter can take a byte */
#define LSR_TEMT 0x40      /* and has sent everything */

#define UART_LCR 3
#define LCR_DLAB 0x80 /* ports +0 and +1 are the divisor latch, not data and IER */

static uint32_t uart_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)size;
	if ((d->uart_registers[UART_LCR] & LCR_DLAB) && port - COM1 < 2)
		return d->uart_divisor[port - COM1];
	switch (port - COM1) {
	case 0: /* receive buffer: nothing is ever received */
		return 0;
	case 2: /* interrupt identification: bit 0 set = no interrupt pending */
		return 0x01;
	case UART_LSR:
		/* A polling driver waits for "transmit holding register empty":
		 * say it always is, since the emulated UART sends instantly. */
		return LSR_THR_EMPTY | LSR_TEMT;
	default: /* IER, LCR, MCR, MSR, scratch: what was written */
		return d->uart_registers[port - COM1];
	}
}

static void uart_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	if ((d->uart_registers[UART_LCR] & LCR_DLAB) && port - COM1 < 2)
		d->uart_divisor[port - COM1] = (uint8_t)value; /* a driver setting the baud rate */
	else if (port == COM1) /* the transmit holding register */
		domain_console_putc(d, (char)value);
	else
		d->uart_registers[port - COM1] = (uint8_t)value;
}

/* QEMU's isa-debug-exit: the guest says it is done, with a code. */
static void debug_exit_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)port;
	(void)size;
	domain_exit(d, value);
}

static uint32_t read_nothing(struct domain *d, uint16_t port, unsigned size)
{
	(void)d;
	(void)port;
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void write_nothing(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)d, (void)port, (void)size, (void)value;
}

static const struct ioport_device devices[] = {
	{"uart", COM1, 8, uart_read, uart_write},
	{"pic-master", 0x20, 2, vpic_read, vpic_write},
	{"pic-slave", 0xa0, 2, vpic_read, vpic_write},
	{"pit", 0x40, 4, vpit_read, vpit_write},
	{"debug-exit", 0xf4, 4, read_nothing, debug_exit_write},
	{"bochs-shutdown", 0x8900, 1, read_nothing, write_nothing},
};

static const struct ioport_device *find(uint16_t port)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (port >= devices[i].first && port - devices[i].first < devices[i].count)
			return &devices[i];
	return NULL;
}

uint32_t ioport_read(struct domain *d, uint16_t port, unsigned size)
{
	const struct ioport_device *dev = find(port);
	return dev ? dev->read(d, port, size) : read_nothing(d, port, size);
}

void ioport_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	const struct ioport_device *dev = find(port);
	if (dev)
		dev->write(d, port, size, value);
}
