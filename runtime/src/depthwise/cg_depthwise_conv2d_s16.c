/* codegen runtime: 16x8 depthwise convolution (int16 activations, int8 per-channel filter, int64 bias), the
 * arithmetic of TFLM's reference DepthwiseConvPerChannel for int16 (int64 accumulator, zero points 0). */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_depthwise_conv2d_s16(const cg_depthwise_conv2d_s8_params *p, const int16_t *input,
                                  const int8_t *filter, const int64_t *bias, int16_t *output)
{
    const cg_dims *in = &p->input, *f = &p->filter, *out = &p->output;
    const int32_t m = p->depth_multiplier;
    int32_t b, oy, ox, ic, k, ky, kx;
    for (b = 0; b < out->n; b++) {
        for (oy = 0; oy < out->h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out->w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                for (ic = 0; ic < in->c; ic++) {
                    for (k = 0; k < m; k++) {
                        const int32_t oc = ic * m + k;
                        int64_t acc = 0;
                        int32_t v;
                        for (ky = 0; ky < f->h; ky++) {
                            const int32_t y = y0 + ky * p->dilation_h;
                            if (y < 0 || y >= in->h) {
                                continue;
                            }
                            for (kx = 0; kx < f->w; kx++) {
                                const int32_t x = x0 + kx * p->dilation_w;
                                if (x < 0 || x >= in->w) {
                                    continue;
                                }
                                acc += (int32_t)input[((b * in->h + y) * in->w + x) * in->c + ic] *
                                       filter[(ky * f->w + kx) * f->c + oc];
                            }
                        }
                        if (bias != 0) {
                            acc += bias[oc];
                        }
                        v = cg_requantize_s64(acc, p->multiplier[oc], p->shift[oc]);
                        output[((b * out->h + oy) * out->w + ox) * out->c + oc] =
                            (int16_t)cg_clamp_i32(v, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return CG_OK;
}
