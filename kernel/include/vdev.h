/**
 * @file vdev.h
 * @brief The emulated PC platform of a guest: 8259 PIC pair, 8254 PIT (with
 * port 0x61), 16550A UART, MC146818 CMOS RTC.
 *
 * A guest programs these exactly as it would the real chips; the hypervisor
 * keeps their state per domain and turns "IRQ n fired" into a virtual
 * interrupt the vCPU receives when its (virtual) interrupt flag allows.
 * Every device reads its time from one clock, vpit_clock(), derived from the
 * TSC the guest reads too, so the PIT, the RTC and the guest's TSC agree.
 */
#ifndef HYPATIA_VDEV_H
#define HYPATIA_VDEV_H

#include "types.h"

struct domain;

/** One emulated 8259A (Intel 8259A data sheet): the registers a PC OS uses. */
struct vpic_chip {
	uint8_t irr;         /**< interrupt request register: raised, not yet taken */
	uint8_t isr;         /**< in-service register: taken, not yet EOI'd */
	uint8_t imr;         /**< interrupt mask register (OCW1) */
	uint8_t lines;       /**< input levels last seen (edge detection) */
	uint8_t elcr;        /**< edge/level control register (ports 0x4d0/0x4d1), stored only */
	uint8_t vector_base; /**< ICW2: vector of IRQ 0 of this chip */
	uint8_t init_step;   /**< 0 = ready; 1..3 = expecting ICW2..ICW4 */
	bool icw4_needed;    /**< ICW1 bit 0 */
	bool auto_eoi;       /**< ICW4 bit 1: the acknowledge ends the interrupt too */
	bool read_isr;       /**< OCW3 selected ISR (else IRR) for reads of the command port */
};

/** The master/slave pair; the slave cascades into master IRQ 2. */
struct vpic {
	struct vpic_chip chip[2]; /**< [0] master (ports 0x20/0x21), [1] slave (0xa0/0xa1) */
};

/** One 8254 counter (Intel 8254 data sheet, "Operation"). */
struct vpit_channel {
	uint32_t count;        /**< the count loaded, 1..65536 (a programmed 0 means 65536) */
	uint64_t load_time;    /**< vpit_clock() when counting started */
	uint64_t next_irq;     /**< channel 0: vpit_clock() of the next rising edge of OUT */
	uint8_t mode;          /**< counter mode 0..5 */
	uint8_t access;        /**< 1 LSB only, 2 MSB only, 3 LSB then MSB */
	uint8_t write_lsb;     /**< LSB of a count being written in two bytes */
	bool write_msb_next;   /**< LSB-then-MSB write: the MSB comes next */
	bool read_msb_next;    /**< LSB-then-MSB read: the MSB comes next */
	bool counting;         /**< a count has been loaded since the control word */
	bool bcd;              /**< control word bit 0 (kept for the status byte; counting is binary) */
	bool latched;          /**< a counter-latch command froze @c latch */
	uint16_t latch;        /**< the latched count */
	bool status_latched;   /**< a read-back command froze @c status */
	uint8_t status;        /**< the latched status byte */
};

/** The emulated 8254 and the gate/speaker bits of port 0x61. */
struct vpit {
	struct vpit_channel channel[3]; /**< 0: IRQ 0 timer, 1: (refresh), 2: speaker / calibration */
	bool gate2;                     /**< port 0x61 bit 0: channel 2's gate */
	bool speaker;                   /**< port 0x61 bit 1: speaker data enable */
	uint8_t port61_high;            /**< port 0x61 bits 2-3 as written (parity/IOCHK enables) */
};

/** Bytes the emulated UART's receive FIFO holds (16550A). */
#define VUART_FIFO 16

/** The emulated 16550A on COM1 (National PC16550D data sheet). */
struct vuart {
	uint8_t ier;              /**< interrupt enable */
	uint8_t lcr;              /**< line control (bit 7: DLAB) */
	uint8_t mcr;              /**< modem control (bit 3: OUT2 gates the IRQ; bit 4: loopback) */
	uint8_t scr;              /**< scratch */
	uint8_t fcr;              /**< FIFO control as last written (bit 0: FIFOs on) */
	uint8_t lsr_errors;       /**< overrun error, cleared by reading LSR */
	uint8_t divisor[2];       /**< baud divisor latch */
	bool thr_interrupt;       /**< "THR empty" interrupt pending (cleared by IIR read or THR write) */
	uint8_t rx[VUART_FIFO];   /**< receive FIFO */
	unsigned rx_head;         /**< index of the oldest byte */
	unsigned rx_count;        /**< bytes waiting */
	bool interactive;         /**< the guest listens for input: its output goes out unbuffered */
	bool at_line_start;       /**< interactive output: the next byte starts a line ("[dN] ") */
};

