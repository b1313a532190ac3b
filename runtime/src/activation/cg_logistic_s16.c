/* codegen runtime: int16 LOGISTIC (16x8 models) with TFLM's reference arithmetic: the input is rescaled to
 * 1 / (3 * 4096) per step, its magnitude indexes segments of 512 steps of the sigmoid table, linear
 * interpolation in Q0.25, and sigmoid(-x) = 1 - sigmoid(x). Output scale 1/32768, zero point 0. */
#include "cg_nn.h"

cg_status cg_logistic_s16(const cg_sigmoid_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t shift = p->input_right_shift;
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    int32_t i;
    for (i = 0; i < p->size; i++) {
        const int32_t x = ((int32_t)input[i] * p->input_multiplier + round) >> shift;
        const uint32_t magnitude = (uint32_t)(x < 0 ? -x : x);
        const uint32_t segment = magnitude >> 9;
        uint32_t y;
        if (segment >= 255u) {
            y = 0x7fffu << 10;
        } else {
            const uint32_t left = p->sigmoid_table[segment];
            const uint32_t right = p->sigmoid_table[segment + 1u];
            y = (left << 9) + (magnitude & 0x1ffu) * (right - left);
        }
        y = x >= 0 ? y + (1u << 9) : (1u << 25) - y + (1u << 9) - 1u;
        output[i] = (int16_t)(y >> 10);
    }
    return CG_OK;
}
