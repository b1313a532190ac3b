/* codegen runtime: float32 RELU. */
#include "cg_nn.h"

cg_status cg_relu_f32(const cg_unary_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const float x = input[i];
        output[i] = x > 0.0f ? x : 0.0f;
    }
    return CG_OK;
}
