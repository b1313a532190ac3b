/* codegen runtime: int8 PRELU with broadcasting (TFLM BroadcastPrelu4DSlow: x >= 0 rescaled, else x * alpha rescaled). */
#include "cg_nn.h"
#include "cg_nn_support.h"

static int8_t apply(const cg_prelu_s8_params *p, int8_t x, int8_t alpha)
{
    const int32_t in = p->input_offset + x;
    int32_t out;
    if (in >= 0) {
        out = cg_requantize(in, p->multiplier_1, p->shift_1);
    } else {
        out = cg_requantize(in * (p->alpha_offset + alpha), p->multiplier_2, p->shift_2);
    }
    return (int8_t)cg_clamp_i32(out + p->output_offset, -128, 127);
}

cg_status cg_prelu_s8(const cg_prelu_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const cg_broadcast_params *s = &p->shape;
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
                const int8_t *a = input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];
                const int8_t *b = input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];
                for (i3 = 0; i3 < s->out_dims[3]; i3++) {
                    *output++ = apply(p, a[i3 * s->in1_stride[3]], b[i3 * s->in2_stride[3]]);
                }
            }
        }
    }
    return CG_OK;
}