/** The emulated MC146818 CMOS RTC and its 128 bytes (ports 0x70/0x71). */
struct vrtc {
	uint8_t index;      /**< register selected through port 0x70 */
	uint8_t ram[128];   /**< registers A-D and the CMOS bytes; time registers are computed */
	int64_t offset;     /**< seconds to add to the host's time (the guest set the clock) */
};

/** QEMU's fw_cfg interface, traditional flavour (ports 0x510/0x511; kernel/dev/fw_cfg.c). */
struct vfw_cfg {
	uint16_t selector; /**< the item chosen by the last write to port 0x510 */
	uint32_t offset;   /**< the next byte of it that port 0x511 returns */
};
/** fw_cfg selector port (16-bit writes). */
#define FW_CFG_PORT_SELECTOR 0x510
/** fw_cfg data port (byte reads). */
#define FW_CFG_PORT_DATA 0x511
/** fw_cfg port read: the next byte(s) of the selected item (0 past its end or for no item). */
uint32_t vfw_cfg_read(struct domain *d, uint16_t port, unsigned size);
/** fw_cfg port write: a selector write chooses an item and starts at its first byte. */
void vfw_cfg_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);

/** The platform's time base: 8254 input clocks (1.193182 MHz) since the first call, from the TSC. */
uint64_t vpit_clock(void);
/** vpit_clock() at host TSC value @p tsc (0 for a TSC before the clock's origin). */
uint64_t vpit_clock_at(uint64_t tsc);
/** The TSC's rate as the platform clock measured it, Hz: the local APIC's timer counts from it too. */
uint64_t vpit_tsc_hz(void);
/** The 8254's input clock, Hz. */
#define VPIT_HZ 1193182ull

/** Set interrupt request line @p irq (0-15) of @p d's PIC to @p level; a rising edge requests it. */
void vpic_set_irq(struct domain *d, unsigned irq, bool level);
/** A pulse on line @p irq (0-15): requested now (edge-triggered). */
void vpic_raise_irq(struct domain *d, unsigned irq);
/**
 * The vector of the highest-priority interrupt the PIC would deliver now,
 * or -1 if none. Does not acknowledge it.
 */
int vpic_pending_vector(const struct domain *d);
/** The CPU takes the interrupt vpic_pending_vector() named: IRR -> ISR. */
void vpic_acknowledge(struct domain *d);
/** PIC port read (0x20, 0x21, 0xa0, 0xa1). */
uint32_t vpic_read(struct domain *d, uint16_t port, unsigned size);
/** PIC port write. */
void vpic_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);
/** ELCR read (0x4d0, 0x4d1). */
uint32_t vpic_elcr_read(struct domain *d, uint16_t port, unsigned size);
/** ELCR write. */
void vpic_elcr_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);

/** PIT port read (0x40-0x43). */
uint32_t vpit_read(struct domain *d, uint16_t port, unsigned size);
/** PIT port write. */
void vpit_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);
/** Port 0x61 read: gate 2, speaker, refresh toggle, OUT of channel 2. */
uint32_t vpit_port61_read(struct domain *d, uint16_t port, unsigned size);
/** Port 0x61 write: gate 2 and speaker enable. */
void vpit_port61_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);
/** Bring the PIT up to now, raising IRQ 0 if channel 0's output rose. @p now is unused (the PIT keeps its own clock). */
void vpit_update(struct domain *d, uint64_t now);

/** vpit_clock() at which @p d's next unmasked IRQ 0 edge is due, or 0 if none is coming. */
uint64_t vpit_next_interrupt(const struct domain *d);

/** UART port read (0x3f8-0x3ff). */
uint32_t vuart_read(struct domain *d, uint16_t port, unsigned size);
/** UART port write. */
void vuart_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);
/** Move bytes typed on the hypervisor's console into @p d's receive FIFO, if it listens. */
void vuart_poll_input(struct domain *d);

/** End an interactive console's unfinished line, so that the hypervisor's next line starts clean. */
void vuart_end_line(struct domain *d);

/** RTC port read (0x70, 0x71). */
uint32_t vrtc_read(struct domain *d, uint16_t port, unsigned size);
/** RTC port write. */
void vrtc_write(struct domain *d, uint16_t port, unsigned size, uint32_t value);

#endif
