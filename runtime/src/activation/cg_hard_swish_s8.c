/* codegen runtime: int8 HARD_SWISH with TFLite's 16-bit fixed-point arithmetic: the input on a 2^7
 * "high-resolution" scale is multiplied by a "relu-ish" factor in [0, 1] (x / 3 rescaled to [-1, 1] with
 * saturation, then mapped to [0, 1]) and by the output multiplier, then shifted to the output scale. */
#include "cg_nn.h"
#include "cg_nn_support.h"

/* round(a * b / 2^15), ties as gemmlowp (nudged truncating division); saturates INT16_MIN * INT16_MIN */
static int16_t rounding_doubling_high_mul16(int16_t a, int16_t b)
{
    const int32_t ab = (int32_t)a * (int32_t)b;
    if (a == -32768 && b == -32768) {
        return 32767;
    }
    return (int16_t)((ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15));
}

/* a * b / 2^15 truncated toward zero (no rounding); saturates INT16_MIN * INT16_MIN */
static int16_t doubling_high_mul16(int16_t a, int16_t b)
{
    if (a == -32768 && b == -32768) {
        return 32767;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

/* x * 2^amount saturated to int16 (TFLite's SaturatingLeftShift; 0 <= amount <= 30) */
static int16_t sat_shl16(int16_t x, int amount)
{
    const int64_t v = (int64_t)x * ((int64_t)1 << amount);
    return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v));
}

/* gemmlowp's RoundingDivideByPOT instantiated for int16 (0 <= exponent <= 31). Its mask is computed in
 * 64 bits and narrowed to int16, so from exponent 16 on the mask is all ones (-1) and the result is +1 for
 * x >= 0 and -1 for x < 0: that is what TFLM computes for tiny input scales, and is reproduced here. */
static int16_t rounding_divide_by_pot16(int16_t x, int exponent)
{
    const int32_t mask = exponent >= 16 ? -1 : (int32_t)((1L << exponent) - 1);
    const int32_t remainder = exponent >= 16 ? (int32_t)x : ((int32_t)x & mask);
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    const int32_t shifted = exponent >= 16 ? (x < 0 ? -1 : 0) : ((int32_t)x >> exponent);
    return (int16_t)(shifted + (remainder > threshold ? 1 : 0));
}

/* int16 addition wrapping modulo 2^16, as C++ narrowing of `int16_t += int32_t` does in TFLM */
static int16_t wrap16(int32_t v)
{
    return (int16_t)(v > 32767 ? v - 65536 : (v < -32768 ? v + 65536 : v));
}

cg_status cg_hard_swish_s8(const cg_hard_swish_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t relu_exp = p->reluish_multiplier_exponent;
    int32_t i;
    if (p->output_multiplier_exponent > 0 || p->output_multiplier_exponent < -31 || relu_exp > 31 || relu_exp < -31) {
        return CG_ERR_ARG;
    }
    for (i = 0; i < p->size; i++) {
        const int16_t x = (int16_t)(input[i] - p->input_zero_point);
        const int16_t x_hires = (int16_t)(x * (1 << 7));
        const int16_t x_preshift_out = rounding_doubling_high_mul16(x_hires, p->output_multiplier_fixedpoint_int16);
        int16_t reluish = x_hires;
        int16_t out;
        if (relu_exp > 0) {
            reluish = sat_shl16(reluish, relu_exp - 1);
        }
        reluish = rounding_doubling_high_mul16(reluish, p->reluish_multiplier_fixedpoint_int16);
        if (relu_exp > 0) {
            reluish = sat_shl16(reluish, 1);
        }
        if (relu_exp < 0) {
            reluish = rounding_divide_by_pot16(reluish, -relu_exp);
        }
        reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
        out = rounding_divide_by_pot16(doubling_high_mul16(reluish, x_preshift_out), -p->output_multiplier_exponent);
        out = wrap16((int32_t)out + p->output_zero_point);
        output[i] = (int8_t)cg_clamp_i32(out, -128, 127);
    }
    return CG_OK;
}
