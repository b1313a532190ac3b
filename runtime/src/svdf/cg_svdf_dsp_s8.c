/* codegen runtime: int8 SVDF with int16 state for cores with the DSP extension (cg_dsp.h), same results as
 * cg_svdf_s8 bit for bit.  The zero points are folded at generation time: `feature_bias[f]` is
 * input_offset * sum(weights_feature[f]), and `bias[u]` is the unit's bias minus state_zero_point times the sum of
 * its filters' time weights, so the inner loops are plain dot products: the feature weights and the input four
 * int8 values at a time (SXTB16 + SMLAD), the time weights and the state two int16 values at a time (SMLAD).
 * Integer sums are exact modulo 2^32 in any order, as in the reference. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

static inline uint32_t read_s16x2(const int16_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The state row moves one step back in time, two int16 values per word copy (an element loop would become a
 * memmove call). */
static void shift_row(int16_t *row, int32_t memory)
{
    int32_t i = 0;
    for (; i + 2 < memory; i += 2) {
        uint32_t v;
        memcpy(&v, row + i + 1, 4);
        memcpy(row + i, &v, 4);
    }
    for (; i + 1 < memory; i++) {
        row[i] = row[i + 1];
    }
}

/* The feature dot product requantized to the state scale, state zero point added before the int16 clamp. */
static inline int16_t newest(int32_t acc, const cg_svdf_s8_params *p)
{
    acc = cg_requantize(acc, p->feature_multiplier, p->feature_shift) + p->state_zero_point;
    return (int16_t)cg_clamp_i32(acc, p->state_min, p->state_max);
}

cg_status cg_svdf_dsp_s8(const cg_svdf_s8_params *p, const int8_t *input, const int8_t *weights_feature,
                         const int32_t *feature_bias, const int16_t *weights_time, const int32_t *bias,
                         int16_t *state, int8_t *output)
{
    const int32_t depth = p->input_size, filters = p->filters, memory = p->memory;
    int32_t b, f, u, r, i;
    if (memory < 1 || p->rank < 1) {
        return CG_ERR_ARG;
    }
    if (feature_bias == 0 || bias == 0) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *x = input + b * depth;
        int16_t *st = state + b * filters * memory;
        /* two filters per pass share the input words and their SXTB16 halves */
        for (f = 0; f + 1 < filters; f += 2) {
            int16_t *row0 = st + f * memory;
            int16_t *row1 = row0 + memory;
            const int8_t *w0 = weights_feature + f * depth;
            const int8_t *w1 = w0 + depth;
            int32_t acc0 = feature_bias[f], acc1 = feature_bias[f + 1];
            shift_row(row0, memory);
            shift_row(row1, memory);
            for (i = 0; i + 4 <= depth; i += 4) {
                const uint32_t xv = cg_read_s8x4(x + i);
                const uint32_t xe = cg_sxtb16(xv), xo = cg_sxtb16_ror8(xv);
                const uint32_t v0 = cg_read_s8x4(w0 + i);
                const uint32_t v1 = cg_read_s8x4(w1 + i);
                acc0 = cg_smlad(cg_sxtb16(v0), xe, acc0);
                acc0 = cg_smlad(cg_sxtb16_ror8(v0), xo, acc0);
                acc1 = cg_smlad(cg_sxtb16(v1), xe, acc1);
                acc1 = cg_smlad(cg_sxtb16_ror8(v1), xo, acc1);
            }
            for (; i < depth; i++) {
                acc0 += w0[i] * x[i];
                acc1 += w1[i] * x[i];
            }
            row0[memory - 1] = newest(acc0, p);
            row1[memory - 1] = newest(acc1, p);
        }
        if (f < filters) {
            int16_t *row = st + f * memory;
            const int8_t *w = weights_feature + f * depth;
            int32_t acc = feature_bias[f];
            shift_row(row, memory);
            for (i = 0; i + 4 <= depth; i += 4) {
                const uint32_t wv = cg_read_s8x4(w + i);
                const uint32_t xv = cg_read_s8x4(x + i);
                acc = cg_smlad(cg_sxtb16(wv), cg_sxtb16(xv), acc);
                acc = cg_smlad(cg_sxtb16_ror8(wv), cg_sxtb16_ror8(xv), acc);
            }
            for (; i < depth; i++) {
                acc += w[i] * x[i];
            }
            row[memory - 1] = newest(acc, p);
        }
        for (u = 0; u < p->units; u++) {
            int32_t acc = bias[u];
            for (r = 0; r < p->rank; r++) {
                const int32_t k = u * p->rank + r;
                const int16_t *t = weights_time + k * memory;
                const int16_t *row = st + k * memory;
                for (i = 0; i + 2 <= memory; i += 2) {
                    acc = cg_smlad(read_s16x2(t + i), read_s16x2(row + i), acc);
                }
                if (i < memory) {
                    acc += t[i] * row[i];
                }
            }
            acc = cg_requantize(acc, p->output_multiplier, p->output_shift) + p->output_offset;
            output[b * p->units + u] = (int8_t)cg_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
    return CG_OK;
}
