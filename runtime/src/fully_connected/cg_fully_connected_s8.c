/* codegen runtime: int8 fully connected layer (TFLite arithmetic, folded input offset), portable C.
 *
 * The generator folds the input offset into the bias and stores the weights in the order the loop reads
 * them (units in groups of 8, per input index the 8 weights of the group, leftover units row by row), so
 * one loaded input value feeds 8 multiply-accumulates whose sums stay in registers, every weight is read
 * once with a running pointer, and no value is widened in memory. */
#include <string.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_FC_GROUP 8

int32_t cg_fully_connected_s8_get_scratch_size(const cg_fully_connected_s8_params *p)
{
    return p->in_depth;
}

/* out[u + j] = s[j] requantized, for the n units u.. */
static void store(const cg_fully_connected_s8_params *p, const int32_t *s, int32_t u, int32_t n, int8_t *out)
{
    /* locals, so the byte stores (which may alias anything) do not make the compiler reload them */
    const int32_t *mult = p->multiplier + u, *shift = p->shift + u;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t j;
    out += u;
    for (j = 0; j < n; j++) {
        const int32_t y = shift[j] <= -2 ? cg_requantize_down(s[j], mult[j], -shift[j])
                                         : cg_requantize(s[j], mult[j], shift[j]);
        out[j] = (int8_t)cg_clamp_i32(y + off, lo, hi);
    }
}

/* one input value x times the 8 weights w[0..7] of a group */
#define CG_MAC8(x, w)                                                                                  \
    do {                                                                                               \
        const int32_t xv_ = (x);                                                                       \
        s0 += xv_ * (w)[0];                                                                            \
        s1 += xv_ * (w)[1];                                                                            \
        s2 += xv_ * (w)[2];                                                                            \
        s3 += xv_ * (w)[3];                                                                            \
        s4 += xv_ * (w)[4];                                                                            \
        s5 += xv_ * (w)[5];                                                                            \
        s6 += xv_ * (w)[6];                                                                            \
        s7 += xv_ * (w)[7];                                                                            \
    } while (0)

/* s[u] = bias[u] + sum_i x[i] * w[i * 8 + u] for the 8 units u of a group; returns the end of the group's
 * weights. */
static const int8_t *dot_group(const int8_t *restrict x, const int8_t *restrict w, int32_t depth,
                               const int32_t *bias, int32_t *restrict s)
{
    int32_t s0 = bias[0], s1 = bias[1], s2 = bias[2], s3 = bias[3];
    int32_t s4 = bias[4], s5 = bias[5], s6 = bias[6], s7 = bias[7];
    const int8_t *end2 = x + (depth & ~1);
    while (x != end2) {
        CG_MAC8(x[0], w);
        CG_MAC8(x[1], w + 8);
        x += 2;
        w += 16;
    }
    if (depth & 1) {
        CG_MAC8(x[0], w);
        w += 8;
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    s[4] = s4;
    s[5] = s5;
    s[6] = s6;
    s[7] = s7;
    return w;
}

cg_status cg_fully_connected_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    const int32_t grouped = units - units % CG_FC_GROUP;
    int8_t *x = scratch;
    int32_t b, u, i;
    if (bias == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *w = filter;
        int8_t *out = output + b * units;
        /* the row is copied first, so the output may overlap it (access.py: rows_buffered) */
        memcpy(x, input + b * depth, (size_t)depth);
        for (u = 0; u < grouped; u += CG_FC_GROUP) {
            int32_t s[CG_FC_GROUP];
            w = dot_group(x, w, depth, bias + u, s);
            store(p, s, u, CG_FC_GROUP, out);
        }
        for (; u < units; u++) {
            int32_t s = bias[u];
            for (i = 0; i < depth; i++) {
                s += x[i] * w[i];
            }
            w += depth;
            store(p, &s, u, 1, out);
        }
    }
    return CG_OK;
}
