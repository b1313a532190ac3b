/* codegen firmware: CRC-8 for frame headers and table-driven CRC-32 for whole frames. */
#include "cg_crc.h"

uint8_t cg_crc8_update(uint8_t crc, uint8_t byte)
{
    crc ^= byte;
    for (int bit = 0; bit < 8; bit++) {
        crc = (uint8_t)((crc & 0x80u) != 0u ? (((uint32_t)crc << 1) ^ 0x07u) : ((uint32_t)crc << 1));
    }
    return crc;
}

/* 16-entry (nibble) table: small in flash, fast enough for a serial link. */
static const uint32_t crc32_nibble[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};

uint32_t cg_crc32_update(uint32_t crc, const uint8_t *buf, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        crc ^= buf[i];
        crc = (crc >> 4) ^ crc32_nibble[crc & 0x0Fu];
        crc = (crc >> 4) ^ crc32_nibble[crc & 0x0Fu];
    }
    return crc;
}
