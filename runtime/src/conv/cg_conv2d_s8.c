/* codegen runtime: int8 2-D convolution (per-channel requantization, TFLite arithmetic), portable C.
 *
 * Two output pixels at a time: their receptive fields are gathered as int8 into the scratch buffer, in
 * blocks of 4 values per pixel (patch[8 * b + 4 * lane + i] holds value 4 * b + i of pixel `lane`), padded
 * taps holding the input zero point, which contributes nothing since the generator folded
 * input_offset * sum(w) into the bias.  The output channels then go four at a time: the generator stores the
 * weights in groups of 4 channels, per k the group's 4 weights (lower/packing.py interleave_rows; leftover
 * channels follow row by row), so each loaded input value feeds 4 multiply-accumulates and each weight 2, the
 * 8 sums staying in registers. */
#include <string.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_CONV_GROUP 4

int32_t cg_conv2d_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * ((p->filter.h * p->filter.w * p->input.c + 3) & ~3);
}

/* Values k0 .. k0 + n - 1 of one pixel's patch (lane = patch + 4 * lane) from src, or all `value` if src is 0. */
static void put(int8_t *lane, int32_t k0, const int8_t *src, int8_t value, int32_t n)
{
    int8_t *dst = lane + 8 * (k0 >> 2) + (k0 & 3);
    if ((k0 & 3) == 0) {
        const uint32_t fill = 0x01010101u * (uint8_t)value;
        for (; n >= 4; n -= 4) {
            if (src != 0) {
                memcpy(dst, src, 4);
                src += 4;
            } else {
                memcpy(dst, &fill, 4);
            }
            dst += 8;
        }
    }
    for (; n > 0; n--) {
        *dst = src != 0 ? *src++ : value;
        dst += ((dst - lane) & 3) == 3 ? 5 : 1; /* after the 4th value of a block: skip the other lane's 4 */
    }
}

/* Writes output pixel `pix`'s receptive field into one lane of the patch (lane = patch + 4 * lane index). */
static void gather(const cg_conv2d_s8_params *p, const int8_t *input, int32_t pix, int8_t *lane)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    const int32_t y0 = (pix / p->output.w) * p->stride_h - p->pad_h;
    const int32_t x0 = (pix % p->output.w) * p->stride_w - p->pad_w;
    int32_t ky, kx, k = 0;
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            put(lane, k, 0, zero_point, k_w * in_c);
        } else if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) {
            put(lane, k, input + (iy * in_w + x0) * in_c, 0, k_w * in_c);
        } else {
            for (kx = 0; kx < k_w; kx++) {
                const int32_t ix = x0 + kx * p->dilation_w;
                const int inside = ix >= 0 && ix < in_w;
                put(lane, k + kx * in_c, inside ? input + (iy * in_w + ix) * in_c : 0, zero_point, in_c);
            }
        }
        k += k_w * in_c;
    }
}

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
        CG_MAC2X4(a[1], a[5], w + 4);
        CG_MAC2X4(a[2], a[6], w + 8);
        CG_MAC2X4(a[3], a[7], w + 12);
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

/* o0[oc + j] = s[j] and o1[oc + j] = s[n + j] requantized, for the n channels oc.. */
static void store(const cg_conv2d_s8_params *p, const int32_t *s, int32_t oc, int32_t n, int8_t *o0, int8_t *o1)
{
    /* locals, so the byte stores (which may alias anything) do not make the compiler reload them */
    const int32_t *mult = p->multiplier + oc, *shift = p->shift + oc;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t j;
    o0 += oc;
    o1 += oc;
    for (j = 0; j < n; j++) {
        const int32_t m = mult[j], sh = shift[j];
        int32_t y0, y1;
        if (sh <= -2) { /* the usual case: a multiplier below 1/4 */
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

cg_status cg_conv2d_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_c = p->output.c;
    const int32_t n_pix = p->output.h * p->output.w;
    const int32_t k = p->filter.h * p->filter.w * p->input.c;
    const int32_t grouped = out_c - out_c % CG_CONV_GROUP;
    const int32_t in_batch = p->input.h * p->input.w * p->input.c;
    int32_t b, pix, oc, i;
    if (p->filter.c != p->input.c || p->filter.n != out_c || bias == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_batch;
        int8_t *out_b = output + b * n_pix * out_c;
        for (pix = 0; pix < n_pix; pix += 2) {
            /* an odd last pixel fills both lanes, and both write its output */
            const int two = pix + 1 < n_pix;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = two ? o0 + out_c : o0;
            const int8_t *w = filter;
            gather(p, in_b, pix, scratch);
            gather(p, in_b, two ? pix + 1 : pix, scratch + 4);
            for (oc = 0; oc < grouped; oc += CG_CONV_GROUP) {
                int32_t s[2 * CG_CONV_GROUP];
                dot_2x4(scratch, w, k, bias + oc, s);
                w += CG_CONV_GROUP * k;
                store(p, s, oc, CG_CONV_GROUP, o0, o1);
            }
            for (; oc < out_c; oc++) {
                int32_t s[2];
                s[0] = s[1] = bias[oc];
                for (i = 0; i < k; i++) {
                    const int32_t at = 8 * (i >> 2) + (i & 3);
                    s[0] += scratch[at] * w[i];
                    s[1] += scratch[at + 4] * w[i];
                }
                w += k;
                store(p, s, oc, 1, o0, o1);
            }
        }
    }
    return CG_OK;
}
