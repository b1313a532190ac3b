/* codegen runtime: int8_t GATHER along one axis with indices known at generation time (TFLM's loop order). */
#include <stddef.h>
#include <string.h>

#include "cg_nn.h"

cg_status cg_gather_s8(const cg_gather_params *p, const int8_t *input, int8_t *output)
{
    int32_t o, k;
    for (o = 0; o < p->outer; o++) {
        for (k = 0; k < p->count; k++) {
            const int8_t *src = input + ((size_t)o * p->axis_size + (size_t)p->coords[k]) * p->inner;
            memcpy(output, src, (size_t)p->inner * sizeof(*output));
            output += p->inner;
        }
    }
    return CG_OK;
}
