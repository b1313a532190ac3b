/* codegen runtime: the Huffman decoder's tables and bit reader, shared by cg_huffman_decode_nocrc_s8 and the
 * kernels that decode their weights while they consume them (cg_fully_connected_huffman_s8). Internal to the
 * runtime: the blob format is docs/huffman-blob.md, the public API cg_huffman.h. */
#ifndef CG_HUFFMAN_TABLES_H
#define CG_HUFFMAN_TABLES_H

#include <stdint.h>

#include "cg_huffman.h"

#define CG_HUF_L CG_HUFFMAN_MAX_CODE_LEN
#define CG_HUF_K CG_HUFFMAN_LIT_BITS
#define CG_HUF_G CG_HUFFMAN_GAP_BITS

typedef struct {
    uint16_t first[CG_HUF_L + 1u];  /* first canonical code of each length */
    uint16_t count[CG_HUF_L + 1u];  /* number of codes of each length */
    uint16_t offset[CG_HUF_L + 1u]; /* index in sorted[] of the first code of each length */
} cg_huf_canon;

/* Lookup entries are (bits to consume << 8) | byte: the int8 value for literals, the gap for gaps;
 * 0 means "not in the lookup table" (a longer code, or no code at all). */
typedef struct {
    uint16_t lit_primary[1u << CG_HUF_K];
    uint16_t gap_primary[1u << CG_HUF_G];
    cg_huf_canon lit;
    cg_huf_canon gap;
    uint8_t lit_sorted[256]; /* symbols in canonical order */
    uint8_t gap_sorted[CG_HUFFMAN_MAX_GAP_SYMBOLS];
} cg_huffman_tables;

typedef char cg_huffman_scratch_is_large_enough[(sizeof(cg_huffman_tables) <= CG_HUFFMAN_SCRATCH_SIZE) ? 1 : -1];

/* A parsed blob: its header fields and, unless CONST, the decoding tables built in the caller's scratch. */
typedef struct {
    cg_huffman_tables *t; /* NULL for CONST blobs */
    const uint8_t *payload;
    const uint8_t *end;
    uint32_t count;
    uint32_t flags;
    uint32_t max_len;
    uint32_t gap_syms; /* 0 without GAPS */
    uint32_t signmag;
    int32_t lit_first;
    int8_t fill;
} cg_huffman_info;

/* Check the header and table of a blob holding `expect_count` elements and build its decoding tables in
 * `scratch` (CG_HUFFMAN_SCRATCH_SIZE bytes, 4-byte aligned). Statuses as cg_huffman_decode_nocrc_s8's. */
cg_status cg_huffman_begin(const uint8_t *blob, uint32_t blob_len, uint32_t expect_count, void *scratch,
                           uint32_t scratch_len, cg_huffman_info *info);

/* Slow paths for codes longer than the lookup tables: a lookup entry ((bits << 8) | byte), 0 for no code. */
uint32_t cg_huffman_search(uint32_t buf, const cg_huf_canon *c, const uint8_t *sorted, uint32_t max_len);
uint32_t cg_huffman_literal_slow(uint32_t buf, const cg_huffman_tables *t, int32_t lit_first, uint32_t signmag,
                                 uint32_t max_len);

static inline int8_t cg_huf_s8(uint32_t byte)
{
    return (int8_t)((int32_t)(byte & 0xFFu) - ((byte & 0x80u) ? 256 : 0));
}

/* Bit reader: `buf` holds the next bits of the payload left-aligned, `cnt` of them valid; bits below the
 * valid ones are either zero or the payload's own next bits (a 4-byte refill may load part of a byte it
 * does not count yet), so OR-ing the same bytes in again is harmless. A refill leaves at least 24 bits.
 * The macros use the locals p, end, buf, cnt, pad, entry, len, t, lit_first, signmag, max_len. */
/* Ensure >= 24 valid bits: one big-endian 4-byte load while 4 payload bytes remain, then byte by byte,
 * then zeros; more zero bytes than a valid stream can use means the stream is damaged. (A macro so that the
 * bit-reader state stays in registers.) */
#define CG_HUF_REFILL()                                                                                   \
    do {                                                                                                  \
        if ((uint32_t)(end - p) >= 4u) {                                                                  \
            buf |= (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3]) >> cnt; \
            p += (31u - cnt) >> 3;                                                                        \
            cnt |= 24u;                                                                                   \
        } else {                                                                                          \
            do {                                                                                          \
                if (p < end) {                                                                            \
                    buf |= (uint32_t)*p++ << (24u - cnt);                                                 \
                } else if (++pad > 4u) {                                                                  \
                    return CG_ERR_CORRUPT;                                                                \
                }                                                                                         \
                cnt += 8u;                                                                                \
            } while (cnt <= 24u);                                                                         \
        }                                                                                                 \
    } while (0)

/* Decode one literal into dst (needs >= 13 valid bits). */
#define CG_HUF_LITERAL(dst)                                                                                  \
    do {                                                                                                  \
        entry = t->lit_primary[buf >> (32u - CG_HUF_K)];                                                  \
        if (entry == 0u) {                                                                                \
            entry = cg_huffman_literal_slow(buf, t, lit_first, signmag, max_len);                         \
            if (entry == 0u) {                                                                            \
                return CG_ERR_CORRUPT;                                                                    \
            }                                                                                             \
        }                                                                                                 \
        len = entry >> 8;                                                                                 \
        buf <<= len;                                                                                      \
        cnt -= len;                                                                                       \
        (dst) = cg_huf_s8(entry);                                                                         \
    } while (0)


#endif /* CG_HUFFMAN_TABLES_H */
