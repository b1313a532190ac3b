/* codegen runtime: PAD a 4-D int16_t tensor with a constant. */
#include "cg_nn.h"

cg_status cg_pad_s16(const cg_pad_params *p, int16_t pad_value, const int16_t *input, int16_t *output)
{
    const int32_t o1 = p->before[1] + p->in_dims[1] + p->after[1];
    const int32_t o2 = p->before[2] + p->in_dims[2] + p->after[2];
    const int32_t o3 = p->before[3] + p->in_dims[3] + p->after[3];
    const int32_t o0 = p->before[0] + p->in_dims[0] + p->after[0];
    int32_t i0, i1, i2, i3;
    for (i0 = 0; i0 < o0; i0++) {
        for (i1 = 0; i1 < o1; i1++) {
            for (i2 = 0; i2 < o2; i2++) {
                const int32_t j0 = i0 - p->before[0], j1 = i1 - p->before[1], j2 = i2 - p->before[2];
                const int inside = j0 >= 0 && j0 < p->in_dims[0] && j1 >= 0 && j1 < p->in_dims[1] && j2 >= 0 &&
                                   j2 < p->in_dims[2];
                const int16_t *row = !inside ? input : input + ((j0 * p->in_dims[1] + j1) * p->in_dims[2] + j2) * p->in_dims[3];
                for (i3 = 0; i3 < o3; i3++) {
                    const int32_t j3 = i3 - p->before[3];
                    *output++ = (inside && j3 >= 0 && j3 < p->in_dims[3]) ? row[j3] : pad_value;
                }
            }
        }
    }
    return CG_OK;
}
