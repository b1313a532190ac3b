/* codegen runtime: what the two int8 SVDF reference kernels share (internal, header-only; included by
 * cg_svdf_s8.c, int16 state and time weights, and cg_svdf_state8_s8.c, int8 state and time weights, which differ
 * only in that type).
 *
 * Arithmetic of TFLM's integer SVDF reference: the state moves one step back in time, the newest step is the
 * input projected on the feature weights (requantized to the state scale, state zero point added before the
 * state clamp), and each unit sums its `rank` filters' time dot products with the bias before the output
 * requantization.  The int8 output is clamped to the int8 range only: like TFLM, the fused activation is not
 * applied (the quantized output range already encodes it).
 *
 * CG_SVDF_S8_SHIFT_ROW(state_t) defines the kernel file's static shift_row(); CG_SVDF_S8_BODY(state_t) is the
 * whole body of a kernel whose parameters are named as in cg_svdf_s8 (state and time weights of type state_t). */
#ifndef CG_SVDF_S8_IMPL_H
#define CG_SVDF_S8_IMPL_H

#include <string.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

/* The state row moves one step back in time, 4 / sizeof(state_t) values per word copy (an element loop would
 * become a memmove call). */
#define CG_SVDF_S8_SHIFT_ROW(state_t)                                                                                \
    static void shift_row(state_t *row, int32_t memory)                                                              \
    {                                                                                                                \
        const int32_t per_word = (int32_t)(4 / sizeof(state_t));                                                     \
        int32_t i = 0;                                                                                               \
        for (; i + per_word < memory; i += per_word) {                                                               \
            uint32_t v;                                                                                              \
            memcpy(&v, row + i + 1, 4);                                                                              \
            memcpy(row + i, &v, 4);                                                                                  \
        }                                                                                                            \
        for (; i + 1 < memory; i++) {                                                                                \
            row[i] = row[i + 1];                                                                                     \
        }                                                                                                            \
    }

#define CG_SVDF_S8_BODY(state_t)                                                                                     \
    const int32_t depth = p->input_size, filters = p->filters, memory = p->memory;                                   \
    int32_t b, f, u, r, i;                                                                                           \
    if (memory < 1 || p->rank < 1) {                                                                                 \
        return CG_ERR_ARG;                                                                                           \
    }                                                                                                                \
    for (b = 0; b < p->batches; b++) {                                                                               \
        const int8_t *x = input + b * depth;                                                                         \
        state_t *st = state + b * filters * memory;                                                                  \
        for (f = 0; f < filters; f++) {                                                                              \
            state_t *row = st + f * memory;                                                                          \
            const int8_t *w = weights_feature + f * depth;                                                           \
            int32_t acc = 0;                                                                                         \
            shift_row(row, memory);                                                                                  \
            for (i = 0; i < depth; i++) {                                                                            \
                acc += w[i] * (x[i] + p->input_offset);                                                              \
            }                                                                                                        \
            acc = cg_requantize(acc, p->feature_multiplier, p->feature_shift) + p->state_zero_point;                 \
            row[memory - 1] = (state_t)cg_clamp_i32(acc, p->state_min, p->state_max);                                \
        }                                                                                                            \
        for (u = 0; u < p->units; u++) {                                                                             \
            int32_t acc = bias != 0 ? bias[u] : 0;                                                                   \
            for (r = 0; r < p->rank; r++) {                                                                          \
                const int32_t k = u * p->rank + r;                                                                   \
                const state_t *t = weights_time + k * memory;                                                        \
                const state_t *row = st + k * memory;                                                                \
                for (i = 0; i < memory; i++) {                                                                       \
                    acc += t[i] * (row[i] - p->state_zero_point);                                                    \
                }                                                                                                    \
            }                                                                                                        \
            acc = cg_requantize(acc, p->output_multiplier, p->output_shift) + p->output_offset;                      \
            output[b * p->units + u] = (int8_t)cg_clamp_i32(acc, p->act_min, p->act_max);                            \
        }                                                                                                            \
    }                                                                                                                \
    return CG_OK

#endif
