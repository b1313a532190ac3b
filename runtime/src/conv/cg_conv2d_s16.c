/* codegen runtime: 16x8 convolution (int16 activations, int8 per-channel filter, int64 bias), the arithmetic
 * of TFLM's reference ConvPerChannel for int16: an int64 accumulator, zero points 0, requantized with the
 * multiplier reduced to Q15 (cg_requantize_s64). */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_conv2d_s16(const cg_conv2d_s8_params *p, const int16_t *input, const int8_t *filter,
                        const int64_t *bias, int16_t *output)
{
    const cg_dims *in = &p->input, *f = &p->filter, *out = &p->output;
    int32_t b, oy, ox, oc, ky, kx, ic;
    for (b = 0; b < out->n; b++) {
        for (oy = 0; oy < out->h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out->w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                for (oc = 0; oc < out->c; oc++) {
                    int64_t acc = 0;
                    int32_t v;
                    for (ky = 0; ky < f->h; ky++) {
                        const int32_t y = y0 + ky * p->dilation_h;
                        if (y < 0 || y >= in->h) {
                            continue;
                        }
                        for (kx = 0; kx < f->w; kx++) {
                            const int32_t x = x0 + kx * p->dilation_w;
                            const int16_t *src;
                            const int8_t *w;
                            int32_t sum = 0;
                            if (x < 0 || x >= in->w) {
                                continue;
                            }
                            src = input + ((b * in->h + y) * in->w + x) * in->c;
                            w = filter + ((oc * f->h + ky) * f->w + kx) * f->c;
                            /* |int16 * int8| < 2^22: one tap's channel sum fits int32 below 512 channels */
                            for (ic = 0; ic < f->c; ic++) {
                                if ((ic & 255) == 255) {
                                    acc += sum;
                                    sum = 0;
                                }
                                sum += (int32_t)src[ic] * w[ic];
                            }
                            acc += sum;
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
    return CG_OK;
}
