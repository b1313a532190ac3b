/* codegen runtime: float32 TRANSPOSE_CONV, TFLM's reference_ops::TransposeConv (same accumulation order). */
#include <stddef.h>

#include "cg_nn.h"

cg_status cg_transpose_conv_f32(const cg_transpose_conv_f32_params *p, const float *input, const float *filter,
                                const float *bias, float *output)
{
    const cg_dims *in = &p->input, *f = &p->filter, *out = &p->output;
    const int32_t total = out->n * out->h * out->w * out->c;
    int32_t b, iy, ix, ic, fy, fx, oc, i;
    if (f->c != in->c || f->n != out->c) {
        return CG_ERR_ARG;
    }
    for (i = 0; i < total; i++) {
        output[i] = 0.0f;
    }
    for (b = 0; b < in->n; b++) {
        for (iy = 0; iy < in->h; iy++) {
            for (ix = 0; ix < in->w; ix++) {
                const float *px = input + (((size_t)b * in->h + iy) * in->w + ix) * in->c;
                const int32_t oy0 = iy * p->stride_h - p->pad_h;
                const int32_t ox0 = ix * p->stride_w - p->pad_w;
                for (ic = 0; ic < in->c; ic++) {
                    for (fy = 0; fy < f->h; fy++) {
                        const int32_t oy = oy0 + fy;
                        if (oy < 0 || oy >= out->h) {
                            continue;
                        }
                        for (fx = 0; fx < f->w; fx++) {
                            const int32_t ox = ox0 + fx;
                            float *acc;
                            if (ox < 0 || ox >= out->w) {
                                continue;
                            }
                            acc = output + (((size_t)b * out->h + oy) * out->w + ox) * out->c;
                            for (oc = 0; oc < out->c; oc++) {
                                acc[oc] += px[ic] * filter[(((size_t)oc * f->h + fy) * f->w + fx) * f->c + ic];
                            }
                        }
                    }
                }
            }
        }
    }
    for (i = 0; i < total; i++) {
        float acc = output[i] + (bias != NULL ? bias[i % out->c] : 0.0f);
        output[i] = acc < p->act_min ? p->act_min : (acc > p->act_max ? p->act_max : acc);
    }
    return CG_OK;
}
