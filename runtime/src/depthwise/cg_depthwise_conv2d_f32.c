/* codegen runtime: float32 depthwise convolution (TFLite reference summation order). */
#include "cg_nn.h"

cg_status cg_depthwise_conv2d_f32(const cg_depthwise_conv2d_f32_params *p, const float *input,
                                  const float *filter, const float *bias, float *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int32_t out_h = p->output.h, out_w = p->output.w, out_c = p->output.c;
    const int32_t mult = p->depth_multiplier;
    int32_t b, oy, ox, ic, m, ky, kx;
    if (out_c != in_c * mult || p->filter.c != out_c) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->input.n; b++) {
        const float *in_b = input + b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                float *out = output + ((b * out_h + oy) * out_w + ox) * out_c;
                for (ic = 0; ic < in_c; ic++) {
                    for (m = 0; m < mult; m++) {
                        const int32_t oc = ic * mult + m;
                        float total = 0.0f;
                        for (ky = 0; ky < k_h; ky++) {
                            const int32_t iy = y0 + ky * p->dilation_h;
                            if (iy < 0 || iy >= in_h) {
                                continue;
                            }
                            for (kx = 0; kx < k_w; kx++) {
                                const int32_t ix = x0 + kx * p->dilation_w;
                                if (ix < 0 || ix >= in_w) {
                                    continue;
                                }
                                total += in_b[(iy * in_w + ix) * in_c + ic] * filter[(ky * k_w + kx) * out_c + oc];
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
    }
    return CG_OK;
}
