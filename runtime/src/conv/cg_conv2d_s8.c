/* codegen runtime: int8 2-D convolution (per-channel requantization, TFLite arithmetic), portable C.
 *
 * Two output pixels at a time: their receptive fields are gathered as int8 into the scratch buffer,
 * interleaved (patch[2k] is pixel 0's value k, patch[2k + 1] pixel 1's), padded taps holding the input zero
 * point, which contributes nothing since the generator folded input_offset * sum(w) into the bias.  The
 * output channels then go four at a time: the generator stores the weights in groups of 4 channels, per k the
 * group's 4 weights (lower/packing.py interleave_rows; leftover channels follow row by row), so each loaded
 * input value feeds 4 multiply-accumulates and each weight 2, the 8 sums staying in registers. */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_CONV_GROUP 4

int32_t cg_conv2d_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * p->filter.h * p->filter.w * p->input.c;
}

/* dst[2 * i] = src[i] (one lane of the interleaved patch) */
static void put(int8_t *restrict dst, const int8_t *restrict src, int32_t n)
{
    const int8_t *end4 = src + (n & ~3), *end = src + n;
    while (src != end4) {
        dst[0] = src[0];
        dst[2] = src[1];
        dst[4] = src[2];
        dst[6] = src[3];
        src += 4;
        dst += 8;
    }
    while (src != end) {
        *dst = *src++;
        dst += 2;
    }
}

static void put_value(int8_t *restrict dst, int8_t value, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        dst[2 * i] = value;
    }
}

/* Writes output pixel `pix`'s receptive field into one lane of the patch (dst = patch + lane). */
static void gather(const cg_conv2d_s8_params *p, const int8_t *input, int32_t pix, int8_t *dst)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    const int32_t y0 = (pix / p->output.w) * p->stride_h - p->pad_h;
    const int32_t x0 = (pix % p->output.w) * p->stride_w - p->pad_w;
    int32_t ky, kx;
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            put_value(dst, zero_point, k_w * in_c);
        } else if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) {
            put(dst, input + (iy * in_w + x0) * in_c, k_w * in_c);
        } else {
            for (kx = 0; kx < k_w; kx++) {
                const int32_t ix = x0 + kx * p->dilation_w;
                if (ix < 0 || ix >= in_w) {
                    put_value(dst + 2 * kx * in_c, zero_point, in_c);
                } else {
                    put(dst + 2 * kx * in_c, input + (iy * in_w + ix) * in_c, in_c);
                }
            }
        }
        dst += 2 * k_w * in_c;
    }
}

/* the two pixels' values a[0], a[1] times the 4 weights w[0..3] of a group */
#define CG_MAC2X4(a, w)                                                                                \
    do {                                                                                               \
        const int32_t x0_ = (a)[0], x1_ = (a)[1];                                                      \
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

/* s[c] (pixel 0) and s[4 + c] (pixel 1) += the dot products of the patch with the group's 4 channels. */
static void dot_2x4(const int8_t *restrict a, const int8_t *restrict w, int32_t k, int32_t *restrict s)
{
    int32_t s00 = s[0], s01 = s[1], s02 = s[2], s03 = s[3];
    int32_t s10 = s[4], s11 = s[5], s12 = s[6], s13 = s[7];
    const int8_t *end2 = a + 2 * (k & ~1);
    while (a != end2) {
        CG_MAC2X4(a, w);
        CG_MAC2X4(a + 2, w + 4);
        a += 4;
        w += 8;
    }
    if (k & 1) {
        CG_MAC2X4(a, w);
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

/* out[oc + j] = s[j] requantized, for the n channels oc.. */
static void store(const cg_conv2d_s8_params *p, const int32_t *s, int32_t oc, int32_t n, int8_t *out)
{
    const int32_t *mult = p->multiplier + oc, *shift = p->shift + oc;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t j;
    for (j = 0; j < n; j++) {
        out[oc + j] = (int8_t)cg_clamp_i32(cg_requantize(s[j], mult[j], shift[j]) + off, lo, hi);
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
    int32_t b, pix, oc, i, j;
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
            /* an odd last pixel fills both lanes and is stored once */
            const int two = pix + 1 < n_pix;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = o0 + out_c;
            const int8_t *w = filter;
            gather(p, in_b, pix, scratch);
            gather(p, in_b, two ? pix + 1 : pix, scratch + 1);
            for (oc = 0; oc < grouped; oc += CG_CONV_GROUP) {
                int32_t s[2 * CG_CONV_GROUP];
                for (j = 0; j < CG_CONV_GROUP; j++) {
                    s[j] = s[CG_CONV_GROUP + j] = bias[oc + j];
                }
                dot_2x4(scratch, w, k, s);
                w += CG_CONV_GROUP * k;
                store(p, s, oc, CG_CONV_GROUP, o0);
                if (two) {
                    store(p, s + CG_CONV_GROUP, oc, CG_CONV_GROUP, o1);
                }
            }
            for (; oc < out_c; oc++) {
                int32_t s[2];
                s[0] = s[1] = bias[oc];
                for (i = 0; i < k; i++) {
                    s[0] += scratch[2 * i] * w[i];
                    s[1] += scratch[2 * i + 1] * w[i];
                }
                w += k;
                store(p, s, oc, 1, o0);
                if (two) {
                    store(p, s + 1, oc, 1, o1);
                }
            }
        }
    }
    return CG_OK;
}
