/* codegen runtime: 16x8 TRANSPOSE_CONV (int16 activations, int8 per-channel filter, int64 bias), the arithmetic
 * of TFLM's reference TransposeConv for int16: every input value scattered into an int64 accumulator per output
 * element, then bias, requantization with the multiplier reduced to Q15 (cg_requantize_s64) and clamping. */
#include <stddef.h>
#include <string.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

int32_t cg_transpose_conv_s16_get_scratch_size(const cg_dims *output)
{
    return output->n * output->h * output->w * output->c * (int32_t)sizeof(int64_t);
}

cg_status cg_transpose_conv_s16(const cg_transpose_conv_s8_params *p, const int16_t *input, const int8_t *filter,
                                const int64_t *bias, int16_t *output, int64_t *scratch)
{
    const cg_dims *in = &p->input, *f = &p->filter, *out = &p->output;
    const int32_t total = out->n * out->h * out->w * out->c;
    int32_t b, iy, ix, ic, fy, fx, oc, i;
    if (scratch == NULL || f->c != in->c || f->n != out->c) {
        return CG_ERR_ARG;
    }
    memset(scratch, 0, (size_t)total * sizeof(int64_t));
    for (b = 0; b < in->n; b++) {
        for (iy = 0; iy < in->h; iy++) {
            for (ix = 0; ix < in->w; ix++) {
                const int16_t *px = input + (((size_t)b * in->h + iy) * in->w + ix) * in->c;
                const int32_t oy0 = iy * p->stride_h - p->pad_h;
                const int32_t ox0 = ix * p->stride_w - p->pad_w;
                for (ic = 0; ic < in->c; ic++) {
                    const int32_t v = px[ic];
                    for (fy = 0; fy < f->h; fy++) {
                        const int32_t oy = oy0 + fy;
                        if (oy < 0 || oy >= out->h) {
                            continue;
                        }
                        for (fx = 0; fx < f->w; fx++) {
                            const int32_t ox = ox0 + fx;
                            int64_t *acc;
                            if (ox < 0 || ox >= out->w) {
                                continue;
                            }
                            acc = scratch + (((size_t)b * out->h + oy) * out->w + ox) * out->c;
                            for (oc = 0; oc < out->c; oc++) {
                                acc[oc] += (int64_t)(v * filter[(((size_t)oc * f->h + fy) * f->w + fx) * f->c + ic]);
                            }
                        }
                    }
                }
            }
        }
    }
    for (i = 0; i < total; i++) {
        const int32_t c = i % out->c;
        const int64_t acc = scratch[i] + (bias != NULL ? bias[c] : 0);
        const int32_t v = cg_requantize_s64(acc, p->multiplier[c], p->shift[c]);
        output[i] = (int16_t)cg_clamp_i32(v, p->act_min, p->act_max);
    }
    return CG_OK;
}
