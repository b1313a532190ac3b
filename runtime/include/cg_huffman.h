/* codegen runtime: decoder for Huffman-packed int8 weight blobs.
 *
 * Blob format version 1 is specified in docs/huffman-blob.md; the encoder is codegen/compress/huffman.py.
 * Codes are canonical, at most CG_HUFFMAN_MAX_CODE_LEN bits long, packed MSB first. The decoder builds a
 * lookup table in caller-provided scratch; no malloc, no recursion.
 *
 * Every function is memory-safe for arbitrary (adversarial) input: it never reads outside
 * blob[0, blob_len) and never writes outside out[0, out_len) or the scratch. */
#ifndef CG_HUFFMAN_H
#define CG_HUFFMAN_H

#include <stdint.h>

#include "cg_status.h"

#define CG_HUFFMAN_MAGIC "CGHF"
#define CG_HUFFMAN_VERSION 1u
#define CG_HUFFMAN_HEADER_BYTES 24u
#define CG_HUFFMAN_MAX_CODE_LEN 12u   /* longest code the encoder emits and the decoder accepts */
#define CG_HUFFMAN_LIT_BITS 9u        /* literal codes up to this length decode with one table lookup */
#define CG_HUFFMAN_GAP_BITS 7u        /* gap codes up to this length decode with one table lookup */
#define CG_HUFFMAN_MAX_GAP_SYMBOLS 33u /* gaps 0..G-1 plus the escape G, G <= 32 */

/* Header flags (byte 9). */
#define CG_HUFFMAN_FLAG_CONST 0x01u   /* every element equals the fill byte; no table, no payload */
#define CG_HUFFMAN_FLAG_GAPS 0x02u    /* a gap code (number of fill bytes) precedes every literal */
#define CG_HUFFMAN_FLAG_SIGNMAG 0x04u /* literals are magnitudes, each non-zero one followed by a sign bit */

/* Bytes of scratch cg_huffman_decode_s8 needs (4-byte aligned). Same value as
 * cg_huffman_get_scratch_size() and codegen.compress.huffman.SCRATCH_BYTES. */
#define CG_HUFFMAN_SCRATCH_SIZE 1728u

/* Scratch bytes the decoders need; a constant (CG_HUFFMAN_SCRATCH_SIZE). */
uint32_t cg_huffman_get_scratch_size(void);

/* CRC-32 as in zlib/PNG/IEEE 802.3 (reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF).
 * Pass crc = 0 to start; pass the previous result to continue over more data. */
uint32_t cg_huffman_crc32(uint32_t crc, const uint8_t *data, uint32_t len);

/* Validate magic, length fields and CRC of a blob. On CG_OK, *count (if not NULL) is the element count.
 * Returns CG_ERR_ARG for a NULL blob, CG_ERR_CORRUPT for a damaged blob, CG_ERR_UNSUPPORTED for an intact
 * blob of a newer format version. */
cg_status cg_huffman_check(const uint8_t *blob, uint32_t blob_len, uint32_t *count);

/* Decode without verifying the CRC (call cg_huffman_check once beforehand, e.g. at init). Structural checks
 * still run, so damaged input gives CG_ERR_CORRUPT (or a wrong result if only payload bits changed), never
 * an out-of-bounds access. out_len must equal the element count (else CG_ERR_SHAPE); scratch must hold
 * CG_HUFFMAN_SCRATCH_SIZE bytes, 4-byte aligned (else CG_ERR_SCRATCH). */
cg_status cg_huffman_decode_nocrc_s8(const uint8_t *blob, uint32_t blob_len, int8_t *out, uint32_t out_len,
                                     void *scratch, uint32_t scratch_len);

/* cg_huffman_check followed by cg_huffman_decode_nocrc_s8: any corruption gives CG_ERR_CORRUPT. */
cg_status cg_huffman_decode_s8(const uint8_t *blob, uint32_t blob_len, int8_t *out, uint32_t out_len,
                               void *scratch, uint32_t scratch_len);

/* Expand a sparse blob (issue #16: bitmap of the non-zero elements, least significant bit first, then their
 * values; codegen/compress/codec.py sparse_blob) into out_len int8 elements. CG_ERR_CORRUPT if the blob does
 * not hold exactly out_len elements' bitmap and values. */
cg_status cg_sparse_decode_s8(const uint8_t *blob, uint32_t blob_len, void *dst, uint32_t out_len);

#endif /* CG_HUFFMAN_H */
