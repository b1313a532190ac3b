/* codegen runtime: what the MAXIMUM / MINIMUM kernels share (internal, header-only; included by
 * cg_maximum_{f32,s8,s16}.c and cg_minimum_{f32,s8,s16}.c, which differ only in their element type and in their
 * static pick(a, b): a > b ? a : b or a < b ? a : b on the raw values, as TFLM).
 *
 * CG_MIN_MAX_BODY(elem_t) is the whole body of a kernel whose parameters are named `s`, `input1`, `input2` and
 * `output`: an element-wise loop without broadcasting, else the 4-D broadcast walk. */
#ifndef CG_MIN_MAX_IMPL_H
#define CG_MIN_MAX_IMPL_H

#include "cg_nn.h"

#define CG_MIN_MAX_BODY(elem_t)                                                                                      \
    int32_t i0, i1, i2, i3;                                                                                          \
    if (!s->broadcast) {                                                                                             \
        for (i0 = 0; i0 < s->size; i0++) {                                                                           \
            output[i0] = pick(input1[i0], input2[i0]);                                                               \
        }                                                                                                            \
        return CG_OK;                                                                                                \
    }                                                                                                                \
    for (i0 = 0; i0 < s->out_dims[0]; i0++) {                                                                        \
        for (i1 = 0; i1 < s->out_dims[1]; i1++) {                                                                    \
            for (i2 = 0; i2 < s->out_dims[2]; i2++) {                                                                \
                const elem_t *a = input1 + i0 * s->in1_stride[0] + i1 * s->in1_stride[1] + i2 * s->in1_stride[2];   \
                const elem_t *b = input2 + i0 * s->in2_stride[0] + i1 * s->in2_stride[1] + i2 * s->in2_stride[2];   \
                for (i3 = 0; i3 < s->out_dims[3]; i3++) {                                                            \
                    *output++ = pick(a[i3 * s->in1_stride[3]], b[i3 * s->in2_stride[3]]);                            \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
    return CG_OK

#endif
