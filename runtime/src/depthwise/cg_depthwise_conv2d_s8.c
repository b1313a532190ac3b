/* codegen runtime: int8 depthwise convolution (per-channel requantization, TFLite arithmetic).
 * Accumulates one output pixel for all channels at once in the int32 scratch buffer so the inner loop
 * runs over contiguous channels. */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_BLOCK 8

int32_t cg_depthwise_conv2d_s8_get_scratch_size(const cg_depthwise_conv2d_s8_params *p)
{
    return p->output.c * (int32_t)sizeof(int32_t);
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
    int32_t *restrict acc = scratch;
    int32_t b, oy, ox, ky, kx, c, m;
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
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
                for (c = 0; c < out_c; c++) {
                    acc[c] = bias != 0 ? bias[c] : 0;
                }
                for (ky = 0; ky < k_h; ky++) {
                    const int32_t iy = y0 + ky * p->dilation_h;
                    if (iy < 0 || iy >= in_h) {
                        continue;
                    }
                    for (kx = 0; kx < k_w; kx++) {
                        const int32_t ix = x0 + kx * p->dilation_w;
                        const int8_t *restrict x;
                        const int8_t *restrict w;
                        if (ix < 0 || ix >= in_w) {
                            continue;
                        }
                        x = in_b + (iy * in_w + ix) * in_c;
                        w = filter + (ky * k_w + kx) * out_c;
                        if (mult == 1) {
                            int j;
                            c = 0;
                            /* fixed-length blocks let compilers vectorize at -O2 */
                            for (; c + CG_BLOCK <= out_c; c += CG_BLOCK) {
                                for (j = 0; j < CG_BLOCK; j++) {
                                    acc[c + j] += w[c + j] * (x[c + j] + in_off);
                                }
                            }
                            for (; c < out_c; c++) {
                                acc[c] += w[c] * (x[c] + in_off);
                            }
                        } else {
                            for (c = 0; c < in_c; c++) {
                                const int32_t xv = x[c] + in_off;
                                for (m = 0; m < mult; m++) {
                                    acc[c * mult + m] += w[c * mult + m] * xv;
                                }
                            }
                        }
                    }
                }
                for (c = 0; c < out_c; c++) {
                    int32_t v = cg_requantize(acc[c], p->multiplier[c], p->shift[c]) + p->output_offset;
                    out[c] = (int8_t)cg_clamp_i32(v, p->act_min, p->act_max);
                }
            }
        }
    }
    return CG_OK;
}
