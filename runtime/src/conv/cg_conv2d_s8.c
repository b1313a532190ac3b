/* codegen runtime: int8 2-D convolution (per-channel requantization, TFLite arithmetic).
 *
 * Each output pixel's receptive field is gathered into a contiguous patch (im2col) in the scratch
 * buffer, padded positions holding the input zero point; two pixels and two output channels are then
 * computed together so each loaded weight and input byte is used twice. */
#include <string.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_BLOCK 16

/* 1x1 filters without padding read their patch straight from the input. */
static int is_direct(const cg_conv2d_s8_params *p)
{
    return p->filter.h == 1 && p->filter.w == 1 && p->pad_h == 0 && p->pad_w == 0;
}

int32_t cg_conv2d_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return is_direct(p) ? 0 : 2 * p->filter.h * p->filter.w * p->input.c;
}

static const int8_t *gather_patch(const cg_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox,
                                  int8_t *patch)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int8_t pad_value = (int8_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    int8_t *dst = patch;
    int32_t ky, kx;
    if (is_direct(p)) {
        return input + ((int32_t)y0 * in_w + x0) * in_c;
    }
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            memset(dst, pad_value, (size_t)(k_w * in_c));
            dst += k_w * in_c;
            continue;
        }
        if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) {
            memcpy(dst, input + (iy * in_w + x0) * in_c, (size_t)(k_w * in_c));
            dst += k_w * in_c;
            continue;
        }
        for (kx = 0; kx < k_w; kx++) {
            const int32_t ix = x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= in_w) {
                memset(dst, pad_value, (size_t)in_c);
            } else {
                memcpy(dst, input + (iy * in_w + ix) * in_c, (size_t)in_c);
            }
            dst += in_c;
        }
    }
    return patch;
}

static int8_t finish(int32_t acc, const cg_conv2d_s8_params *p, int32_t oc)
{
    acc = cg_requantize(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
    return (int8_t)cg_clamp_i32(acc, p->act_min, p->act_max);
}

cg_status cg_conv2d_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_w = p->output.w, out_c = p->output.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t k = p->filter.h * p->filter.w * p->input.c;
    const int32_t in_batch = p->input.h * p->input.w * p->input.c;
    int32_t b, pix;
    if (p->filter.c != p->input.c || p->filter.n != out_c || bias == 0) {
        return CG_ERR_ARG;
    }
    if (!is_direct(p) && scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_batch;
        int8_t *out_b = output + b * n_pix * out_c;
        for (pix = 0; pix < n_pix; pix += 2) {
            const int two = pix + 1 < n_pix;
            const int8_t *a0 = gather_patch(p, in_b, pix / out_w, pix % out_w, scratch);
            const int8_t *a1 = two ? gather_patch(p, in_b, (pix + 1) / out_w, (pix + 1) % out_w, scratch + k) : a0;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = o0 + out_c;
            int32_t oc = 0;
            for (; oc + 1 < out_c; oc += 2) {
                const int8_t *w0 = filter + oc * k;
                const int8_t *w1 = w0 + k;
                int32_t s00 = bias[oc], s01 = bias[oc + 1], s10 = bias[oc], s11 = bias[oc + 1];
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
                    const int32_t x0 = a0[i], x1 = a1[i];
                    const int32_t v0 = w0[i], v1 = w1[i];
                    s00 += x0 * v0;
                    s01 += x0 * v1;
                    s10 += x1 * v0;
                    s11 += x1 * v1;
                }
                o0[oc] = finish(s00, p, oc);
                o0[oc + 1] = finish(s01, p, oc + 1);
                if (two) {
                    o1[oc] = finish(s10, p, oc);
                    o1[oc + 1] = finish(s11, p, oc + 1);
                }
            }
            for (; oc < out_c; oc++) {
                const int8_t *w0 = filter + oc * k;
                int32_t s0 = bias[oc], s1 = bias[oc];
                int32_t i;
                for (i = 0; i < k; i++) {
                    s0 += a0[i] * w0[i];
                    s1 += a1[i] * w0[i];
                }
                o0[oc] = finish(s0, p, oc);
                if (two) {
                    o1[oc] = finish(s1, p, oc);
                }
            }
        }
    }
    return CG_OK;
}
