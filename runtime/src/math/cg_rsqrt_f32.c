/* codegen runtime: float32 RSQRT (TFLM: 1.f / std::sqrt(x)). */
#include <math.h>

#include "cg_nn.h"

cg_status cg_rsqrt_f32(const cg_unary_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        output[i] = 1.0f / sqrtf(input[i]);
    }
    return CG_OK;
}
