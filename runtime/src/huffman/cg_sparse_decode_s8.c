/* codegen runtime: expand a sparse weight blob (issue #16) to int8: a bitmap of the non-zero elements
 * (ceil(count / 8) bytes, bit b of byte j = element 8 j + b, least significant bit first) followed by the
 * non-zero values in order. A zero costs its bit and its share of two word stores, a non-zero element a bit
 * search and a byte copy: several times faster than Huffman decoding, for a little more flash.
 * Memory-safe for any input: never reads outside blob[0, blob_len) nor writes outside out[0, out_len). */
#include <string.h>

#include "cg_huffman.h"

static uint32_t cg_sparse_popcount8(uint32_t b)
{
    b = b - ((b >> 1) & 0x55u);
    b = (b & 0x33u) + ((b >> 2) & 0x33u);
    return (b + (b >> 4)) & 0x0Fu;
}

cg_status cg_sparse_decode_s8(const uint8_t *blob, uint32_t blob_len, void *dst, uint32_t out_len)
{
    int8_t *out = (int8_t *)dst;
    const uint32_t nbm = (out_len + 7u) / 8u;
    const uint8_t *v, *vend;
    uint32_t j;
    if (blob == 0 || (out == 0 && out_len != 0u)) {
        return CG_ERR_ARG;
    }
    if (blob_len < nbm) {
        return CG_ERR_CORRUPT;
    }
    v = blob + nbm;
    vend = blob + blob_len;
    for (j = 0; j < nbm; ++j) {
        uint32_t bits = blob[j];
        int8_t *o = out + 8u * j;
        const uint32_t n = out_len - 8u * j < 8u ? out_len - 8u * j : 8u;
        if (n < 8u) {
            if ((bits >> n) != 0u) {
                return CG_ERR_CORRUPT; /* a bit past the last element */
            }
            memset(o, 0, n);
        } else {
            memset(o, 0, 8u);
        }
        if ((uint32_t)(vend - v) < 8u && cg_sparse_popcount8(bits) > (uint32_t)(vend - v)) {
            return CG_ERR_CORRUPT;
        }
        while (bits != 0u) {
            o[__builtin_ctz(bits)] = (int8_t)*v++;
            bits &= bits - 1u;
        }
    }
    return v == vend ? CG_OK : CG_ERR_CORRUPT;
}
