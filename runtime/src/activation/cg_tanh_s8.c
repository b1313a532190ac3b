/* codegen runtime: int8 TANH with TFLite's fixed-point arithmetic: the input is rescaled to Q4.27,
 * gemmlowp-style tanh gives Q0.31, output scale 1/128 and zero point 0. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_tanh_s8(const cg_tanh_s8_params *p, const int8_t *input, int8_t *output)
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
            const int32_t y_q0 = cg_fx_tanh(x_q4, 4);
            const int32_t y = cg_rounding_divide_by_pot(y_q0, 31 - 7);
            output[i] = (int8_t)cg_clamp_i32(y, -128, 127);
        }
    }
    return CG_OK;
}
