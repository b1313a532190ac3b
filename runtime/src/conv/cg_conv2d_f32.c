/* codegen runtime: float32 2-D convolution. Sums in the order TFLite's reference kernel uses
 * (filter row, filter column, input channel), skipping padded positions, then adds the bias. */
#include "cg_nn.h"

cg_status cg_conv2d_f32(const cg_conv2d_f32_params *p, const float *input, const float *filter,
                        const float *bias, float *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int32_t out_h = p->output.h, out_w = p->output.w, out_c = p->output.c;
    int32_t b, oy, ox, oc, ky, kx, ic;
    if (p->filter.c != in_c || p->filter.n != out_c) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->input.n; b++) {
        const float *in_b = input + b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                float *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
                for (oc = 0; oc < out_c; oc++) {
                    const float *w = filter + oc * k_h * k_w * in_c;
                    float total = 0.0f;
                    for (ky = 0; ky < k_h; ky++) {
                        const int32_t iy = y0 + ky * p->dilation_h;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (kx = 0; kx < k_w; kx++) {
                            const int32_t ix = x0 + kx * p->dilation_w;
                            const float *x;
                            const float *wk;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            x = in_b + (iy * in_w + ix) * in_c;
                            wk = w + (ky * k_w + kx) * in_c;
                            for (ic = 0; ic < in_c; ic++) {
                                total += x[ic] * wk[ic];
                            }
                        }
                    }
                    if (bias != 0) {
                        total += bias[oc];
                    }
                    out[oc] = total < p->act_min ? p->act_min : (total > p->act_max ? p->act_max : total);
                }
            }
        }
    }
    return CG_OK;
}
