/* codegen runtime: float32 softmax (max-subtracted, as TFLite's reference kernel). */
#include <math.h>

#include "cg_nn.h"

cg_status cg_softmax_f32(const cg_softmax_f32_params *p, const float *input, float *output)
{
    int32_t r, c;
    for (r = 0; r < p->rows; r++) {
        const float *x = input + r * p->depth;
        float *out = output + r * p->depth;
        float max = x[0];
        float sum = 0.0f;
        for (c = 1; c < p->depth; c++) {
            max = x[c] > max ? x[c] : max;
        }
        for (c = 0; c < p->depth; c++) {
            out[c] = expf((x[c] - max) * p->beta);
            sum += out[c];
        }
        for (c = 0; c < p->depth; c++) {
            out[c] = out[c] / sum;
        }
    }
    return CG_OK;
}
