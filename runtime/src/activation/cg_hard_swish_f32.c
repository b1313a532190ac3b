/* codegen runtime: float32 HARD_SWISH: x * relu6(x + 3) / 6. */
#include "cg_nn.h"

cg_status cg_hard_swish_f32(const cg_unary_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const float x = input[i];
        const float r = x + 3.0f;
        output[i] = x * (r > 6.0f ? 6.0f : (r > 0.0f ? r : 0.0f)) / 6.0f;
    }
    return CG_OK;
}
