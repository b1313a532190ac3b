/* codegen runtime: what the portable int8 convolutions cg_conv2d_s8 (dense) and cg_conv2d_cols_s8 (column-sparse)
 * share (internal, header-only; included by runtime/src/conv/cg_conv2d_s8.c and cg_conv2d_cols_s8.c, which differ
 * in how they gather the two pixels' patch).
 *
 * The patch: two output pixels' values in alternating blocks of 4 (patch[8 * b + 4 * lane + i] holds value
 * 4 * b + i of pixel `lane`); the weights in groups of CG_CONV_GROUP channels, per step the group's 4 weights, the
 * channels left over row by row (lower/packing.py interleave_rows).  dot_2x4 / dot_2x1 multiply the patch with a
 * group / one leftover channel, store requantizes the sums into both pixels' outputs, all_down tells whether store
 * can take its single path.  The functions are plain `static` (not `static inline`): both kernels use every one of
 * them, and they compile exactly as when each .c file had its own copy. */
#ifndef CG_CONV2D_S8_IMPL_H
#define CG_CONV2D_S8_IMPL_H

#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_CONV_GROUP 4

/* On RISC-V, an empty statement the compiler may not move memory accesses across: each step's 6 loads stay with
 * its 16 multiply-accumulates, instead of GCC hoisting the 4 steps' 24 loads up front and spilling the sums
 * (RV32IMC: 91 instead of 120 instructions per 4 steps; on the Cortex-M4, with fewer registers, it costs 3). */
#if defined(__GNUC__) && defined(__riscv)
#define CG_STEP_FENCE() __asm__ volatile("" ::: "memory")
#else
#define CG_STEP_FENCE() ((void)0)
#endif

/* the two pixels' values x0, x1 times the 4 weights w[0..3] of a group */
#define CG_MAC2X4(x0, x1, w)                                                                           \
    do {                                                                                               \
        const int32_t x0_ = (x0), x1_ = (x1);                                                          \
        int32_t v_ = (w)[0];                                                                           \
        s00 += x0_ * v_;                                                                               \
        s10 += x1_ * v_;                                                                               \
        v_ = (w)[1];                                                                                   \
        s01 += x0_ * v_;                                                                               \
        s11 += x1_ * v_;                                                                               \
        v_ = (w)[2];                                                                                   \
        s02 += x0_ * v_;                                                                               \
        s12 += x1_ * v_;                                                                               \
        v_ = (w)[3];                                                                                   \
        s03 += x0_ * v_;                                                                               \
        s13 += x1_ * v_;                                                                               \
    } while (0)

/* s[c] (pixel 0) and s[4 + c] (pixel 1) = bias[c] + the dot products of the patch with the group's 4 channels. */
static void dot_2x4(const int8_t *restrict a, const int8_t *restrict w, int32_t k, const int32_t *bias,
                    int32_t *restrict s)
{
    int32_t s00 = bias[0], s01 = bias[1], s02 = bias[2], s03 = bias[3];
    int32_t s10 = s00, s11 = s01, s12 = s02, s13 = s03;
    const int8_t *end = a + 2 * (k & ~3);
    int32_t i;
    while (a != end) {
        CG_MAC2X4(a[0], a[4], w);
        CG_STEP_FENCE();
        CG_MAC2X4(a[1], a[5], w + 4);
        CG_STEP_FENCE();
        CG_MAC2X4(a[2], a[6], w + 8);
        CG_STEP_FENCE();
        CG_MAC2X4(a[3], a[7], w + 12);
        CG_STEP_FENCE();
        a += 8;
        w += 16;
    }
    for (i = 0; i < (k & 3); i++) {
        CG_MAC2X4(a[i], a[4 + i], w + 4 * i);
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s02;
    s[3] = s03;
    s[4] = s10;
    s[5] = s11;
    s[6] = s12;
    s[7] = s13;
}

/* s[0] (pixel 0) and s[1] (pixel 1) = bias + the dot products of the patch with one channel's k weights (a channel
 * left over after the groups of 4), in the patch's blocks of 4 */
static void dot_2x1(const int8_t *restrict a, const int8_t *restrict w, int32_t k, int32_t bias, int32_t *restrict s)
{
    int32_t s0 = bias, s1 = bias, i;
    const int8_t *end = a + 2 * (k & ~3);
    while (a != end) {
        int32_t v = w[0];
        s0 += a[0] * v;
        s1 += a[4] * v;
        v = w[1];
        s0 += a[1] * v;
        s1 += a[5] * v;
        v = w[2];
        s0 += a[2] * v;
        s1 += a[6] * v;
        v = w[3];
        s0 += a[3] * v;
        s1 += a[7] * v;
        a += 8;
        w += 4;
    }
    for (i = 0; i < (k & 3); i++) {
        s0 += a[i] * w[i];
        s1 += a[4 + i] * w[i];
    }
    s[0] = s0;
    s[1] = s1;
}

/* o0[oc + j] = s[j] and o1[oc + j] = s[n + j] requantized, for the n channels oc.. */
static void store(const cg_conv2d_s8_params *p, const int32_t *s, int32_t oc, int32_t n, int8_t *o0, int8_t *o1,
                  int down)
{
    /* locals, so the byte stores (which may alias anything) do not make the compiler reload them */
    const int32_t *mult = p->multiplier + oc, *shift = p->shift + oc;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t j;
    o0 += oc;
    o1 += oc;
    if (down) { /* the usual case, every multiplier of the layer below 1/4: one path, no per-channel test */
        for (j = 0; j < n; j++) {
            const int32_t m = mult[j], r = -shift[j];
            o0[j] = (int8_t)cg_clamp_i32(cg_requantize_down(s[j], m, r) + off, lo, hi);
            o1[j] = (int8_t)cg_clamp_i32(cg_requantize_down(s[n + j], m, r) + off, lo, hi);
        }
        return;
    }
    for (j = 0; j < n; j++) {
        const int32_t m = mult[j], sh = shift[j];
        int32_t y0, y1;
        if (sh <= -2) {
            y0 = cg_requantize_down(s[j], m, -sh);
            y1 = cg_requantize_down(s[n + j], m, -sh);
        } else {
            const int32_t left = sh > 0 ? sh : 0;
            y0 = cg_requantize_split(s[j], m, left, left - sh);
            y1 = cg_requantize_split(s[n + j], m, left, left - sh);
        }
        o0[j] = (int8_t)cg_clamp_i32(y0 + off, lo, hi);
        o1[j] = (int8_t)cg_clamp_i32(y1 + off, lo, hi);
    }
}

/* whether every channel's shift is at most -2 (store's single path) */
static int all_down(const int32_t *shift, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; j++) {
        if (shift[j] > -2) {
            return 0;
        }
    }
    return 1;
}

#endif /* CG_CONV2D_S8_IMPL_H */
