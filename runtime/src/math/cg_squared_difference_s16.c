/* codegen runtime: int16 SQUARED_DIFFERENCE with broadcasting (TFLM: the int8 arithmetic, left shift 0 for int16). */
#include "cg_nn.h"
#include "cg_nn_support.h"

static int16_t apply(const cg_squared_difference_s8_params *p, int16_t x, int16_t y)
{
    const int32_t a = cg_requantize((p->input1_offset + x) * (1 << p->left_shift), p->input1_multiplier,
                                    p->input1_shift);
    const int32_t b = cg_requantize((p->input2_offset + y) * (1 << p->left_shift), p->input2_multiplier,
                                    p->input2_shift);
    const int32_t d = a - b;
    const int32_t out = cg_requantize(d * d, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int16_t)cg_clamp_i32(out, -32768, 32767);
}

cg_status cg_squared_difference_s16(const cg_squared_difference_s8_params *p, const int16_t *input1, const int16_t *input2, int16_t *output)
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
                const int16_t *a = input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];
                const int16_t *b = input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];
                for (i3 = 0; i3 < s->out_dims[3]; i3++) {
                    *output++ = apply(p, a[i3 * s->in1_stride[3]], b[i3 * s->in2_stride[3]]);
                }
            }
        }
    }
    return CG_OK;
}
