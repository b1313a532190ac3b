/* codegen runtime: validate the header, the section sizes and the CRC-32 of a Huffman weight blob. */
#include "cg_huffman.h"

static uint32_t cg_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

cg_status cg_huffman_check(const uint8_t *blob, uint32_t blob_len, uint32_t *count)
{
    uint32_t payload_bytes;
    uint32_t table_bytes;
    if (blob == 0) {
        return CG_ERR_ARG;
    }
    if (blob_len < CG_HUFFMAN_HEADER_BYTES || blob[0] != 'C' || blob[1] != 'G' || blob[2] != 'H' ||
        blob[3] != 'F') {
        return CG_ERR_CORRUPT;
    }
    /* The CRC covers everything after its own field, so it is checked before any other field is trusted. */
    if (cg_huffman_crc32(0u, blob + 8, blob_len - 8u) != cg_rd32(blob + 4)) {
        return CG_ERR_CORRUPT;
    }
    if (blob[8] != CG_HUFFMAN_VERSION) {
        return CG_ERR_UNSUPPORTED;
    }
    payload_bytes = cg_rd32(blob + 16);
    table_bytes = (uint32_t)blob[20] | ((uint32_t)blob[21] << 8);
    if (payload_bytes > blob_len - CG_HUFFMAN_HEADER_BYTES ||
        table_bytes != blob_len - CG_HUFFMAN_HEADER_BYTES - payload_bytes) {
        return CG_ERR_CORRUPT;
    }
    if (count != 0) {
        *count = cg_rd32(blob + 12);
    }
    return CG_OK;
}
