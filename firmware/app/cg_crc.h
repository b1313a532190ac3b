/* codegen firmware: checksums of the serial protocol (docs/protocol.md). */
#ifndef CG_CRC_H
#define CG_CRC_H

#include <stdint.h>

/* CRC-8, polynomial 0x07, initial value 0, no reflection (CRC-8/SMBUS): the header check byte. */
uint8_t cg_crc8_update(uint8_t crc, uint8_t byte);

/* CRC-32 (IEEE 802.3, reflected, as zlib.crc32): start with cg_crc32_begin(), end with cg_crc32_end(). */
static inline uint32_t cg_crc32_begin(void) { return 0xFFFFFFFFu; }
uint32_t cg_crc32_update(uint32_t crc, const uint8_t *buf, uint32_t n);
static inline uint32_t cg_crc32_end(uint32_t crc) { return crc ^ 0xFFFFFFFFu; }

#endif /* CG_CRC_H */
