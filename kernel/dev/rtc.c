/*
 * rtc.c — an emulated MC146818 real-time clock and CMOS RAM (ports 0x70/0x71).
 *
 * Port 0x70 selects one of 128 bytes (bit 7 is the NMI mask on a PC), port
 * 0x71 reads or writes it (Motorola MC146818A data sheet, "Address Map").
 * Bytes 0-9 are the time and date, in BCD or binary and in 12- or 24-hour
 * form as register B says; register A's bit 7, "update in progress", is set
 * during the last 244 us of every second, when the chip would be copying its
 * counters (a reader that waits for it to clear then has 244 us of stable
 * values); register C holds interrupt flags (none are raised here) and
 * register D's bit 7 says the battery is good.
 *
 * The clock starts at the host's date (read once from the machine's own
 * RTC) and runs on vpit_clock(), the time base the PIT and the TSC share.
 * A guest that sets the clock moves only its own.
 */
#include "domain.h"
#include "vdev.h"
#include "x86.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define A_UIP 0x80
#define B_SET 0x80   /* updates stopped while the guest sets the clock */
#define B_BINARY 0x04
#define B_24H 0x02
#define UIP_CLOCKS 291 /* 244 us at 1.193182 MHz */
#define CENTURY 0x32 /* the century byte most PC BIOSes keep */

static int64_t host_epoch = -1;  /* the host's time when first asked, in seconds since 1970 */
static uint64_t host_epoch_clock; /* vpit_clock() then */

/* Days since 1970-01-01 of a civil date (proleptic Gregorian calendar). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

struct civil_time {
	int64_t year;
	unsigned month, day, hour, minute, second, weekday;
};

static struct civil_time civil_from_seconds(int64_t t)
{
	struct civil_time c;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t rest = t - days * 86400;
	c.hour = (unsigned)(rest / 3600), c.minute = (unsigned)(rest / 60 % 60), c.second = (unsigned)(rest % 60);
	c.weekday = (unsigned)((days % 7 + 11) % 7) + 1; /* 1 = Sunday; 1970-01-01 was a Thursday */
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	c.day = doy - (153 * mp + 2) / 5 + 1;
	c.month = mp < 10 ? mp + 3 : mp - 9;
	c.year = (int64_t)yoe + era * 400 + (c.month <= 2);
	return c;
}

static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 15); }
static uint8_t to_bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | v % 10); }

static uint8_t host_cmos(uint8_t index)
{
	outb(0x70, index);
	return inb(0x71);
}

/* Read the machine's RTC once: wait for no update in progress, then read. */
static void read_host_clock(void)
{
	for (int i = 0; i < 100000 && (host_cmos(REG_A) & A_UIP); i++)
		;
	uint8_t b = host_cmos(REG_B);
	unsigned v[6] = {host_cmos(0), host_cmos(2), host_cmos(4), host_cmos(7), host_cmos(8), host_cmos(9)};
	bool pm = v[2] & 0x80;
	v[2] &= 0x7f;
	if (!(b & B_BINARY))
		for (int i = 0; i < 6; i++)
			v[i] = from_bcd((uint8_t)v[i]);
	if (!(b & B_24H))
		v[2] = v[2] % 12 + (pm ? 12 : 0);
	if (v[4] < 1 || v[4] > 12 || v[3] < 1 || v[3] > 31 || v[2] > 23 || v[1] > 59 || v[0] > 59)
		v[0] = v[1] = v[2] = 0, v[3] = v[4] = 1, v[5] = 26; /* no sensible RTC: 2026-01-01 */
	host_epoch = days_from_civil(2000 + v[5], v[4], v[3]) * 86400 + v[2] * 3600 + v[1] * 60 + v[0];
	host_epoch_clock = vpit_clock();
}

/* The guest's time now, in seconds, and where in the second (8254 clocks). */
static int64_t guest_seconds(struct domain *d, uint64_t *fraction)
{
	if (host_epoch < 0)
		read_host_clock();
	uint64_t clocks = vpit_clock() - host_epoch_clock;
	if (fraction)
		*fraction = clocks % VPIT_HZ;
	return host_epoch + (int64_t)(clocks / VPIT_HZ) + d->rtc.offset;
}

