/* codegen runtime: int8 logistic (sigmoid) with TFLite's fixed-point arithmetic: the input is
 * rescaled to Q4.27, gemmlowp-style logistic gives Q0.31, output scale 1/256 and zero point -128. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_logistic_s8(const cg_logistic_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t x = input[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            output[i] = -128;
        } else if (x >= p->input_range_radius) {
            output[i] = 127;
        } else {
            const int32_t x_q4 = cg_requantize(x, p->input_multiplier, p->input_left_shift);
            const int32_t y_q0 = cg_fx_logistic(x_q4, 4);
            const int32_t y = cg_rounding_divide_by_pot(y_q0, 31 - 8) - 128;
            output[i] = (int8_t)cg_clamp_i32(y, -128, 127);
        }
    }
    return CG_OK;
}
