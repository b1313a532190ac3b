/* codegen runtime: DEQUANTIZE int8 -> float32: scale * (q - zero point), computed in double. */
#include "cg_nn.h"

cg_status cg_dequantize_s8(const cg_affine_params *p, const int8_t *input, float *output)
{
    const double scale = (double)p->scale;
    int32_t i;
    for (i = 0; i < p->size; i++) {
        output[i] = (float)(scale * (double)(input[i] - p->zero_point));
    }
    return CG_OK;
}
