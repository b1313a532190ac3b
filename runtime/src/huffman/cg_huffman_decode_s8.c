/* codegen runtime: decode a Huffman weight blob to int8 after verifying its CRC-32. */
#include "cg_huffman.h"

cg_status cg_huffman_decode_s8(const uint8_t *blob, uint32_t blob_len, int8_t *out, uint32_t out_len,
                               void *scratch, uint32_t scratch_len)
{
    cg_status status = cg_huffman_check(blob, blob_len, 0);
    if (status != CG_OK) {
        return status;
    }
    return cg_huffman_decode_nocrc_s8(blob, blob_len, out, out_len, scratch, scratch_len);
}
