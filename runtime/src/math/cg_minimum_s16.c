/* codegen runtime: int16_t MINIMUM with broadcasting (TFLM: a < b ? a : b on the raw values). */
#include "cg_nn.h"

static int16_t pick(int16_t a, int16_t b)
{
    return a < b ? a : b;
}

cg_status cg_minimum_s16(const cg_broadcast_params *s, const int16_t *input1, const int16_t *input2, int16_t *output)
{
    int32_t i0, i1, i2, i3;
    if (!s->broadcast) {
        for (i0 = 0; i0 < s->size; i0++) {
            output[i0] = pick(input1[i0], input2[i0]);
        }
        return CG_OK;
    }
    for (i0 = 0; i0 < s->out_dims[0]; i0++) {
        for (i1 = 0; i1 < s->out_dims[1]; i1++) {
            for (i2 = 0; i2 < s->out_dims[2]; i2++) {
                const int16_t *a = input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];
                const int16_t *b = input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];
                for (i3 = 0; i3 < s->out_dims[3]; i3++) {
                    *output++ = pick(a[i3 * s->in1_stride[3]], b[i3 * s->in2_stride[3]]);
                }
            }
        }
    }
    return CG_OK;
}
