/* codegen runtime: decode a Huffman weight blob (docs/huffman-blob.md) to int8, without the CRC check.
 *
 * Decoding tables live in the caller's scratch: a CG_HUFFMAN_LIT_BITS-bit lookup table whose entries hold
 * the finished int8 value (sign bit included) and the number of bits to consume, a CG_HUFFMAN_GAP_BITS-bit
 * one for gap codes, and canonical first-code tables for the rare codes too long for the lookup.
 * The tables and the bit reader are in cg_huffman_tables.h. */
#include "cg_huffman_tables.h"

static uint32_t cg_huf_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint32_t cg_huf_nibble(const uint8_t *lengths, uint32_t i)
{
    uint8_t b = lengths[i >> 1];
    return (i & 1u) ? (uint32_t)(b & 0x0Fu) : (uint32_t)(b >> 4);
}

/* Canonical code of symbols [0, n) whose lengths start at nibble `at`; 0 if they are no prefix code. */
static int cg_huf_canonical(cg_huf_canon *c, uint8_t *sorted, const uint8_t *lengths, uint32_t at, uint32_t n,
                            uint32_t max_len)
{
    uint16_t next[CG_HUF_L + 1u];
    int32_t left = 1;
    uint32_t code = 0;
    uint32_t off = 0;
    uint32_t s;
    uint32_t l;
    for (l = 0; l <= CG_HUF_L; ++l) {
        c->count[l] = 0;
    }
    for (s = 0; s < n; ++s) {
        uint32_t len = cg_huf_nibble(lengths, at + s);
        if (len > max_len) {
            return 0;
        }
        c->count[len]++;
    }
    for (l = 1; l <= CG_HUF_L; ++l) {
        left = left * 2 - (int32_t)c->count[l];
        if (left < 0) {
            return 0; /* over-subscribed */
        }
        c->first[l] = (uint16_t)code;
        c->offset[l] = (uint16_t)off;
        next[l] = (uint16_t)off;
        code = (code + c->count[l]) << 1;
        off += c->count[l];
    }
    for (s = 0; s < n; ++s) {
        uint32_t len = cg_huf_nibble(lengths, at + s);
        if (len != 0u) {
            sorted[next[len]++] = (uint8_t)s;
        }
    }
    return 1;
}

/* Point every kbits-bit pattern that starts with `code` (len bits, len <= kbits) at `entry`. */
static void cg_huf_fill(uint16_t *primary, uint32_t kbits, uint32_t code, uint32_t len, uint32_t entry)
{
    uint32_t i;
    uint32_t n = 1u << (kbits - len);
    uint16_t *dst = primary + (code << (kbits - len));
    for (i = 0; i < n; ++i) {
        dst[i] = (uint16_t)entry;
    }
}

static void cg_huf_fill_literals(cg_huffman_tables *t, int32_t lit_first, uint32_t signmag)
{
    uint32_t l;
    uint32_t i;
    for (i = 0; i < (1u << CG_HUF_K); ++i) {
        t->lit_primary[i] = 0;
    }
    for (l = 1; l <= CG_HUF_K; ++l) {
        for (i = 0; i < t->lit.count[l]; ++i) {
            uint32_t code = (uint32_t)t->lit.first[l] + i;
            int32_t v = lit_first + (int32_t)t->lit_sorted[t->lit.offset[l] + i];
            if (!signmag || v == 0) {
                cg_huf_fill(t->lit_primary, CG_HUF_K, code, l, (l << 8) | ((uint32_t)v & 0xFFu));
            } else if (l + 1u <= CG_HUF_K) {
                if (v <= 127) { /* magnitude 128 has no positive value: leave it to the checked slow path */
                    cg_huf_fill(t->lit_primary, CG_HUF_K, code << 1, l + 1u, ((l + 1u) << 8) | (uint32_t)v);
                }
                cg_huf_fill(t->lit_primary, CG_HUF_K, (code << 1) | 1u, l + 1u,
                            ((l + 1u) << 8) | ((uint32_t)-v & 0xFFu));
            }
        }
    }
}

static void cg_huf_fill_gaps(cg_huffman_tables *t)
{
    uint32_t l;
    uint32_t i;
    for (i = 0; i < (1u << CG_HUF_G); ++i) {
        t->gap_primary[i] = 0;
    }
    for (l = 1; l <= CG_HUF_G; ++l) {
        for (i = 0; i < t->gap.count[l]; ++i) {
            cg_huf_fill(t->gap_primary, CG_HUF_G, (uint32_t)t->gap.first[l] + i, l,
                        (l << 8) | t->gap_sorted[t->gap.offset[l] + i]);
        }
    }
}

