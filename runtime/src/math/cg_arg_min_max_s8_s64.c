/* codegen runtime: ARG_MAX / ARG_MIN of int8_t values with int64_t indices, as TFLM's ArgMinMax: the first index
 * whose value is strictly larger (smaller) than every earlier one along the axis. */
#include "cg_nn.h"

cg_status cg_arg_min_max_s8_s64(const cg_arg_min_max_params *p, const int8_t *input, int64_t *output)
{
    const int32_t n = p->axis_size, inner = p->inner;
    int32_t o, j, i;
    if (n < 1) {
        return CG_ERR_ARG;
    }
    for (o = 0; o < p->outer; o++) {
        for (j = 0; j < inner; j++) {
            const int8_t *x = input + (o * n) * inner + j;
            int8_t best = x[0];
            int32_t index = 0;
            for (i = 1; i < n; i++) {
                const int8_t v = x[i * inner];
                if (p->select_min ? v < best : v > best) {
                    best = v;
                    index = i;
                }
            }
            output[o * inner + j] = (int64_t)index;
        }
    }
    return CG_OK;
}
