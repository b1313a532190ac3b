/* codegen runtime: int8 LEAKY_RELU with separate multipliers for the positive and negative sides. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_leaky_relu_s8(const cg_leaky_relu_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t x = input[i] - p->input_zero_point;
        const int32_t v = x >= 0 ? cg_requantize(x, p->multiplier_identity, p->shift_identity)
                                 : cg_requantize(x, p->multiplier_alpha, p->shift_alpha);
        output[i] = (int8_t)cg_clamp_i32(p->output_zero_point + v, -128, 127);
    }
    return CG_OK;
}
