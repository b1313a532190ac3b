/* codegen runtime: ARG_MAX / ARG_MIN of float values with int32_t indices, as TFLM's ArgMinMax: the first index
 * whose value is strictly larger (smaller) than every earlier one along the axis. */
#include "cg_nn.h"

cg_status cg_arg_min_max_f32_s32(const cg_arg_min_max_params *p, const float *input, int32_t *output)
{
    const int32_t n = p->axis_size, inner = p->inner;
    int32_t o, j, i;
    if (n < 1) {
        return CG_ERR_ARG;
    }
    for (o = 0; o < p->outer; o++) {
        for (j = 0; j < inner; j++) {
            const float *x = input + (o * n) * inner + j;
            float best = x[0];
            int32_t index = 0;
            for (i = 1; i < n; i++) {
                const float v = x[i * inner];
                if (p->select_min ? v < best : v > best) {
                    best = v;
                    index = i;
                }
            }
            output[o * inner + j] = (int32_t)index;
        }
    }
    return CG_OK;
}
