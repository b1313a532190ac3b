/* codegen runtime: int16_t strided gather over up to 6 axes (TRANSPOSE, slices, splits, depth/space moves). */
#include "cg_nn.h"

cg_status cg_strided_copy_s16(const cg_strided_copy_params *p, const int16_t *input, int16_t *output)
{
    const int32_t *n = p->count;
    const int32_t *st = p->in_stride;
    int32_t i0, i1, i2, i3, i4, i5;
    for (i0 = 0; i0 < n[0]; i0++) {
        for (i1 = 0; i1 < n[1]; i1++) {
            for (i2 = 0; i2 < n[2]; i2++) {
                for (i3 = 0; i3 < n[3]; i3++) {
                    for (i4 = 0; i4 < n[4]; i4++) {
                        const int16_t *src = input + p->in_offset + i0 * st[0] + i1 * st[1] + i2 * st[2] + i3 * st[3]
                                        + i4 * st[4];
                        if (st[5] == 1) {
                            for (i5 = 0; i5 < n[5]; i5++) {
                                *output++ = src[i5];
                            }
                        } else {
                            for (i5 = 0; i5 < n[5]; i5++) {
                                *output++ = src[i5 * st[5]];
                            }
                        }
                    }
                }
            }
        }
    }
    return CG_OK;
}
