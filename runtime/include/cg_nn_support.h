/* codegen runtime: fixed-point helpers shared by the int8 kernels (internal, header-only).
 *
 * The arithmetic reproduces the TensorFlow Lite (Micro) reference integer kernels bit for bit:
 * Q31 multipliers with a signed shift, "doubling high multiply" with round-half-away rounding,
 * and rounding right shifts that round half away from zero.  Build with -DCG_SINGLE_ROUNDING=1
 * to match a TFLM built with TFLITE_SINGLE_ROUNDING. */
#ifndef CG_NN_SUPPORT_H
#define CG_NN_SUPPORT_H

#include <stdint.h>

#ifndef CG_SINGLE_ROUNDING
#define CG_SINGLE_ROUNDING 0
#endif

#define CG_INT32_MAX ((int32_t)0x7FFFFFFF)
#define CG_INT32_MIN ((int32_t)(-CG_INT32_MAX - 1))

static inline int32_t cg_max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static inline int32_t cg_min_i32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t cg_clamp_i32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Left shift that wraps like two's complement hardware instead of being undefined. */
static inline int32_t cg_shl_wrap(int32_t x, int n)
{
    return (int32_t)((uint32_t)x << n);
}

/* gemmlowp SaturatingRoundingDoublingHighMul: (a * b + nudge) / 2^31 truncated, nudge = 2^30 for a
 * non-negative product and 1 - 2^30 otherwise; saturates INT32_MIN * INT32_MIN.  For a negative product
 * t = a * b + 1 - 2^30 < 0 and trunc(t / 2^31) = ceil(t / 2^31) = floor((t + 2^31 - 1) / 2^31)
 * = floor((a * b + 2^30) / 2^31), the same expression as for a non-negative product, so one add and one
 * arithmetic shift compute it (tests/native/test_fixed_point.py checks the identity). */
static inline int32_t cg_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == CG_INT32_MIN && b == CG_INT32_MIN) {
        return CG_INT32_MAX;
    }
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

/* x / 2^exponent rounded to nearest, ties away from zero (0 <= exponent <= 31). */
static inline int32_t cg_rounding_divide_by_pot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* cg_requantize with shift = left_shift - right_shift given as its two parts (left_shift = max(shift, 0),
 * right_shift = max(-shift, 0)), so a kernel that requantizes several values of one channel splits it once. */
static inline int32_t cg_requantize_split(int32_t x, int32_t multiplier, int left_shift, int right_shift)
{
#if CG_SINGLE_ROUNDING
    const int total_shift = 31 - left_shift + right_shift;
    const int64_t round = (int64_t)1 << (total_shift - 1);
    return (int32_t)(((int64_t)x * multiplier + round) >> total_shift);
#else
    /* multiplier comes from QuantizeMultiplier (|frexp mantissa| < 1), so it is never INT32_MIN and the
     * INT32_MIN * INT32_MIN saturation of cg_sat_rounding_doubling_high_mul cannot happen: skipped here.
     * cg_rounding_divide_by_pot written out without branches (compilers otherwise evaluate both shift cases). */
    const int32_t high =
        (int32_t)(((int64_t)cg_shl_wrap(x, left_shift) * multiplier + ((int64_t)1 << 30)) >> 31);
    const int32_t mask = (int32_t)(((uint32_t)1 << right_shift) - 1u);
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)high >> 31);
    return (high >> right_shift) + ((high & mask) > threshold ? 1 : 0);
#endif
}

/* cg_requantize for shift = -r <= -2 and multiplier >= 0 (TFLite's), in one 64-bit multiply-add and a shift:
 * TFLite's t = floor((x * m + 2^30) / 2^31), rounded to t / 2^r half away from zero, equals
 * floor((x * m + 2^30 + (2^(r-1) - [x < 0]) * 2^31) / 2^(31+r)) (nested floors; [t < 0] and [x < 0] differ only
 * when t = 0, which rounds to 0 either way).  cg_dsp.h's cg_requantize_r2 is the same identity. */
static inline int32_t cg_requantize_down(int32_t x, int32_t multiplier, int r)
{
#if CG_SINGLE_ROUNDING
    return cg_requantize_split(x, multiplier, 0, r);
#else
    const uint32_t lo = 0x40000000u | ((uint32_t)x & 0x80000000u);
    const int32_t hi = (1 << (r - 2)) + (x >> 31);
    const int64_t c = (int64_t)(((uint64_t)(uint32_t)hi << 32) | lo);
    return (int32_t)((c + (int64_t)x * multiplier) >> 32) >> (r - 1);
#endif
}

/* x * multiplier * 2^shift, multiplier in Q31 (TFLite MultiplyByQuantizedMultiplier). */
static inline int32_t cg_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left_shift = shift > 0 ? shift : 0;
    return cg_requantize_split(x, multiplier, left_shift, left_shift - shift);
}

/* 16x8 requantization of an int64 accumulator (TFLite MultiplyByQuantizedMultiplier for int64: the Q31
 * multiplier reduced to Q15 with rounding, one rounding shift; |x| < 2^47). */
