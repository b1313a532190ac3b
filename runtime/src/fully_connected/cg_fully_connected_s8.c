/* codegen runtime: int8 fully connected layer (TFLite arithmetic, folded input offset).
 * Each input row is first widened to 16 bits in the scratch buffer: 16-bit activations times 8-bit
 * weights summed into 32 bits is the pattern compilers map to multiply-accumulate-pairs instructions. */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_BLOCK 16

int32_t cg_fully_connected_s8_get_scratch_size(const cg_fully_connected_s8_params *p)
{
    return p->in_depth * (int32_t)sizeof(int16_t);
}

static int8_t finish(int32_t acc, const cg_fully_connected_s8_params *p, int32_t u)
{
    acc = cg_requantize(acc, p->multiplier[u], p->shift[u]) + p->output_offset;
    return (int8_t)cg_clamp_i32(acc, p->act_min, p->act_max);
}

/* s[r] += sum_i x[i] * w_r[i] for the four rows w_r = w + r * depth. */
static void dot_4(const int16_t *restrict x, const int8_t *restrict w, int32_t depth, int32_t *restrict s)
{
    const int8_t *restrict w0 = w;
    const int8_t *restrict w1 = w0 + depth;
    const int8_t *restrict w2 = w1 + depth;
    const int8_t *restrict w3 = w2 + depth;
    int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    int32_t i = 0;
    int j;
    /* fixed-length blocks let compilers vectorize at -O2 */
    for (; i + CG_BLOCK <= depth; i += CG_BLOCK) {
        for (j = 0; j < CG_BLOCK; j++) {
            s0 += x[i + j] * w0[i + j];
            s1 += x[i + j] * w1[i + j];
            s2 += x[i + j] * w2[i + j];
            s3 += x[i + j] * w3[i + j];
        }
    }
    for (; i < depth; i++) {
        s0 += x[i] * w0[i];
        s1 += x[i] * w1[i];
        s2 += x[i] * w2[i];
        s3 += x[i] * w3[i];
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

cg_status cg_fully_connected_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output, int16_t *scratch)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    int32_t b, u, i;
    if (bias == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *in = input + b * depth;
        int16_t *restrict x = scratch;
        int8_t *out = output + b * units;
        for (i = 0; i < depth; i++) {
            x[i] = in[i];
        }
        for (u = 0; u + 3 < units; u += 4) {
            int32_t s[4];
            s[0] = bias[u];
            s[1] = bias[u + 1];
            s[2] = bias[u + 2];
            s[3] = bias[u + 3];
            dot_4(x, filter + u * depth, depth, s);
            out[u] = finish(s[0], p, u);
            out[u + 1] = finish(s[1], p, u + 1);
            out[u + 2] = finish(s[2], p, u + 2);
            out[u + 3] = finish(s[3], p, u + 3);
        }
        for (; u < units; u++) {
            const int8_t *w = filter + u * depth;
            int32_t s = bias[u];
            for (i = 0; i < depth; i++) {
                s += x[i] * w[i];
            }
            out[u] = finish(s, p, u);
        }
    }
    return CG_OK;
}
