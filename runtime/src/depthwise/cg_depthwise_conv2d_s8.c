/* codegen runtime: int8 depthwise convolution (per-channel requantization, TFLite arithmetic), portable C.
 *
 * The generator folds input_offset * sum(w) into the bias and stores the weights channel by channel, each
 * output channel's taps together (lower/packing.py channels_major).  A padded tap reads the input zero point,
 * which then contributes exactly zero.  3x3 filters with depth multiplier 1 (nearly every depthwise layer)
 * go two output pixels (in raster order) at a time: their nine taps each point at the input or at a row of
 * zero points (the scratch buffer), and each loaded weight and requantization constant serves both pixels.
 * Other shapes loop over the taps. */
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

/* tap[3 * ky + kx] = the input pixel under tap (ky, kx) of the 3x3 window at (y0, x0), or the zero-point row */
static void taps_3x3(const cg_depthwise_conv2d_s8_params *p, const int8_t *in_b, int32_t y0, int32_t x0,
                     const int8_t *zero_points, const int8_t **tap)
{
    int32_t ky, kx;
    for (ky = 0; ky < 3; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        for (kx = 0; kx < 3; kx++) {
            const int32_t ix = x0 + kx * p->dilation_w;
            const int inside = iy >= 0 && iy < p->input.h && ix >= 0 && ix < p->input.w;
            tap[3 * ky + kx] = inside ? in_b + (iy * p->input.w + ix) * p->input.c : zero_points;
        }
    }
}

/* tap t of both pixels times weight t */
#define CG_TAP2(t)                                                                                     \
    do {                                                                                               \
        const int32_t v_ = w[t];                                                                       \
        sa += a[t][c] * v_;                                                                            \
        sb += b[t][c] * v_;                                                                            \
    } while (0)

/* Output pixels a and b (the same pixel twice for an odd last one) of a 3x3 filter, depth multiplier 1: a[t], b[t] point at the
 * input pixels of tap t, channel c at a[t][c]; channel c's 9 weights are at w[9 * c]. */
static void pair_3x3(const cg_depthwise_conv2d_s8_params *p, const int8_t *const *a, const int8_t *const *b,
                     const int8_t *w, const int32_t *bias, int8_t *out_a, int8_t *out_b)
{
    /* locals, so the byte stores (which may alias anything) do not make the compiler reload them */
    const int32_t channels = p->output.c;
    const int32_t *mult = p->multiplier, *shift = p->shift;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t c;
    for (c = 0; c < channels; c++) {
        const int32_t m = mult[c], sh = shift[c];
        int32_t sa = bias[c], sb = bias[c];
        CG_TAP2(0);
        CG_TAP2(1);
        CG_TAP2(2);
        CG_TAP2(3);
        CG_TAP2(4);
        CG_TAP2(5);
        CG_TAP2(6);
        CG_TAP2(7);
        CG_TAP2(8);
        w += 9;
        if (sh <= -2) { /* the usual case: a multiplier below 1/4 */
            sa = cg_requantize_down(sa, m, -sh);
            sb = cg_requantize_down(sb, m, -sh);
        } else {
            const int32_t left = sh > 0 ? sh : 0;
            sa = cg_requantize_split(sa, m, left, left - sh);
            sb = cg_requantize_split(sb, m, left, left - sh);
        }
        sa = cg_clamp_i32(sa + off, lo, hi);
        sb = cg_clamp_i32(sb + off, lo, hi);
        out_a[c] = (int8_t)sa; /* stored last: byte stores may alias the tap pointer arrays */
        out_b[c] = (int8_t)sb;
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
    const int32_t out_w = p->output.w, out_c = p->output.c, n_pix = p->output.h * out_w;
    const int fast = p->filter.h == 3 && p->filter.w == 3 && p->depth_multiplier == 1;
    int32_t b, pix;
    if (out_c != in_c * p->depth_multiplier || p->filter.c != out_c || bias == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    memset(scratch, (int8_t)(-p->input_offset), (size_t)in_c);
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        int8_t *out_b = output + b * n_pix * out_c;
        for (pix = 0; pix < n_pix; pix += fast ? 2 : 1) {
            const int32_t y0 = (pix / out_w) * p->stride_h - p->pad_h;
            const int32_t x0 = (pix % out_w) * p->stride_w - p->pad_w;
            int8_t *out = out_b + pix * out_c;
            if (fast) {
                /* pixels pix and pix + 1 in raster order; an odd last pixel goes as both (same output twice) */
                const int two = pix + 1 < n_pix;
                const int32_t next = two ? pix + 1 : pix;
                const int8_t *tap_a[9], *tap_b[9];
                taps_3x3(p, in_b, y0, x0, scratch, tap_a);
                taps_3x3(p, in_b, (next / out_w) * p->stride_h - p->pad_h, (next % out_w) * p->stride_w - p->pad_w,
                         scratch, tap_b);
                pair_3x3(p, tap_a, tap_b, filter, bias, out, two ? out + out_c : out);
            } else {
                pixel_any(p, in_b, y0, x0, filter, bias, out);
            }
        }
    }
    return CG_OK;
}
