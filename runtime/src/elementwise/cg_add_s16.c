/* codegen runtime: int16 ADD and SUB with broadcasting, TFLM's reference arithmetic for int16 (inputs
 * rescaled to a common scale with 15 bits of headroom, then added or subtracted, output requantized). */
#include "cg_nn.h"
#include "cg_nn_support.h"

static int32_t rescale(int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift, int32_t v)
{
    return cg_requantize(cg_shl_wrap(offset + v, left_shift), multiplier, shift);
}

static int16_t combine(const cg_add_s8_params *p, int32_t a, int32_t b)
{
    const int32_t r1 = rescale(p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift, a);
    const int32_t r2 = rescale(p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift, b);
    const int32_t sum = p->subtract ? r1 - r2 : r1 + r2;
    const int32_t out = cg_requantize(sum, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int16_t)cg_clamp_i32(out, p->act_min, p->act_max);
}

cg_status cg_add_s16(const cg_add_s8_params *p, const int16_t *input1, const int16_t *input2, int16_t *output)
{
    const cg_broadcast_params *s = &p->shape;
    int32_t i0, i1, i2, i3;
    if (!s->broadcast) {
        for (i0 = 0; i0 < s->size; i0++) {
            output[i0] = combine(p, input1[i0], input2[i0]);
        }
        return CG_OK;
    }
    for (i0 = 0; i0 < s->out_dims[0]; i0++) {
        for (i1 = 0; i1 < s->out_dims[1]; i1++) {
            for (i2 = 0; i2 < s->out_dims[2]; i2++) {
                const int16_t *a = input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];
                const int16_t *b = input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];
                for (i3 = 0; i3 < s->out_dims[3]; i3++) {
                    *output++ = combine(p, a[i3 * s->in1_stride[3]], b[i3 * s->in2_stride[3]]);
                }
            }
        }
    }
    return CG_OK;
}
