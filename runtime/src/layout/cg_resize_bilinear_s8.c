/* codegen runtime: int8 RESIZE_BILINEAR as TFLM's ResizeBilinearInteger (10-bit source coordinates). */
#include <stddef.h>

#include "cg_nn.h"

cg_status cg_resize_bilinear_s8(const cg_resize_bilinear_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t c_n = p->input.c;
    const int32_t row_len = p->input.w * c_n;
    int32_t b, y, x, c;
    for (b = 0; b < p->output.n; b++) {
        const int8_t *in_b = input + (size_t)b * p->input.h * row_len;
        for (y = 0; y < p->output.h; y++) {
            const int8_t *r0 = in_b + (size_t)p->rows[3 * y] * row_len;
            const int8_t *r1 = in_b + (size_t)p->rows[3 * y + 1] * row_len;
            const int64_t dy = p->rows[3 * y + 2];
            for (x = 0; x < p->output.w; x++) {
                const int32_t x0 = p->cols[3 * x] * c_n;
                const int32_t x1 = p->cols[3 * x + 1] * c_n;
                const int64_t dx = p->cols[3 * x + 2];
                for (c = 0; c < c_n; c++) {
                    const int64_t v = (int64_t)r0[x0 + c] * (1024 - dy) * (1024 - dx)
                                      + (int64_t)r1[x0 + c] * dy * (1024 - dx)
                                      + (int64_t)r0[x1 + c] * (1024 - dy) * dx
                                      + (int64_t)r1[x1 + c] * dy * dx;
                    const int64_t round = v > 0 ? ((int64_t)1 << 19) : -((int64_t)1 << 19);
                    *output++ = (int8_t)((v + round) / ((int64_t)1 << 20));
                }
            }
        }
    }
    return CG_OK;
}
