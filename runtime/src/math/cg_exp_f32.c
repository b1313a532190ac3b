/* codegen runtime: float32 EXP (TFLM: std::exp on each value). */
#include <math.h>

#include "cg_nn.h"

cg_status cg_exp_f32(const cg_unary_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        output[i] = expf(input[i]);
    }
    return CG_OK;
}
