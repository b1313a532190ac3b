/* codegen runtime: 16x8 fully connected (int16 activations, int8 weights, int64 bias), the arithmetic of
 * TFLM's reference FullyConnected for int16: int64 accumulator, zero points 0, cg_requantize_s64. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_fully_connected_s16(const cg_fully_connected_s8_params *p, const int16_t *input,
                                 const int8_t *filter, const int64_t *bias, int16_t *output)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    int32_t b, u, i;
    for (b = 0; b < p->batches; b++) {
        const int16_t *x = input + b * depth;
        for (u = 0; u < units; u++) {
            const int8_t *w = filter + u * depth;
            int64_t acc = 0;
            int32_t sum = 0, v;
            for (i = 0; i < depth; i++) {
                if ((i & 255) == 255) { /* |int16 * int8| < 2^22: flush before int32 could overflow */
                    acc += sum;
                    sum = 0;
                }
                sum += (int32_t)x[i] * w[i];
            }
            acc += sum;
            if (bias != 0) {
                acc += bias[u];
            }
            v = cg_requantize_s64(acc, p->multiplier[u], p->shift[u]);
            output[b * units + u] = (int16_t)cg_clamp_i32(v, p->act_min, p->act_max);
        }
    }
    return CG_OK;
}