/* Canonical search for codes the lookup table does not hold: (length << 8) | symbol, or 0 for no code. */
uint32_t cg_huffman_search(uint32_t buf, const cg_huf_canon *c, const uint8_t *sorted, uint32_t max_len)
{
    uint32_t len;
    for (len = 1u; len <= max_len; ++len) {
        uint32_t idx = (buf >> (32u - len)) - c->first[len];
        if (idx < c->count[len]) {
            return (len << 8) | sorted[c->offset[len] + idx];
        }
    }
    return 0u;
}

/* A literal the lookup table does not hold, as a lookup entry; 0 for no code (or +128). Needs 13 bits. */
uint32_t cg_huffman_literal_slow(uint32_t buf, const cg_huffman_tables *t, int32_t lit_first, uint32_t signmag,
                                    uint32_t max_len)
{
    uint32_t hit = cg_huffman_search(buf, &t->lit, t->lit_sorted, max_len);
    uint32_t len = hit >> 8;
    int32_t v = lit_first + (int32_t)(hit & 0xFFu);
    if (hit == 0u) {
        return 0u;
    }
    if (signmag && v != 0) {
        if ((buf << len) >> 31) {
            v = -v;
        } else if (v > 127) {
            return 0u;
        }
        ++len;
    }
    return (len << 8) | ((uint32_t)v & 0xFFu);
}

cg_status cg_huffman_begin(const uint8_t *blob, uint32_t blob_len, uint32_t expect_count, void *scratch,
                           uint32_t scratch_len, cg_huffman_info *info)
{
    cg_huffman_tables *t;
    const uint8_t *table;
    uint32_t flags, max_len, count, payload_bytes, table_bytes;
    uint32_t span, gap_syms, nsym, signmag;
    int32_t lit_first;

    if (blob_len < CG_HUFFMAN_HEADER_BYTES || blob[0] != 'C' || blob[1] != 'G' || blob[2] != 'H' ||
        blob[3] != 'F') {
        return CG_ERR_CORRUPT;
    }
    if (blob[8] != CG_HUFFMAN_VERSION) {
        return CG_ERR_UNSUPPORTED;
    }
    flags = blob[9];
    if ((flags & ~(CG_HUFFMAN_FLAG_CONST | CG_HUFFMAN_FLAG_GAPS | CG_HUFFMAN_FLAG_SIGNMAG)) != 0u) {
        return CG_ERR_UNSUPPORTED;
    }
    max_len = blob[10];
    count = cg_huf_rd32(blob + 12);
    payload_bytes = cg_huf_rd32(blob + 16);
    table_bytes = (uint32_t)blob[20] | ((uint32_t)blob[21] << 8);
    if (blob[22] != 0u || blob[23] != 0u || payload_bytes > blob_len - CG_HUFFMAN_HEADER_BYTES ||
        table_bytes != blob_len - CG_HUFFMAN_HEADER_BYTES - payload_bytes) {
        return CG_ERR_CORRUPT;
    }
    if (count != expect_count) {
        return CG_ERR_SHAPE;
    }
    info->t = 0;
    info->count = count;
    info->flags = flags;
    info->max_len = max_len;
    info->fill = cg_huf_s8(blob[11]);
    info->gap_syms = 0;
    info->signmag = 0;
    info->lit_first = 0;
    info->payload = blob + blob_len;
    info->end = blob + blob_len;

    if (flags & CG_HUFFMAN_FLAG_CONST) {
        if (flags != CG_HUFFMAN_FLAG_CONST || max_len != 0u || table_bytes != 0u || payload_bytes != 0u) {
            return CG_ERR_CORRUPT;
        }
        return CG_OK;
    }

    /* Table: first literal, literal span - 1, gap symbols, then 4-bit code lengths (literals, then gaps). */
    if (max_len == 0u || max_len > CG_HUF_L || table_bytes < 3u) {
        return CG_ERR_CORRUPT;
    }
    table = blob + CG_HUFFMAN_HEADER_BYTES;
    signmag = flags & CG_HUFFMAN_FLAG_SIGNMAG;
    lit_first = signmag ? (int32_t)table[0] : (int32_t)cg_huf_s8(table[0]);
    span = (uint32_t)table[1] + 1u;
    gap_syms = table[2];
    nsym = span + gap_syms;
    if (lit_first + (int32_t)span > (signmag ? 129 : 128) || gap_syms > CG_HUFFMAN_MAX_GAP_SYMBOLS ||
        (gap_syms >= 2u) != ((flags & CG_HUFFMAN_FLAG_GAPS) != 0u) || gap_syms == 1u ||
        table_bytes != 3u + (nsym + 1u) / 2u || ((nsym & 1u) && (table[table_bytes - 1u] & 0x0Fu) != 0u)) {
        return CG_ERR_CORRUPT;
    }
    if (scratch == 0 || scratch_len < CG_HUFFMAN_SCRATCH_SIZE || ((uintptr_t)scratch & 3u) != 0u) {
        return CG_ERR_SCRATCH;
    }
    t = (cg_huffman_tables *)scratch;
    if (!cg_huf_canonical(&t->lit, t->lit_sorted, table + 3, 0u, span, max_len) ||
        (gap_syms != 0u &&
         !cg_huf_canonical(&t->gap, t->gap_sorted, table + 3, span, gap_syms, max_len))) {
        return CG_ERR_CORRUPT;
    }
    cg_huf_fill_literals(t, lit_first, signmag);
    if (gap_syms != 0u) {
        cg_huf_fill_gaps(t);
    }
    info->t = t;
    info->gap_syms = gap_syms;
    info->signmag = signmag;
    info->lit_first = lit_first;
    info->payload = table + table_bytes;
    info->end = table + table_bytes + payload_bytes;
    return CG_OK;
}

