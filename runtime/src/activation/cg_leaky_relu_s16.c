/* codegen runtime: int16 LEAKY_RELU (16x8 models; TFLM QuantizeLeakyRelu<int16_t>) with separate multipliers for the positive and negative sides.  A negative
 * alpha multiplier is applied as TFLM does: its magnitude requantizes, then the sign flips the result (rounding
 * the magnitude, not the signed value). */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_leaky_relu_s16(const cg_leaky_relu_s8_params *p, const int16_t *input, int16_t *output)
{
    const int alpha_negative = p->multiplier_alpha < 0;
    const int32_t alpha = alpha_negative ? -p->multiplier_alpha : p->multiplier_alpha;
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t x = input[i] - p->input_zero_point;
        int32_t v;
        if (x >= 0) {
            v = cg_requantize(x, p->multiplier_identity, p->shift_identity);
        } else {
            v = cg_requantize(x, alpha, p->shift_alpha);
            v = alpha_negative ? -v : v;
        }
        output[i] = (int16_t)cg_clamp_i32(p->output_zero_point + v, -32768, 32767);
    }
    return CG_OK;
}
