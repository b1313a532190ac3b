/* codegen runtime: DEQUANTIZE int16 -> float32 (TFLite: scale * (q - zero point)). */
#include "cg_nn.h"

cg_status cg_dequantize_s16(const cg_affine_params *p, const int16_t *input, float *output)
{
    const double scale = (double)p->scale;
    int32_t i;
    for (i = 0; i < p->size; i++) {
        output[i] = (float)(scale * (double)(input[i] - p->zero_point));
    }
    return CG_OK;
}
