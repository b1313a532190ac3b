/* codegen runtime: int8 fully connected layer (TFLite arithmetic, folded input offset). */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_BLOCK 16

static int8_t finish(int32_t acc, const cg_fully_connected_s8_params *p, int32_t u)
{
    acc = cg_requantize(acc, p->multiplier[u], p->shift[u]) + p->output_offset;
    return (int8_t)cg_clamp_i32(acc, p->act_min, p->act_max);
}

cg_status cg_fully_connected_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    int32_t b, u, i;
    if (bias == 0) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * units;
        for (u = 0; u + 3 < units; u += 4) {
            const int8_t *w0 = filter + u * depth;
            const int8_t *w1 = w0 + depth;
            const int8_t *w2 = w1 + depth;
            const int8_t *w3 = w2 + depth;
            int32_t s0 = bias[u], s1 = bias[u + 1], s2 = bias[u + 2], s3 = bias[u + 3];
            int j;
            i = 0;
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
                const int32_t xv = x[i];
                s0 += xv * w0[i];
                s1 += xv * w1[i];
                s2 += xv * w2[i];
                s3 += xv * w3[i];
            }
            out[u] = finish(s0, p, u);
            out[u + 1] = finish(s1, p, u + 1);
            out[u + 2] = finish(s2, p, u + 2);
            out[u + 3] = finish(s3, p, u + 3);
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
