/* codegen runtime: int8 SVDF with int8 state and int8 time weights (the variant TFLM also accepts).
 * Arithmetic of TFLM's integer SVDF reference: the state moves one step back in time, the newest step is the
 * input projected on the feature weights (requantized to the state scale, state zero point added before the
 * int8 clamp), and each unit sums its `rank` filters' time dot products with the bias before the output
 * requantization.  The int8 output is clamped to the int8 range only: like TFLM, the fused activation is not
 * applied (the quantized output range already encodes it). */
#include <string.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

/* The state row moves one step back in time, four int8 values per word copy (an element loop would become a
 * memmove call). */
static void shift_row(int8_t *row, int32_t memory)
{
    int32_t i = 0;
    for (; i + 4 < memory; i += 4) {
        uint32_t v;
        memcpy(&v, row + i + 1, 4);
        memcpy(row + i, &v, 4);
    }
    for (; i + 1 < memory; i++) {
        row[i] = row[i + 1];
    }
}

cg_status cg_svdf_state8_s8(const cg_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                           const int8_t *weights_time, const int32_t *bias, int8_t *state, int8_t *output)
{
    const int32_t depth = p->input_size, filters = p->filters, memory = p->memory;
    int32_t b, f, u, r, i;
    if (memory < 1 || p->rank < 1) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *x = input + b * depth;
        int8_t *st = state + b * filters * memory;
        for (f = 0; f < filters; f++) {
            int8_t *row = st + f * memory;
            const int8_t *w = weights_feature + f * depth;
            int32_t acc = 0;
            shift_row(row, memory);
            for (i = 0; i < depth; i++) {
                acc += w[i] * (x[i] + p->input_offset);
            }
            acc = cg_requantize(acc, p->feature_multiplier, p->feature_shift) + p->state_zero_point;
            row[memory - 1] = (int8_t)cg_clamp_i32(acc, p->state_min, p->state_max);
        }
        for (u = 0; u < p->units; u++) {
            int32_t acc = bias != 0 ? bias[u] : 0;
            for (r = 0; r < p->rank; r++) {
                const int32_t k = u * p->rank + r;
                const int8_t *t = weights_time + k * memory;
                const int8_t *row = st + k * memory;
                for (i = 0; i < memory; i++) {
                    acc += t[i] * (row[i] - p->state_zero_point);
                }
            }
            acc = cg_requantize(acc, p->output_multiplier, p->output_shift) + p->output_offset;
            output[b * p->units + u] = (int8_t)cg_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
    return CG_OK;
}
