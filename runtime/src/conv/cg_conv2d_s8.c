/* codegen runtime: int8 2-D convolution (per-channel requantization, TFLite arithmetic).
 *
 * Each output pixel's receptive field is gathered into a contiguous 16-bit patch (im2col) in the
 * scratch buffer, padded positions holding the input zero point; two pixels and two output channels are
 * then computed together so each loaded weight and input value is used twice.  16-bit activations times
 * 8-bit weights summed into 32 bits is the pattern compilers map to multiply-accumulate-pairs
 * instructions (x86 pmaddwd, Arm SMLAD). */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_BLOCK 16

int32_t cg_conv2d_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * p->filter.h * p->filter.w * p->input.c * (int32_t)sizeof(int16_t);
}

static void widen(int16_t *restrict dst, const int8_t *restrict src, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        dst[i] = src[i];
    }
}

static void fill(int16_t *restrict dst, int16_t value, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        dst[i] = value;
    }
}

static void gather_patch(const cg_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox,
                         int16_t *patch)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int16_t pad_value = (int16_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    int16_t *dst = patch;
    int32_t ky, kx;
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            fill(dst, pad_value, k_w * in_c);
            dst += k_w * in_c;
            continue;
        }
        if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) {
            widen(dst, input + (iy * in_w + x0) * in_c, k_w * in_c);
            dst += k_w * in_c;
            continue;
        }
        for (kx = 0; kx < k_w; kx++) {
            const int32_t ix = x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= in_w) {
                fill(dst, pad_value, in_c);
            } else {
                widen(dst, input + (iy * in_w + ix) * in_c, in_c);
            }
            dst += in_c;
        }
    }
}

/* Requantizes the 2x2 block s (pixels 0/1 x channels oc/oc+1) into the two output pixels. */
static void store(const cg_conv2d_s8_params *p, const int32_t *s, int32_t oc, int pair, int two, int8_t *o0,
                  int8_t *o1)
{
    const int32_t m0 = p->multiplier[oc], sh0 = p->shift[oc];
    const int32_t lo = p->act_min, hi = p->act_max, off = p->output_offset;
    o0[oc] = (int8_t)cg_clamp_i32(cg_requantize(s[0], m0, sh0) + off, lo, hi);
    if (two) {
        o1[oc] = (int8_t)cg_clamp_i32(cg_requantize(s[2], m0, sh0) + off, lo, hi);
    }
    if (pair) {
        const int32_t m1 = p->multiplier[oc + 1], sh1 = p->shift[oc + 1];
        o0[oc + 1] = (int8_t)cg_clamp_i32(cg_requantize(s[1], m1, sh1) + off, lo, hi);
        if (two) {
            o1[oc + 1] = (int8_t)cg_clamp_i32(cg_requantize(s[3], m1, sh1) + off, lo, hi);
        }
    }
}

/* Four dot products of length k: (a0, a1) x (w0, w1). */
static void dot_2x2(const int16_t *restrict a0, const int16_t *restrict a1, const int8_t *restrict w0,
                    const int8_t *restrict w1, int32_t k, int32_t *restrict s)
{
    int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
    int32_t i = 0;
    int j;
    /* fixed-length blocks let compilers vectorize at -O2 */
    for (; i + CG_BLOCK <= k; i += CG_BLOCK) {
        for (j = 0; j < CG_BLOCK; j++) {
            s00 += a0[i + j] * w0[i + j];
            s01 += a0[i + j] * w1[i + j];
            s10 += a1[i + j] * w0[i + j];
            s11 += a1[i + j] * w1[i + j];
        }
    }
    if (i + CG_BLOCK / 2 <= k) {
        for (j = 0; j < CG_BLOCK / 2; j++) {
            s00 += a0[i + j] * w0[i + j];
            s01 += a0[i + j] * w1[i + j];
            s10 += a1[i + j] * w0[i + j];
            s11 += a1[i + j] * w1[i + j];
        }
        i += CG_BLOCK / 2;
    }
    for (; i < k; i++) {
        s00 += a0[i] * w0[i];
        s01 += a0[i] * w1[i];
        s10 += a1[i] * w0[i];
        s11 += a1[i] * w1[i];
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
}

cg_status cg_conv2d_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_w = p->output.w, out_c = p->output.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t k = p->filter.h * p->filter.w * p->input.c;
    const int32_t in_batch = p->input.h * p->input.w * p->input.c;
    int16_t *patch = (int16_t *)(void *)scratch;
    int32_t b, pix;
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
            const int two = pix + 1 < n_pix;
            const int16_t *a0 = patch;
            const int16_t *a1 = two ? patch + k : patch;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = o0 + out_c;
            int32_t oc = 0;
            gather_patch(p, in_b, pix / out_w, pix % out_w, patch);
            if (two) {
                gather_patch(p, in_b, (pix + 1) / out_w, (pix + 1) % out_w, patch + k);
            }
            for (; oc < out_c; oc += 2) {
                const int8_t *w0 = filter + oc * k;
                const int pair = oc + 1 < out_c;
                const int8_t *w1 = pair ? w0 + k : w0;
                int32_t s[4];
                s[0] = bias[oc];
                s[1] = pair ? bias[oc + 1] : 0;
                s[2] = s[0];
                s[3] = s[1];
                dot_2x2(a0, a1, w0, w1, k, s);
                store(p, s, oc, pair, two, o0, o1);
            }
        }
    }
    return CG_OK;
}