static inline int32_t cg_requantize_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (int64_t)((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    return (int32_t)((x * reduced + ((int64_t)1 << (total_shift - 1))) >> total_shift);
}

/* Saturating multiplication by 2^exponent for exponent >= 0 (gemmlowp SaturatingRoundingMultiplyByPOT). */
static inline int32_t cg_sat_shl(int32_t x, int exponent)
{
    if (exponent <= 0) {
        return exponent == 0 ? x : cg_rounding_divide_by_pot(x, -exponent);
    }
    {
        const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
        if (x > threshold) {
            return CG_INT32_MAX;
        }
        if (x < -threshold) {
            return CG_INT32_MIN;
        }
        return cg_shl_wrap(x, exponent);
    }
}

static inline int cg_clz32(uint32_t x)
{
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out. */
static inline int32_t cg_fx_exp_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;     /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883;  /* 1/3 */
    const int32_t x = a + ((int32_t)1 << 28);
    const int32_t x2 = cg_sat_rounding_doubling_high_mul(x, x);
    const int32_t x3 = cg_sat_rounding_doubling_high_mul(x2, x);
    const int32_t x4 = cg_sat_rounding_doubling_high_mul(x2, x2);
    const int32_t x4_over_4 = cg_rounding_divide_by_pot(x4, 2);
    const int32_t poly = cg_rounding_divide_by_pot(
        cg_sat_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + cg_sat_rounding_doubling_high_mul(constant_term, x + poly);
}

/* exp(a) for a <= 0 given with `integer_bits` integer bits; result in Q0.31. */
static inline int32_t cg_fx_exp_on_negative_values(int32_t a, int integer_bits)
{
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535, 720401, 242};
    const int frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    int32_t result = cg_fx_exp_quarter(cg_sat_shl(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int exponent;
    for (exponent = -2; exponent <= 4; exponent++) {
        if (integer_bits > exponent) {
            const int shift = frac_bits + exponent;
            if (remainder & ((int32_t)1 << shift)) {
                result = cg_sat_rounding_doubling_high_mul(result, multipliers[exponent + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -((int32_t)1 << (36 - integer_bits));
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = CG_INT32_MAX;
    }
    return result;
}

/* 1 / (1 + a) for a in [0, 1) in Q2.29 (Newton-Raphson on the half denominator (1 + a) / 2). */
static inline int32_t cg_fx_newton_reciprocal_q2(int32_t a)
{
    const int64_t sum = (int64_t)a + (int64_t)CG_INT32_MAX;
    const int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t constant_48_over_17 = 1515870810;
    const int32_t constant_neg_32_over_17 = -1010580540;
    const int32_t f2_one = (int32_t)1 << 29;
    int32_t x = constant_48_over_17 + cg_sat_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17);
    int i;
    for (i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = cg_sat_rounding_doubling_high_mul(half_denominator, x);
        const int32_t one_minus = f2_one - half_denominator_times_x;
        x = x + cg_sat_shl(cg_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    return x;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out. */
static inline int32_t cg_fx_one_over_one_plus_x(int32_t a)
{
    return cg_sat_shl(cg_fx_newton_reciprocal_q2(a), 1);
}

/* (1 - a) / (1 + a) for a in [0, 1), Q0.31 in and out. */
static inline int32_t cg_fx_one_minus_x_over_one_plus_x(int32_t a)
{
    return cg_sat_shl(cg_fx_newton_reciprocal_q2(a) - ((int32_t)1 << 29), 2);
}

/* logistic(a) for `a` with `integer_bits` integer bits; result in Q0.31. */
static inline int32_t cg_fx_logistic(int32_t a, int integer_bits)
{
    int32_t abs_a;
    int32_t positive;
    if (a == 0) {
        return (int32_t)1 << 30;
    }
    abs_a = a > 0 ? a : -a;
    positive = cg_fx_one_over_one_plus_x(cg_fx_exp_on_negative_values(-abs_a, integer_bits));
    return a > 0 ? positive : CG_INT32_MAX - positive;
}

/* tanh(a) for `a` with `integer_bits` integer bits; result in Q0.31 (gemmlowp tanh:
 * -tanh(-|a|) = (1 - exp(-2|a|)) / (1 + exp(-2|a|)), exp taken with one more integer bit). */
static inline int32_t cg_fx_tanh(int32_t a, int integer_bits)
{
    int32_t n, t;
    if (a == 0) {
        return 0;
    }
    n = a < 0 ? a : -a;
    t = cg_fx_one_minus_x_over_one_plus_x(cg_fx_exp_on_negative_values(n, integer_bits + 1));
    return a < 0 ? -t : t;
}

/* 1 / x for x with `integer_bits` integer bits: Q0.31 significand and the number of bits above one. */
static inline int32_t cg_fx_reciprocal(int32_t x, int integer_bits, int *num_bits_over_unit)
{
    const int headroom_plus_one = cg_clz32((uint32_t)x);
    const int32_t shifted_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    *num_bits_over_unit = integer_bits - headroom_plus_one;
    return cg_fx_one_over_one_plus_x(shifted_minus_one);
}

#endif /* CG_NN_SUPPORT_H */
