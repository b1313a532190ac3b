/* codegen runtime: int8 depthwise convolution (per-channel requantization, TFLite arithmetic).
 * Accumulates one output pixel for all channels at once in the int32 scratch buffer so the inner loop
 * runs over contiguous channels; the multiply-accumulate over channels lives in a helper with restrict
 * pointers and fixed-length blocks so compilers vectorize it. */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_BLOCK 16

int32_t cg_depthwise_conv2d_s8_get_scratch_size(const cg_depthwise_conv2d_s8_params *p)
{
    return p->output.c * (int32_t)sizeof(int32_t);
}

/* acc[c] += w[c] * (x[c] + off) for c < n (depth multiplier 1).  The product of an int8 weight and an
 * offset input (|x + off| <= 255) fits in 16 bits, so it is computed in int16 (cheaper vector multiplies). */
static void mac_channels(int32_t *restrict acc, const int8_t *restrict x, const int8_t *restrict w, int32_t n,
                         int32_t off)
{
    int32_t c = 0;
    int j;
    for (; c + CG_BLOCK <= n; c += CG_BLOCK) {
        for (j = 0; j < CG_BLOCK; j++) {
            acc[c + j] += (int16_t)(w[c + j] * (int16_t)(x[c + j] + off));
        }
    }
    if (c + CG_BLOCK / 2 <= n) {
        for (j = 0; j < CG_BLOCK / 2; j++) {
            acc[c + j] += (int16_t)(w[c + j] * (int16_t)(x[c + j] + off));
        }
        c += CG_BLOCK / 2;
    }
    for (; c < n; c++) {
        acc[c] += (int16_t)(w[c] * (int16_t)(x[c] + off));
    }
}

/* acc[c * mult + m] += w[c * mult + m] * (x[c] + off). */
static void mac_multiplier(int32_t *restrict acc, const int8_t *restrict x, const int8_t *restrict w,
                           int32_t in_c, int32_t mult, int32_t off)
{
    int32_t c, m;
    for (c = 0; c < in_c; c++) {
        const int32_t xv = x[c] + off;
        for (m = 0; m < mult; m++) {
            acc[c * mult + m] += w[c * mult + m] * xv;
        }
    }
}

static void init_acc(int32_t *restrict acc, const int32_t *restrict bias, int32_t n)
{
    int32_t c;
    if (bias != 0) {
        for (c = 0; c < n; c++) {
            acc[c] = bias[c];
        }
    } else {
        for (c = 0; c < n; c++) {
            acc[c] = 0;
        }
    }
}

static void finish(const cg_depthwise_conv2d_s8_params *p, const int32_t *restrict acc, int8_t *restrict out,
                   int32_t n)
{
    const int32_t *restrict mult = p->multiplier;
    const int32_t *restrict shift = p->shift;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t c;
    for (c = 0; c < n; c++) {
        out[c] = (int8_t)cg_clamp_i32(cg_requantize(acc[c], mult[c], shift[c]) + off, lo, hi);
    }
}

cg_status cg_depthwise_conv2d_s8(const cg_depthwise_conv2d_s8_params *p, const int8_t *input,
                                 const int8_t *filter, const int32_t *bias, int8_t *output,
                                 int32_t *scratch)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int32_t out_h = p->output.h, out_w = p->output.w, out_c = p->output.c;
    const int32_t mult = p->depth_multiplier;
    const int32_t in_off = p->input_offset;
    const int32_t dil_h = p->dilation_h, dil_w = p->dilation_w;
    int32_t b, oy, ox, ky, kx;
    if (out_c != in_c * mult || p->filter.c != out_c) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            /* filter rows inside the input for this output row: ky_lo <= ky < ky_hi */
            int32_t ky_lo = 0, ky_hi = k_h;
            while (ky_lo < k_h && y0 + ky_lo * dil_h < 0) {
                ky_lo++;
            }
            while (ky_hi > ky_lo && y0 + (ky_hi - 1) * dil_h >= in_h) {
                ky_hi--;
            }
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
                int32_t kx_lo = 0, kx_hi = k_w;
                while (kx_lo < k_w && x0 + kx_lo * dil_w < 0) {
                    kx_lo++;
                }
                while (kx_hi > kx_lo && x0 + (kx_hi - 1) * dil_w >= in_w) {
                    kx_hi--;
                }
                init_acc(scratch, bias, out_c);
                for (ky = ky_lo; ky < ky_hi; ky++) {
                    const int8_t *row = in_b + (y0 + ky * dil_h) * in_w * in_c;
                    const int8_t *w_row = filter + ky * k_w * out_c;
                    for (kx = kx_lo; kx < kx_hi; kx++) {
                        const int8_t *x = row + (x0 + kx * dil_w) * in_c;
                        const int8_t *w = w_row + kx * out_c;
                        if (mult == 1) {
                            mac_channels(scratch, x, w, out_c, in_off);
                        } else {
                            mac_multiplier(scratch, x, w, in_c, mult, in_off);
                        }
                    }
                }
                finish(p, scratch, out, out_c);
            }
        }
    }
    return CG_OK;
}
