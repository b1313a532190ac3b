/* codegen runtime: int16 MEAN over H and W (16x8 models; TFLM QuantizedMeanOrSum). The sum of the raw values minus
 * input_zero_point * H * W is requantized with a multiplier that already includes 1/(H*W), in every
 * quantization case (equal input and output parameters included: TFLM rounds, it does not truncate). */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_mean_s16(const cg_mean_s8_params *p, const int16_t *input, int16_t *output)
{
    const int32_t hw = p->input.h * p->input.w, ch = p->input.c;
    int32_t b, c, i;
    if (hw <= 0) {
        return CG_ERR_SHAPE;
    }
    for (b = 0; b < p->input.n; b++) {
        for (c = 0; c < ch; c++) {
            int32_t sum = 0;
            int32_t v;
            for (i = 0; i < hw; i++) {
                sum += input[(b * hw + i) * ch + c];
            }
            /* TFLM: static_cast<int32_t>(temp_sum - input_zero_point * num_elements_in_axis) */
            v = cg_requantize((int32_t)((int64_t)sum - (int64_t)p->input_zero_point * hw), p->multiplier,
                              p->shift) + p->output_zero_point;
            output[b * ch + c] = (int16_t)cg_clamp_i32(v, -32768, 32767);
        }
    }
    return CG_OK;
}
