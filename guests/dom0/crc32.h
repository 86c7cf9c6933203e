/**
 * @file crc32.h
 * @brief CRC-32 as Ethernet and zlib compute it (IEEE 802.3: reflected, polynomial 0xEDB88320).
 */
#ifndef DOM0_CRC32_H
#define DOM0_CRC32_H

#include <stdint.h>

/** The CRC-32 of @p length bytes, continuing from @p crc (0 to start). */
uint32_t crc32_update(uint32_t crc, const void *data, uint32_t length);

#endif
