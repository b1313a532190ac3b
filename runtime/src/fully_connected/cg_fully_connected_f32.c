/* codegen runtime: float32 fully connected layer (TFLite reference summation order). */
#include "cg_nn.h"

cg_status cg_fully_connected_f32(const cg_fully_connected_f32_params *p, const float *input,
                                 const float *filter, const float *bias, float *output)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    int32_t b, u, i;
    for (b = 0; b < p->batches; b++) {
        const float *x = input + b * depth;
        for (u = 0; u < units; u++) {
            const float *w = filter + u * depth;
            float total = 0.0f;
            for (i = 0; i < depth; i++) {
                total += x[i] * w[i];
            }
            if (bias != 0) {
                total += bias[u];
            }
            output[b * units + u] = total < p->act_min ? p->act_min : (total > p->act_max ? p->act_max : total);
        }
    }
    return CG_OK;
}
