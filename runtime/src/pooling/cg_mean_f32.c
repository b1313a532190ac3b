/* codegen runtime: float32 MEAN over H and W of an NHWC tensor. */
#include "cg_nn.h"

cg_status cg_mean_f32(const cg_mean_f32_params *p, const float *input, float *output)
{
    const int32_t hw = p->input.h * p->input.w, ch = p->input.c;
    int32_t b, c, i;
    for (b = 0; b < p->input.n; b++) {
        for (c = 0; c < ch; c++) {
            float sum = 0.0f;
            for (i = 0; i < hw; i++) {
                sum += input[(b * hw + i) * ch + c];
            }
            output[b * ch + c] = sum / (float)hw;
        }
    }
    return CG_OK;
}
