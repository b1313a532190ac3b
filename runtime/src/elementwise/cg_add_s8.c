/* codegen runtime: int8 ADD and SUB with broadcasting (TFLite arithmetic: inputs rescaled to a common
 * scale with 20 bits of headroom, then added or subtracted).  An int8 input has only 256 values, so with scratch memory the two input
 * rescalings are tabulated once per call (exact: the same arithmetic, evaluated for every int8 value) and
 * each element costs two look-ups and one output requantization. */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_ADD_TABLE_MIN_SIZE 1024

int32_t cg_add_s8_get_scratch_size(const cg_add_s8_params *p)
{
    return p->shape.size >= CG_ADD_TABLE_MIN_SIZE ? 2 * 256 * (int32_t)sizeof(int32_t) : 0;
}

static int32_t rescale(int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift, int32_t v)
{
    return cg_requantize(cg_shl_wrap(offset + v, left_shift), multiplier, shift);
}

/* rescaled input2, negated for SUB (exact: |rescaled| < 2^29) */
static int32_t rescale2(const cg_add_s8_params *p, int32_t v)
{
    const int32_t r = rescale(p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift, v);
    return p->subtract ? -r : r;
}

static int8_t finish(const cg_add_s8_params *p, int32_t sum)
{
    const int32_t out = cg_requantize(sum, p->output_multiplier, p->output_shift) + p->output_offset;
    return (int8_t)cg_clamp_i32(out, p->act_min, p->act_max);
}

cg_status cg_add_s8(const cg_add_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                    int32_t *scratch)
{
    const cg_broadcast_params *s = &p->shape;
    const int32_t *t1, *t2;
    int32_t i0, i1, i2, i3;
    if (scratch == 0) {
        if (cg_add_s8_get_scratch_size(p) != 0) {
            return CG_ERR_SCRATCH;
        }
        /* small tensors: rescale each element directly */
        if (!s->broadcast) {
            for (i0 = 0; i0 < s->size; i0++) {
                output[i0] = finish(p, rescale(p->input1_offset, p->left_shift, p->input1_multiplier,
                                               p->input1_shift, input1[i0]) +
                                           rescale2(p, input2[i0]));
            }
            return CG_OK;
        }
        for (i0 = 0; i0 < s->out_dims[0]; i0++) {
            for (i1 = 0; i1 < s->out_dims[1]; i1++) {
                for (i2 = 0; i2 < s->out_dims[2]; i2++) {
                    const int8_t *a =
                        input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];
                    const int8_t *b =
                        input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];
                    for (i3 = 0; i3 < s->out_dims[3]; i3++) {
                        *output++ = finish(p, rescale(p->input1_offset, p->left_shift, p->input1_multiplier,
                                                      p->input1_shift, a[i3 * s->in1_stride[3]]) +
                                                  rescale2(p, b[i3 * s->in2_stride[3]]));
                    }
                }
            }
        }
        return CG_OK;
    }
    for (i0 = 0; i0 < 256; i0++) {
        scratch[i0] = rescale(p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift, i0 - 128);
        scratch[256 + i0] = rescale2(p, i0 - 128);
    }
    t1 = scratch + 128;   /* t1[v] for v in [-128, 127] */
    t2 = scratch + 384;
    if (!s->broadcast) {
        /* parameters in locals: an int8 store may alias any memory, so reading them through `p` after each
         * store would reload them for every element */
        const int32_t mult = p->output_multiplier, shift = p->output_shift, off = p->output_offset;
        const int32_t lo = p->act_min, hi = p->act_max, n = s->size;
        for (i0 = 0; i0 < n; i0++) {
            const int32_t v = cg_requantize(t1[input1[i0]] + t2[input2[i0]], mult, shift) + off;
            output[i0] = (int8_t)cg_clamp_i32(v, lo, hi);
        }
        return CG_OK;
    }
    for (i0 = 0; i0 < s->out_dims[0]; i0++) {
        for (i1 = 0; i1 < s->out_dims[1]; i1++) {
            for (i2 = 0; i2 < s->out_dims[2]; i2++) {
                const int8_t *a = input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];
                const int8_t *b = input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];
                for (i3 = 0; i3 < s->out_dims[3]; i3++) {
                    *output++ = finish(p, t1[a[i3 * s->in1_stride[3]]] + t2[b[i3 * s->in2_stride[3]]]);
                }
            }
        }
    }
    return CG_OK;
}
