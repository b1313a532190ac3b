/* codegen runtime: int8 fully connected layer over sparse weights (bitmap + non-zero values), skipping zeros.
 *
 * `packed` holds, unit by unit, a bitmap of ceil(in_depth / 8) bytes (bit b of byte j set: weight 8 j + b is
 * not zero, least significant bit first) followed by the unit's non-zero weights in input order
 * (lower/stream.py sparse_rows). Every non-zero weight costs one multiply-accumulate found with a count of
 * trailing zeros; zero weights cost nothing but their bit. Arithmetic as cg_fully_connected_s8 (TFLite's, the
 * input offset folded into `bias`), so the results are the same integers. No scratch; the output must not
 * overlap the input. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_fully_connected_sparse_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                       const uint8_t *packed, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    const int32_t nbm = (depth + 7) / 8;
    int32_t b, u, j;
    if (packed == 0 || bias == 0) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * units;
        const uint8_t *w = packed;
        for (u = 0; u < units; ++u) {
            const uint8_t *bm = w;
            const int8_t *v = (const int8_t *)(w + nbm);
            const int8_t *xx = x;
            int32_t acc = bias[u];
            int32_t y;
            const int32_t m = p->multiplier[u], s = p->shift[u];
            for (j = 0; j < nbm; ++j, xx += 8) {
                uint32_t bits = bm[j];
                while (bits != 0u) {
                    acc += (int32_t)*v++ * xx[__builtin_ctz(bits)];
                    bits &= bits - 1u;
                }
            }
            w = (const uint8_t *)v;
            y = s <= -2 ? cg_requantize_down(acc, m, -s) : cg_requantize(acc, m, s);
            out[u] = (int8_t)cg_clamp_i32(y + p->output_offset, p->act_min, p->act_max);
        }
    }
    return CG_OK;
}
