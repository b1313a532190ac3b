/* codegen runtime: int8 MEAN over H and W (TFLM arithmetic). Either the sum of (x - input zero point) is
 * requantized with a multiplier that already includes 1/(H*W), or, when input and output quantization are
 * equal and TFLM takes its generic path, the raw sum is divided with truncation. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_mean_s8(const cg_mean_s8_params *p, const int8_t *input, int8_t *output)
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
            if (p->same_quant) {
                v = sum / hw;
            } else {
                v = cg_requantize(sum - p->input_zero_point * hw, p->multiplier, p->shift) + p->output_zero_point;
            }
            output[b * ch + c] = (int8_t)cg_clamp_i32(v, -128, 127);
        }
    }
    return CG_OK;
}
