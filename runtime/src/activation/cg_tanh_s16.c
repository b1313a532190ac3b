/* codegen runtime: int16 TANH (16x8 models) with TFLM's reference arithmetic: tanh(x) = 2 sigmoid(2x) - 1 from
 * the LOGISTIC table, the rescaled input's magnitude indexing segments of 256 steps, linear interpolation in
 * Q0.24, and tanh(-x) = -tanh(x). Output scale 1/32768, zero point 0. */
#include "cg_nn.h"

cg_status cg_tanh_s16(const cg_sigmoid_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t shift = p->input_right_shift;
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t x = ((int32_t)input[i] * p->input_multiplier + round) >> shift;
        const uint32_t magnitude = (uint32_t)(x < 0 ? -x : x);
        const uint32_t segment = magnitude >> 8;
        int32_t y;
        if (segment >= 255u) {
            y = (int32_t)(0xffffu << 8);
        } else {
            const uint32_t left = p->sigmoid_table[segment];
            const uint32_t right = p->sigmoid_table[segment + 1u];
            y = (int32_t)((left << 8) + (magnitude & 0xffu) * (right - left));
        }
        y = x >= 0 ? y - (1 << 23) + (1 << 7) : -y + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(y >> 8);
    }
    return CG_OK;
}