cg_status cg_huffman_decode_nocrc_s8(const uint8_t *blob, uint32_t blob_len, int8_t *out, uint32_t out_len,
                                     void *scratch, uint32_t scratch_len)
{
    cg_huffman_info info;
    const cg_huffman_tables *t;
    const uint8_t *p;
    const uint8_t *end;
    uint32_t buf = 0; /* next payload bits, MSB first (see cg_huffman_tables.h) */
    uint32_t cnt = 0; /* valid bits in buf */
    uint32_t pad = 0; /* zero bytes fed after the end of the payload */
    uint32_t entry;
    uint32_t len;
    uint32_t max_len, count, signmag;
    int32_t lit_first;
    int8_t fill;
    uint32_t o = 0;
    cg_status status;

    if (blob == 0 || (out == 0 && out_len != 0u)) {
        return CG_ERR_ARG;
    }
    status = cg_huffman_begin(blob, blob_len, out_len, scratch, scratch_len, &info);
    if (status != CG_OK) {
        return status;
    }
    count = info.count;
    fill = info.fill;
    if (info.t == 0) { /* CONST */
        for (o = 0; o < count; ++o) {
            out[o] = fill;
        }
        return CG_OK;
    }
    t = info.t;
    max_len = info.max_len;
    signmag = info.signmag;
    lit_first = info.lit_first;
    p = info.payload;
    end = info.end;
    if (info.gap_syms == 0u) {
        while (o < count) {
            if (cnt < 13u) {
                CG_HUF_REFILL();
            }
            CG_HUF_LITERAL(out[o++]);
        }
    } else {
        uint32_t escape = info.gap_syms - 1u;
        while (o < count) {
            uint32_t g;
            if (cnt < 12u) {
                CG_HUF_REFILL();
            }
            entry = t->gap_primary[buf >> (32u - CG_HUF_G)];
            if (entry == 0u) {
                entry = cg_huffman_search(buf, &t->gap, t->gap_sorted, max_len);
                if (entry == 0u) {
                    return CG_ERR_CORRUPT;
                }
            }
            len = entry >> 8;
            buf <<= len;
            cnt -= len;
            g = entry & 0xFFu; /* the escape symbol's value is also its run length */
            if (g > count - o) {
                return CG_ERR_CORRUPT;
            }
            while (g != 0u) {
                out[o++] = fill;
                --g;
            }
            if ((entry & 0xFFu) == escape || o == count) {
                continue;
            }
            if (cnt < 13u) {
                CG_HUF_REFILL();
            }
            CG_HUF_LITERAL(out[o++]);
        }
    }
    /* All payload bytes used, fewer than 8 bits left over, and those zero. */
    if (p != end || cnt < 8u * pad || cnt - 8u * pad >= 8u || buf != 0u) {
        return CG_ERR_CORRUPT;
    }
    return CG_OK;
}
