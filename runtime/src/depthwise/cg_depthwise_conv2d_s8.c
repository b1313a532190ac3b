/* codegen runtime: int8 depthwise convolution (per-channel requantization, TFLite arithmetic), portable C.
 *
 * The generator folds input_offset * sum(w) into the bias and stores the weights channel by channel, each
 * output channel's taps together (lower/packing.py channels_major).  A padded tap reads the input zero point,
 * which then contributes exactly zero.  3x3 filters with depth multiplier 1 (nearly every depthwise layer)
 * point their nine taps at the input or at a row of zero points (the scratch buffer) once per output pixel
 * and keep each channel's products and sum in registers; other shapes loop over the taps. */
#include <string.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

int32_t cg_depthwise_conv2d_s8_get_scratch_size(const cg_depthwise_conv2d_s8_params *p)
{
    return p->input.c;
}

static int8_t requantize(const cg_depthwise_conv2d_s8_params *p, int32_t acc, int32_t oc)
{
    acc = cg_requantize(acc, p->multiplier[oc], p->shift[oc]) + p->output_offset;
    return (int8_t)cg_clamp_i32(acc, p->act_min, p->act_max);
}

/* One output pixel of a 3x3 filter, depth multiplier 1: tap[t] points at the input pixel of tap t (or at the
 * zero-point row), channel c of it at tap[t][c]; w holds channel c's 9 weights at w[9 * c]. */
static void pixel_3x3(const cg_depthwise_conv2d_s8_params *p, const int8_t *const *tap, const int8_t *w,
                      const int32_t *bias, int8_t *out)
{
    const int8_t *t0 = tap[0], *t1 = tap[1], *t2 = tap[2];
    const int8_t *t3 = tap[3], *t4 = tap[4], *t5 = tap[5];
    const int8_t *t6 = tap[6], *t7 = tap[7], *t8 = tap[8];
    const int32_t channels = p->output.c;
    const int32_t *mult = p->multiplier, *shift = p->shift;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t c;
    for (c = 0; c < channels; c++) {
        int32_t acc = bias[c];
        acc += t0[c] * w[0] + t1[c] * w[1] + t2[c] * w[2];
        acc += t3[c] * w[3] + t4[c] * w[4] + t5[c] * w[5];
        acc += t6[c] * w[6] + t7[c] * w[7] + t8[c] * w[8];
        w += 9;
        out[c] = (int8_t)cg_clamp_i32(cg_requantize(acc, mult[c], shift[c]) + off, lo, hi);
    }
}

/* Any filter size and depth multiplier: one output pixel whose window starts at input row y0, column x0. */
static void pixel_any(const cg_depthwise_conv2d_s8_params *p, const int8_t *in_b, int32_t y0, int32_t x0,
                      const int8_t *filter, const int32_t *bias, int8_t *out)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w, mult = p->depth_multiplier;
    const int32_t zero_point = -p->input_offset;
    int32_t ic, m, ky, kx;
    for (ic = 0; ic < in_c; ic++) {
        for (m = 0; m < mult; m++) {
            const int32_t oc = ic * mult + m;
            const int8_t *w = filter + oc * k_h * k_w;
            int32_t acc = bias[oc];
            for (ky = 0; ky < k_h; ky++) {
                const int32_t iy = y0 + ky * p->dilation_h;
                for (kx = 0; kx < k_w; kx++) {
                    const int32_t ix = x0 + kx * p->dilation_w;
                    const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                    acc += (inside ? in_b[(iy * in_w + ix) * in_c + ic] : zero_point) * *w++;
                }
            }
            out[oc] = requantize(p, acc, oc);
        }
    }
}

cg_status cg_depthwise_conv2d_s8(const cg_depthwise_conv2d_s8_params *p, const int8_t *input,
                                 const int8_t *filter, const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t out_h = p->output.h, out_w = p->output.w, out_c = p->output.c;
    const int fast = p->filter.h == 3 && p->filter.w == 3 && p->depth_multiplier == 1;
    int32_t b, oy, ox, ky, kx;
    if (out_c != in_c * p->depth_multiplier || p->filter.c != out_c || bias == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    memset(scratch, (int8_t)(-p->input_offset), (size_t)in_c);
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
                if (fast) {
                    const int8_t *tap[9];
                    for (ky = 0; ky < 3; ky++) {
                        const int32_t iy = y0 + ky * p->dilation_h;
                        for (kx = 0; kx < 3; kx++) {
                            const int32_t ix = x0 + kx * p->dilation_w;
                            const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                            tap[3 * ky + kx] = inside ? in_b + (iy * in_w + ix) * in_c : scratch;
                        }
                    }
                    pixel_3x3(p, tap, filter, bias, out);
                } else {
                    pixel_any(p, in_b, y0, x0, filter, bias, out);
                }
            }
        }
    }
    return CG_OK;
}
