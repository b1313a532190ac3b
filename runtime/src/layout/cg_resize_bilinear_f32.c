/* codegen runtime: float32 RESIZE_BILINEAR as TFLM's reference ResizeBilinear (same operation order). */
#include <stddef.h>

#include "cg_nn.h"

cg_status cg_resize_bilinear_f32(const cg_resize_bilinear_f32_params *p, const float *input, float *output)
{
    const int32_t c_n = p->input.c;
    const int32_t row_len = p->input.w * c_n;
    int32_t b, y, x, c;
    for (b = 0; b < p->output.n; b++) {
        const float *in_b = input + (size_t)b * p->input.h * row_len;
        for (y = 0; y < p->output.h; y++) {
            const int32_t y0 = p->rows[2 * y];
            const float *r0 = in_b + (size_t)y0 * row_len;
            const float *r1 = in_b + (size_t)p->rows[2 * y + 1] * row_len;
            const float fy = p->row_pos[y] - (float)y0;
            for (x = 0; x < p->output.w; x++) {
                const int32_t x0 = p->cols[2 * x];
                const float fx = p->col_pos[x] - (float)x0;
                const int32_t i0 = x0 * c_n;
                const int32_t i1 = p->cols[2 * x + 1] * c_n;
                for (c = 0; c < c_n; c++) {
                    *output++ = r0[i0 + c] * (1 - fy) * (1 - fx) + r1[i0 + c] * fy * (1 - fx)
                                + r0[i1 + c] * (1 - fy) * fx + r1[i1 + c] * fy * fx;
                }
            }
        }
    }
    return CG_OK;
}
