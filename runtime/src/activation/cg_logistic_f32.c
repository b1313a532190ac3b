/* codegen runtime: float32 LOGISTIC with TFLite's cut-offs (1 above 16.62, exp(x) below -9). */
#include <math.h>

#include "cg_nn.h"

cg_status cg_logistic_f32(const cg_unary_f32_params *p, const float *input, float *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const float x = input[i];
        if (x > 16.619047164916992188f) {
            output[i] = 1.0f;
        } else if (x < -9.0f) {
            output[i] = expf(x);
        } else {
            output[i] = 1.0f / (1.0f + expf(-x));
        }
    }
    return CG_OK;
}
