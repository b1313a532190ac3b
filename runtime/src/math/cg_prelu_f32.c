/* codegen runtime: float32 PRELU with broadcasting. */
#include "cg_nn.h"
#include "cg_nn_support.h"

static float apply(const cg_broadcast_params *p, float x, float alpha)
{
    (void)p;
    return x >= 0.0f ? x : x * alpha;
}

cg_status cg_prelu_f32(const cg_broadcast_params *p, const float *input1, const float *input2, float *output)
{
    const cg_broadcast_params *s = p;
    int32_t i0, i1, i2, i3;
    if (!s->broadcast) {
        for (i0 = 0; i0 < s->size; i0++) {
            output[i0] = apply(p, input1[i0], input2[i0]);
        }
        return CG_OK;
    }
    for (i0 = 0; i0 < s->out_dims[0]; i0++) {
        for (i1 = 0; i1 < s->out_dims[1]; i1++) {
            for (i2 = 0; i2 < s->out_dims[2]; i2++) {
                const float *a = input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];
                const float *b = input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];
                for (i3 = 0; i3 < s->out_dims[3]; i3++) {
                    *output++ = apply(p, a[i3 * s->in1_stride[3]], b[i3 * s->in2_stride[3]]);
                }
            }
        }
    }
    return CG_OK;
}