static uint8_t encode(const struct vrtc *r, unsigned value)
{
	return r->ram[REG_B] & B_BINARY ? (uint8_t)value : to_bcd(value);
}

static unsigned decode(const struct vrtc *r, uint8_t value)
{
	return r->ram[REG_B] & B_BINARY ? value : from_bcd(value);
}

static uint8_t time_register(struct domain *d, unsigned index)
{
	struct vrtc *r = &d->rtc;
	struct civil_time c = civil_from_seconds(guest_seconds(d, NULL));
	switch (index) {
	case 0: return encode(r, c.second);
	case 2: return encode(r, c.minute);
	case 4:
		if (r->ram[REG_B] & B_24H)
			return encode(r, c.hour);
		return (uint8_t)(encode(r, c.hour % 12 ? c.hour % 12 : 12) | (c.hour >= 12 ? 0x80 : 0));
	case 6: return encode(r, c.weekday);
	case 7: return encode(r, c.day);
	case 8: return encode(r, c.month);
	case 9: return encode(r, (unsigned)(c.year % 100));
	case CENTURY: return encode(r, (unsigned)(c.year / 100));
	}
	return r->ram[index]; /* the alarm bytes 1, 3, 5 */
}

/* The guest writes a date or time field: its clock moves, the host's does not. */
static void set_time_register(struct domain *d, unsigned index, uint8_t value)
{
	struct vrtc *r = &d->rtc;
	int64_t now = guest_seconds(d, NULL);
	struct civil_time c = civil_from_seconds(now);
	unsigned v = decode(r, value & (index == 4 ? 0x7f : 0xff));
	switch (index) {
	case 0: c.second = v % 60; break;
	case 2: c.minute = v % 60; break;
	case 4:
		c.hour = r->ram[REG_B] & B_24H ? v % 24 : v % 12 + (value & 0x80 ? 12 : 0);
		break;
	case 7: c.day = v >= 1 && v <= 31 ? v : c.day; break;
	case 8: c.month = v >= 1 && v <= 12 ? v : c.month; break;
	case 9: c.year = c.year / 100 * 100 + v % 100; break;
	case CENTURY: c.year = (int64_t)(v % 100) * 100 + c.year % 100; break;
	default: return; /* the weekday follows from the date */
	}
	int64_t wanted = days_from_civil(c.year, c.month, c.day) * 86400 + c.hour * 3600 + c.minute * 60 + c.second;
	r->offset += wanted - now;
}

static void power_on(struct vrtc *r)
{
	r->ram[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	r->ram[REG_B] = B_24H;
	r->ram[REG_D] = 0x80;  /* valid RAM and time */
}

uint32_t vrtc_read(struct domain *d, uint16_t port, unsigned size)
{
	(void)size;
	struct vrtc *r = &d->rtc;
	if (!r->ram[REG_D])
		power_on(r);
	if (port == 0x70)
		return 0xff; /* the index register is write-only */
	unsigned index = r->index;
	uint64_t fraction;
	switch (index) {
	case 0: case 2: case 4: case 6: case 7: case 8: case 9: case CENTURY:
		return time_register(d, index);
	case REG_A:
		guest_seconds(d, &fraction);
		return r->ram[REG_A] | (!(r->ram[REG_B] & B_SET) && fraction >= VPIT_HZ - UIP_CLOCKS ? A_UIP : 0);
	case REG_C: { /* reading clears the interrupt flags */
		uint8_t flags = r->ram[REG_C];
		r->ram[REG_C] = 0;
		return flags;
	}
	}
	return r->ram[index];
}

void vrtc_write(struct domain *d, uint16_t port, unsigned size, uint32_t value)
{
	(void)size;
	struct vrtc *r = &d->rtc;
	if (!r->ram[REG_D])
		power_on(r);
	if (port == 0x70) {
		r->index = value & 0x7f; /* bit 7 masks NMI, which guests never get here */
		return;
	}
	uint8_t v = (uint8_t)value;
	switch (r->index) {
	case 0: case 2: case 4: case 6: case 7: case 8: case 9: case CENTURY:
		set_time_register(d, r->index, v);
		break;
	case REG_A:
		r->ram[REG_A] = v & 0x7f; /* UIP is read-only */
		break;
	case REG_C:
	case REG_D:
		break; /* read-only */
	default:
		r->ram[r->index] = v;
	}
}
