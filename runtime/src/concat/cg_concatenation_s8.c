/* codegen runtime: copy one int8 input of a concatenation into its slot of the output. */
#include <string.h>

#include "cg_nn.h"

cg_status cg_concatenation_s8(const cg_concatenation_params *p, const int8_t *input, int8_t *output)
{
    int32_t o;
    for (o = 0; o < p->outer; o++) {
        memcpy(output + o * p->out_stride + p->out_offset, input + o * p->copy_size, (size_t)p->copy_size);
    }
    return CG_OK;
}
