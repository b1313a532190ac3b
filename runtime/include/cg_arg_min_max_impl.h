/* codegen runtime: what the four ARG_MAX / ARG_MIN kernels share (internal, header-only; included by
 * cg_arg_min_max_{f32,s8}_{s32,s64}.c, which differ only in their value and index types).
 *
 * As TFLM's ArgMinMax: the first index whose value is strictly larger (smaller) than every earlier one along the
 * axis.  CG_ARG_MIN_MAX_BODY(value_t, index_t) is the whole body of a kernel whose parameters are named `p`,
 * `input` and `output`. */
#ifndef CG_ARG_MIN_MAX_IMPL_H
#define CG_ARG_MIN_MAX_IMPL_H

#include "cg_nn.h"

#define CG_ARG_MIN_MAX_BODY(value_t, index_t)                                                                        \
    const int32_t n = p->axis_size, inner = p->inner;                                                                \
    int32_t o, j, i;                                                                                                 \
    if (n < 1) {                                                                                                     \
        return CG_ERR_ARG;                                                                                           \
    }                                                                                                                \
    for (o = 0; o < p->outer; o++) {                                                                                 \
        for (j = 0; j < inner; j++) {                                                                                \
            const value_t *x = input + (o * n) * inner + j;                                                          \
            value_t best = x[0];                                                                                     \
            int32_t index = 0;                                                                                       \
            for (i = 1; i < n; i++) {                                                                                \
                const value_t v = x[i * inner];                                                                      \
                if (p->select_min ? v < best : v > best) {                                                           \
                    best = v;                                                                                        \
                    index = i;                                                                                       \
                }                                                                                                    \
            }                                                                                                        \
            output[o * inner + j] = (index_t)index;                                                                  \
        }                                                                                                            \
    }                                                                                                                \
    return CG_OK

#endif
