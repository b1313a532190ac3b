/* codegen runtime: float32 SVDF (TFLM's float reference order of operations: each filter's time dot product
 * summed from 0, then added to the bias one rank at a time, then the fused activation). */
#include "cg_nn.h"

/* The state row moves one step back in time (walking down with the value carried: an element loop walking up
 * would become a memmove call). */
static void shift_row(float *row, int32_t memory)
{
    float next = row[memory - 1];
    int32_t i;
    for (i = memory - 2; i >= 0; i--) {
        const float cur = row[i];
        row[i] = next;
        next = cur;
    }
}

cg_status cg_svdf_f32(const cg_svdf_f32_params *p, const float *input, const float *weights_feature,
                      const float *weights_time, const float *bias, float *state, float *output)
{
    const int32_t depth = p->input_size, filters = p->filters, memory = p->memory;
    int32_t b, f, u, r, i;
    if (memory < 1 || p->rank < 1) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->batches; b++) {
        const float *x = input + b * depth;
        float *st = state + b * filters * memory;
        for (f = 0; f < filters; f++) {
            float *row = st + f * memory;
            const float *w = weights_feature + f * depth;
            float acc = 0.0f;
            shift_row(row, memory);
            for (i = 0; i < depth; i++) {
                acc += w[i] * x[i];
            }
            row[memory - 1] = acc;
        }
        for (u = 0; u < p->units; u++) {
            float acc = bias != 0 ? bias[u] : 0.0f;
            for (r = 0; r < p->rank; r++) {
                const int32_t k = u * p->rank + r;
                const float *t = weights_time + k * memory;
                const float *row = st + k * memory;
                float sum = 0.0f;
                for (i = 0; i < memory; i++) {
                    sum += t[i] * row[i];
                }
                acc += sum;
            }
            output[b * p->units + u] = acc < p->act_min ? p->act_min : (acc > p->act_max ? p->act_max : acc);
        }
    }
    return CG_OK;
}
