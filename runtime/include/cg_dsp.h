/* codegen runtime: the Armv7E-M DSP instructions the _dsp kernel variants use (internal, header-only).
 *
 * On a core with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, ...) these are the ACLE intrinsics
 * of <arm_acle.h>; elsewhere (the host, cores without DSP) plain C with the same results bit for bit, so the
 * _dsp kernels and their weight layouts are tested on the host as well.  Words are little-endian: byte i of a
 * word is element i of the int8 array it was read from. */
#ifndef CG_DSP_H
#define CG_DSP_H

#include <stdint.h>
#include <string.h>

#include "cg_nn_support.h"

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(CG_NO_DSP_INSTRUCTIONS)
#include <arm_acle.h>
#define CG_DSP_INSTRUCTIONS 1
#else
#define CG_DSP_INSTRUCTIONS 0
#endif

/* Four int8 values as one word (unaligned access is allowed on Armv7-M; memcpy compiles to one LDR). */
static inline uint32_t cg_read_s8x4(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void cg_write_s8x4(int8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

#if CG_DSP_INSTRUCTIONS

/* bytes 0 and 2, sign-extended to two int16 halves */
static inline uint32_t cg_sxtb16(uint32_t x)
{
    return (uint32_t)__sxtb16(x);
}

/* bytes 1 and 3, sign-extended (SXTB16 with its built-in rotation: one instruction) */
static inline uint32_t cg_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* acc + lo(a) * lo(b) + hi(a) * hi(b), 16-bit signed halves */
static inline int32_t cg_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}

/* bytewise signed maximum and minimum of four int8 lanes (SSUB8 sets the GE flags, SEL picks by them) */
static inline uint32_t cg_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

static inline uint32_t cg_min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

/* acc + bytes 0 and 2 of x, sign-extended, per 16-bit half (SXTAB16), and the same for bytes 1 and 3 */
static inline uint32_t cg_sxtab16(uint32_t acc, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

static inline uint32_t cg_sxtab16_ror8(uint32_t acc, uint32_t x)
{
    uint32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

/* (a * b + 2^31) >> 32: the rounded high word of the product */
static inline int32_t cg_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* acc + lo(a) * lo(b) */
static inline int32_t cg_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlabb((int32_t)a, (int32_t)b, acc);
}

/* acc + hi(a) * hi(b) */
static inline int32_t cg_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlatt((int32_t)a, (int32_t)b, acc);
}

#else /* portable equivalents */

static inline uint32_t cg_sxtb16(uint32_t x)
{
    const uint32_t lo = (uint32_t)(int32_t)(int8_t)(x & 0xFFu) & 0xFFFFu;
    const uint32_t hi = (uint32_t)(int32_t)(int8_t)((x >> 16) & 0xFFu) & 0xFFFFu;
    return lo | (hi << 16);
}

static inline uint32_t cg_sxtb16_ror8(uint32_t x)
{
    return cg_sxtb16((x >> 8) | (x << 24));
}

static inline int32_t cg_lo16(uint32_t x)
{
    return (int32_t)(int16_t)(x & 0xFFFFu);
}

static inline int32_t cg_hi16(uint32_t x)
{
    return (int32_t)(int16_t)(x >> 16);
}

/* the products of 16-bit halves fit in int32; the sums wrap modulo 2^32 like the instruction */
static inline int32_t cg_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(cg_lo16(a) * cg_lo16(b)) + (uint32_t)(cg_hi16(a) * cg_hi16(b)));
}

static inline int32_t cg_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(cg_lo16(a) * cg_lo16(b)));
}

static inline int32_t cg_smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}

static inline uint32_t cg_max_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(a >> i), y = (int8_t)(b >> i);
        r |= (uint32_t)(uint8_t)(x >= y ? x : y) << i;
    }
    return r;
}

static inline uint32_t cg_min_s8x4(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    int i;
    for (i = 0; i < 32; i += 8) {
        const int8_t x = (int8_t)(a >> i), y = (int8_t)(b >> i);
        r |= (uint32_t)(uint8_t)(x >= y ? y : x) << i;
    }
    return r;
}

/* 16-bit halves wrap like the instruction */
static inline uint32_t cg_sxtab16(uint32_t acc, uint32_t x)
{
    const uint32_t e = cg_sxtb16(x);
    return ((acc + e) & 0xFFFFu) | (((acc >> 16) + (e >> 16)) << 16);
}

static inline uint32_t cg_sxtab16_ror8(uint32_t acc, uint32_t x)
{
    return cg_sxtab16(acc, (x >> 8) | (x << 24));
}

static inline int32_t cg_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(cg_hi16(a) * cg_hi16(b)));
}

#endif

/* cg_requantize (TFLite MultiplyByQuantizedMultiplier, double rounding) for shift <= 0, in fewer
 * instructions on DSP cores: the doubling high multiply as one SMLAL onto the rounding constant (the identity of
 * cg_sat_rounding_doubling_high_mul), the rounding right shift without branches.  Callers take cg_requantize
 * for shift > 0 (multipliers above 1). */
static inline int32_t cg_requantize_right(int32_t x, int32_t multiplier, int32_t shift)
{
#if CG_DSP_INSTRUCTIONS && !CG_SINGLE_ROUNDING
    const int32_t right = -shift;
    const int32_t mask = (int32_t)((1u << right) - 1u);
    uint32_t lo = 0x40000000u;
    int32_t hi = 0, v;
    __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(x), "r"(multiplier));
    v = (int32_t)((lo >> 31) | ((uint32_t)hi << 1));
    return (v >> right) + ((v & mask) > (mask >> 1) + (int32_t)((uint32_t)v >> 31));
#else
    return cg_requantize(x, multiplier, shift);
#endif
}

/* cg_requantize for shift <= -2, multiplier >= 0 (TFLite's), in one SMLAL and a shift.  With r = -shift, TFLite
 * computes t = floor((x * m + 2^30) / 2^31) (cg_sat_rounding_doubling_high_mul) and then rounds t / 2^r half away
 * from zero: floor((t + 2^(r-1) - [t < 0]) / 2^r), which is floor((x * m + 2^30 + (2^(r-1) - [t < 0]) * 2^31)
 * / 2^(31+r)) (nested floors).  [t < 0] may be replaced by [x < 0]: they differ only when t = 0, and then both
 * round to 0.  So the 64-bit constant 2^30 + 2^(30+r) - [x < 0] * 2^31 is the SMLAL's initial value and the
 * result is its high word shifted right by r - 1 (tests/native/test_fixed_point.py checks it against TFLite's
 * formula).  Single rounding: floor((x * m + 2^(30+r)) / 2^(31+r)). */
static inline int32_t cg_requantize_r2(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t r = -shift;
#if CG_SINGLE_ROUNDING
    uint32_t lo = 0;
    int32_t hi = 1 << (r - 2);
#else
    uint32_t lo = 0x40000000u | ((uint32_t)x & 0x80000000u);
    int32_t hi = (1 << (r - 2)) + (x >> 31);
#endif
#if CG_DSP_INSTRUCTIONS
    __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(x), "r"(multiplier));
#else
    hi = (int32_t)(uint32_t)(((((uint64_t)(uint32_t)hi) << 32 | lo) + (uint64_t)((int64_t)x * multiplier)) >> 32);
#endif
    return hi >> (r - 1);
}

/* the clamp to the full int8 range: one SSAT on DSP cores */
static inline int32_t cg_sat_s8(int32_t v)
{
#if CG_DSP_INSTRUCTIONS
    return __ssat(v, 8);
#else
    return cg_clamp_i32(v, -128, 127);
#endif
}

#endif /* CG_DSP_H */
