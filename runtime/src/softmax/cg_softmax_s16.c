/* codegen runtime: int16 SOFTMAX, TFLM's reference SoftmaxInt16: exp(x - max) and 1 / (1 + x) from two
 * 513-entry tables (computed at generation time as TFLM's gen_lut does) with linear interpolation.
 * Output scale 1/32768, zero point 0. */
#include "cg_nn.h"
#include "cg_nn_support.h"

/* TFLM lut_lookup for int16 inputs: 512 segments of 128 values, interpolated (lut[512] gives the last slope) */
static int16_t lookup(int16_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7f;
    const int16_t base = lut[index];
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int32_t delta = (slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

cg_status cg_softmax_s16(const cg_softmax_s16_params *p, const int16_t *input, int16_t *output)
{
    const int32_t depth = p->depth;
    int32_t r, c;
    for (r = 0; r < p->rows; r++) {
        const int16_t *in = input + r * depth;
        int16_t *out = output + r * depth;
        int16_t max_in_row = -32768;
        int32_t sum = 0, shifted, sym;
        int headroom_plus_one, right_shift;
        int16_t reciprocal;
        for (c = 0; c < depth; c++) {
            max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
        }
        for (c = 0; c < depth; c++) { /* exp values kept in the output row, as TFLM does */
            const int32_t scaled = cg_requantize(in[c] - max_in_row, p->input_multiplier, p->input_left_shift);
            out[c] = lookup((int16_t)cg_clamp_i32(scaled + 32767, -32768, 32767), p->exp_lut);
            sum += out[c];
        }
        headroom_plus_one = cg_clz32((uint32_t)sum);
        shifted = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        sym = shifted - ((1 << 15) + (1 << 16));
        reciprocal = lookup((int16_t)cg_clamp_i32(sym, -32768, 32767), p->one_over_one_plus_x_lut);
        right_shift = 31 - headroom_plus_one;
        for (c = 0; c < depth; c++) {
            const int64_t round = (int64_t)1 << (right_shift - 1);
            const int32_t v = (int32_t)(((int64_t)out[c] * reciprocal + round) >> right_shift);
            out[c] = (int16_t)cg_clamp_i32(v, 0, 32767);
        }
    }
    return CG_OK;
}
