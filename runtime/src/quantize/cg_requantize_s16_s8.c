/* codegen runtime: QUANTIZE int16 -> int8 (TFLite Requantize: requant(q - input zero point) + output zero point,
 * clamped to act_min..act_max, the int8 range). */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_requantize_s16_s8(const cg_requant_s8_params *p, const int16_t *input, int8_t *output)
{
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t v = cg_requantize(input[i] - p->input_zero_point, p->multiplier, p->shift) +
                          p->output_zero_point;
        output[i] = (int8_t)cg_clamp_i32(v, p->act_min, p->act_max);
    }
    return CG_OK;
}
