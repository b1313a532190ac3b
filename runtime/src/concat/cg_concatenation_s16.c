/* codegen runtime: copy one int16 input of a concatenation into its slot of the output. */
#include <string.h>

#include "cg_nn.h"

cg_status cg_concatenation_s16(const cg_concatenation_params *p, const int16_t *input, int16_t *output)
{
    int32_t o;
    for (o = 0; o < p->outer; o++) {
        memcpy(output + o * p->out_stride + p->out_offset, input + o * p->copy_size,
               (size_t)p->copy_size * sizeof(int16_t));
    }
    return CG_OK;
}
