/* codegen runtime: int8 fully connected layer that decodes its Huffman-coded weights while it uses them.
 *
 * The weights are a Huffman blob (docs/huffman-blob.md) of the [out_depth, in_depth] matrix, row-major. The
 * kernel decodes the bitstream once per batch, straight into the multiply-accumulate: no decoded copy, only
 * the decoder's tables in `scratch` (CG_HUFFMAN_SCRATCH_SIZE bytes). With the gap layout a run of fill
 * values costs one gap code however long it is, so zero weights (the fill of a pruned matrix) cost no
 * multiply at all: sparse execution. Arithmetic as cg_fully_connected_s8 (TFLite's, the input offset folded
 * into `bias`), so the results are the same integers. The caller ran cg_huffman_check on the blob once. */
#include "cg_huffman_tables.h"
#include "cg_nn_huffman.h"
#include "cg_nn_support.h"

static int8_t cg_fch_out(const cg_fully_connected_s8_params *p, int32_t acc, int32_t u)
{
    const int32_t m = p->multiplier[u], s = p->shift[u];
    const int32_t y = s <= -2 ? cg_requantize_down(acc, m, -s) : cg_requantize(acc, m, s);
    return (int8_t)cg_clamp_i32(y + p->output_offset, p->act_min, p->act_max);
}

/* acc += fill * x[i] for i in [from, to) */
static int32_t cg_fch_fill(int32_t acc, const int8_t *x, int32_t from, int32_t to, int32_t fill)
{
    int32_t i;
    for (i = from; i < to; ++i) {
        acc += fill * x[i];
    }
    return acc;
}

/* Skip `n` fill values starting at (unit *u, index *i), finishing rows on the way. */
#define CG_FCH_SKIP(n)                                                                                    \
    do {                                                                                                  \
        uint32_t n_ = (n);                                                                                \
        while (n_ != 0u) {                                                                                \
            uint32_t take_ = (uint32_t)(depth - i);                                                       \
            if (take_ > n_) {                                                                             \
                take_ = n_;                                                                               \
            }                                                                                             \
            if (fill != 0) {                                                                              \
                acc = cg_fch_fill(acc, x, i, i + (int32_t)take_, fill);                                   \
            }                                                                                             \
            i += (int32_t)take_;                                                                          \
            n_ -= take_;                                                                                  \
            if (i == depth) {                                                                             \
                out[u] = cg_fch_out(prm, acc, u);                                                           \
                i = 0;                                                                                    \
                if (++u < units) {                                                                        \
                    acc = bias[u];                                                                        \
                }                                                                                         \
            }                                                                                             \
        }                                                                                                 \
    } while (0)

/* One literal weight at (u, i). */
#define CG_FCH_WEIGHT(w)                                                                                  \
    do {                                                                                                  \
        acc += (int32_t)(w) * x[i];                                                                       \
        if (++i == depth) {                                                                               \
            out[u] = cg_fch_out(prm, acc, u);                                                               \
            i = 0;                                                                                        \
            if (++u < units) {                                                                            \
                acc = bias[u];                                                                            \
            }                                                                                             \
        }                                                                                                 \
    } while (0)

cg_status cg_fully_connected_huffman_s8(const cg_fully_connected_s8_params *prm, const int8_t *input,
                                        const uint8_t *blob, uint32_t blob_len, const int32_t *bias,
                                        int8_t *output, void *scratch)
{
    const int32_t depth = prm->in_depth, units = prm->out_depth;
    cg_huffman_info info;
    cg_status status;
    int32_t b;
    if (blob == 0 || bias == 0 || depth <= 0 || units <= 0) {
        return CG_ERR_ARG;
    }
    status = cg_huffman_begin(blob, blob_len, (uint32_t)depth * (uint32_t)units, scratch, CG_HUFFMAN_SCRATCH_SIZE,
                              &info);
    if (status != CG_OK) {
        return status;
    }
    for (b = 0; b < prm->batches; ++b) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * units;
        const cg_huffman_tables *t = info.t;
        const uint8_t *p = info.payload;
        const uint8_t *end = info.end;
        const int32_t fill = info.fill, lit_first = info.lit_first;
        const uint32_t max_len = info.max_len, signmag = info.signmag;
        uint32_t buf = 0, cnt = 0, pad = 0, entry, len;
        int32_t u = 0, i = 0, acc = bias[0];
        if (t == 0) { /* CONST: every weight is the fill value */
            CG_FCH_SKIP(info.count);
            continue;
        }
        if (info.gap_syms == 0u) {
            while (u < units) {
                int8_t w;
                if (cnt < 13u) {
                    CG_HUF_REFILL();
                }
                CG_HUF_LITERAL(w);
                CG_FCH_WEIGHT(w);
            }
        } else {
            const uint32_t escape = info.gap_syms - 1u;
            while (u < units) {
                uint32_t g;
                int8_t w;
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
                g = entry & 0xFFu;
                if (g > (uint32_t)(units - u) * (uint32_t)depth - (uint32_t)i) {
                    return CG_ERR_CORRUPT;
                }
                if (g != 0u) {
                    if (fill == 0 && (int32_t)g < depth - i) { /* the common case: skip zeros in the row */
                        i += (int32_t)g;
                    } else {
                        CG_FCH_SKIP(g);
                    }
                }
                if (g == escape || u == units) {
                    continue;
                }
                if (cnt < 13u) {
                    CG_HUF_REFILL();
                }
                CG_HUF_LITERAL(w);
                CG_FCH_WEIGHT(w);
            }
        }
        if (p != end || cnt < 8u * pad || cnt - 8u * pad >= 8u || buf != 0u) {
            return CG_ERR_CORRUPT;
        }
    }
    return CG_OK;
}
