/*
 * ioport.c — routing guest port I/O to emulated devices.
 *
 * The PC platform a guest sees: COM1 (a 16550A, uart.c), the 8259 PIC pair
 * with its edge/level registers (pic.c), the 8254 PIT and port 0x61
 * (pit.c), the CMOS RTC (rtc.c), QEMU's fw_cfg (fw_cfg.c), QEMU's debug-exit port and Bochs' shutdown
 * port. Every other port reads all-ones and ignores writes, like an ISA bus
 * with nothing on it.
 * Each guest gets its own console (lines are prefixed with its domain id);
 * nothing here touches the real hardware — except Dom0's disk, whose ports
 * are passed through to Dom0 alone (ioport_passed_through).
 */
#include "domain.h"
#include "ioport.h"
#include "vdev.h"
#include "x86.h"

#define COM1 0x3f8

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
	{"uart", COM1, 8, vuart_read, vuart_write},
	{"pic-master", 0x20, 2, vpic_read, vpic_write},
	{"pic-slave", 0xa0, 2, vpic_read, vpic_write},
	{"pic-elcr", 0x4d0, 2, vpic_elcr_read, vpic_elcr_write},
	{"pit", 0x40, 4, vpit_read, vpit_write},
	{"system-control", 0x61, 1, vpit_port61_read, vpit_port61_write},
	{"rtc", 0x70, 2, vrtc_read, vrtc_write},
	{"fw_cfg", FW_CFG_PORT_SELECTOR, 2, vfw_cfg_read, vfw_cfg_write},
	{"debug-exit", 0xf4, 4, read_nothing, debug_exit_write},
	{"bochs-shutdown", 0x8900, 1, read_nothing, write_nothing},
};

/* Dom0's disk (DESIGN §10): the primary ATA channel, its command block
 * 0x1f0-0x1f7 and its device control / alternate status register 0x3f6. */
static const struct {
	uint16_t first, count;
} passed_through[] = {{0x1f0, 8}, {0x3f6, 1}};

bool ioport_passed_through(const struct domain *d, uint16_t port)
{
	for (size_t i = 0; d->privileged && i < ARRAY_SIZE(passed_through); i++)
		if (port >= passed_through[i].first && port - passed_through[i].first < passed_through[i].count)
			return true;
	return false;
}

void ioport_open_passthrough(uint8_t *bitmap)
{
	for (size_t i = 0; i < ARRAY_SIZE(passed_through); i++)
		for (unsigned port = passed_through[i].first; port < passed_through[i].first + passed_through[i].count;
		     port++)
			bitmap[port / 8] &= (uint8_t)~(1u << (port % 8));
}

static const struct ioport_device *find(uint16_t port)
{
	for (size_t i = 0; i < ARRAY_SIZE(devices); i++)
		if (port >= devices[i].first && port - devices[i].first < devices[i].count)
			return &devices[i];
	return NULL;
}

uint32_t ioport_read(struct domain *d, uint16_t port, unsigned size)
{
	/* A PV Dom0's disk accesses trap; an HVM Dom0's never exit (svm.c, vmx.c). */
	if (ioport_passed_through(d, port))
		return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
	const struct ioport_device *dev = find(port);
	return dev ? dev->read(d, port, size) : read_nothing(d, port, size);
}

void ioport_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	if (ioport_passed_through(d, port)) {
		if (size == 1)
			outb(port, (uint8_t)value);
		else if (size == 2)
			outw(port, (uint16_t)value);
		else
			outl(port, value);
		return;
	}
	const struct ioport_device *dev = find(port);
	if (dev)
		dev->write(d, port, size, value);
}
