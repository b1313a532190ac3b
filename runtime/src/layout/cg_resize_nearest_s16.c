/* codegen runtime: int16_t RESIZE_NEAREST_NEIGHBOR with source rows and columns computed at generation time. */
#include <string.h>

#include "cg_nn.h"

cg_status cg_resize_nearest_s16(const cg_resize_nearest_params *p, const int16_t *input, int16_t *output)
{
    const int32_t c = p->input.c;
    int32_t b, y, x;
    for (b = 0; b < p->output.n; b++) {
        const int16_t *in_b = input + (size_t)b * p->input.h * p->input.w * c;
        for (y = 0; y < p->output.h; y++) {
            const int16_t *row = in_b + (size_t)p->rows[y] * p->input.w * c;
            for (x = 0; x < p->output.w; x++) {
                memcpy(output, row + (size_t)p->cols[x] * c, (size_t)c * sizeof(*output));
                output += c;
            }
        }
    }
    return CG_OK;
}
