/*
 * crc32.c — CRC-32 (crc32.h), a bit at a time: eight shifts per byte, no
 * table. Slow next to zlib's, fast enough for Dom0's frames and save files.
 */
#include "crc32.h"

uint32_t crc32_update(uint32_t crc, const void *data, uint32_t length)
{
	const uint8_t *p = data;
	crc = ~crc;
	for (uint32_t i = 0; i < length; i++) {
		crc ^= p[i];
		for (int bit = 0; bit < 8; bit++)
			crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
	}
	return ~crc;
}
