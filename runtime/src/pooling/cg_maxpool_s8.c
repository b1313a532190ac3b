/* codegen runtime: int8 max pooling over the window clipped to the input. */
#include "cg_nn.h"
#include "cg_nn_support.h"

cg_status cg_maxpool_s8(const cg_pool_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
    const int32_t out_h = p->output.h, out_w = p->output.w;
    int32_t b, oy, ox, c, y, x;
    for (b = 0; b < p->input.n; b++) {
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = cg_max_i32(0, -y0);
            const int32_t fy1 = cg_min_i32(p->filter_h, in_h - y0);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = cg_max_i32(0, -x0);
                const int32_t fx1 = cg_min_i32(p->filter_w, in_w - x0);
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * ch;
                for (c = 0; c < ch; c++) {
                    int32_t best = -128;
                    for (y = fy0; y < fy1; y++) {
                        const int8_t *row = input + ((b * in_h + y0 + y) * in_w + x0) * ch + c;
                        for (x = fx0; x < fx1; x++) {
                            best = cg_max_i32(best, row[x * ch]);
                        }
                    }
                    out[c] = (int8_t)cg_clamp_i32(best, p->act_min, p->act_max);
                }
            }
        }
    }
    return CG_OK;
}
