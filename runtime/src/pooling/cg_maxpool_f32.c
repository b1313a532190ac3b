/* codegen runtime: float32 max pooling over the window clipped to the input. */
#include <float.h>

#include "cg_nn.h"

cg_status cg_maxpool_f32(const cg_pool_f32_params *p, const float *input, float *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
    const int32_t out_h = p->output.h, out_w = p->output.w;
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->input.n; b++) {
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = y0 < 0 ? -y0 : 0;
            const int32_t fy1 = p->filter_h < in_h - y0 ? p->filter_h : in_h - y0;
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = x0 < 0 ? -x0 : 0;
                const int32_t fx1 = p->filter_w < in_w - x0 ? p->filter_w : in_w - x0;
                float *out = output + ((b * out_h + oy) * out_w + ox) * ch;
                for (c = 0; c < ch; c++) {
                    float best = -FLT_MAX;
                    for (y = fy0; y < fy1; y++) {
                        for (x = fx0; x < fx1; x++) {
                            const float v = input[((b * in_h + y0 + y) * in_w + x0 + x) * ch + c];
                            best = v > best ? v : best;
                        }
                    }
                    out[c] = best < p->act_min ? p->act_min : (best > p->act_max ? p->act_max : best);
                }
            }
        }
    }
    return CG_OK;
}
