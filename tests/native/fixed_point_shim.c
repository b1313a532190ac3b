/* Test shim: exposes the static inline fixed-point helpers of cg_nn_support.h to ctypes, one array at a time. */
#include <stdint.h>

#include "cg_dsp.h"
#include "cg_nn_support.h"

void shim_srdhm(const int32_t *a, const int32_t *b, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        out[i] = cg_sat_rounding_doubling_high_mul(a[i], b[i]);
    }
}

void shim_rdbpot(const int32_t *x, const int32_t *e, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        out[i] = cg_rounding_divide_by_pot(x[i], e[i]);
    }
}

void shim_requantize(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        out[i] = cg_requantize(x[i], m[i], s[i]);
    }
}

void shim_requantize_r2(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        out[i] = cg_requantize_r2(x[i], m[i], s[i]);
    }
}

void shim_requantize_down(const int32_t *x, const int32_t *m, const int32_t *s, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        out[i] = cg_requantize_down(x[i], m[i], -s[i]);
    }
}

void shim_exp_on_negative(const int32_t *a, int integer_bits, int32_t *out, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        out[i] = cg_fx_exp_on_negative_values(a[i], integer_bits);
    }
}

void shim_reciprocal(const int32_t *x, int integer_bits, int32_t *out, int32_t *bits_over_unit, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        int b = 0;
        out[i] = cg_fx_reciprocal(x[i], integer_bits, &b);
        bits_over_unit[i] = b;
    }
}
