/* codegen runtime: QUANTIZE float32 -> int16 (TFLite AffineQuantize: round(x / scale) + zero point, clamped). */
#include <math.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_quantize_s16(const cg_affine_params *p, const float *input, int16_t *output)
{
    const double scale = (double)p->scale;
    int32_t i;
    for (i = 0; i < p->size; i++) {
        double q = round((double)input[i] / scale);
        q = q < -1.0e6 ? -1.0e6 : (q > 1.0e6 ? 1.0e6 : q);
        output[i] = (int16_t)cg_clamp_i32((int32_t)q + p->zero_point, -32768, 32767);
    }
    return CG_OK;
}
