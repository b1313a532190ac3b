/* codegen runtime: int8 fully connected layer for cores with the Armv7E-M DSP extension (Cortex-M4/M7/M33).
 *
 * Same arithmetic as cg_fully_connected_s8 (TFLite reference, folded input offset).  Each input row is first
 * widened to 16 bits into the scratch buffer with SXTB16, per 4 values k..k+3 the pairs (x[k], x[k+2]) and
 * (x[k+1], x[k+3]); the generator stores the weights widened in the same order, four units interleaved
 * (cg_nn.h), so four units are accumulated together with SMLAD and each input word is loaded once per four
 * units. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

int32_t cg_fully_connected_dsp_s8_get_scratch_size(const cg_fully_connected_s8_params *p)
{
    return ((p->in_depth + 3) & ~3) * (int32_t)sizeof(int16_t);
}

/* s[u] += x . w_u for the four units of a group, over n >= 1 groups of 4 depth steps */
__attribute__((noinline)) static void mac_1x4(const uint32_t *x, const uint32_t *w, int32_t n, int32_t *s)
{
    int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    do {
        uint32_t a = x[0];
        s0 = cg_smlad(a, w[0], s0);
        s1 = cg_smlad(a, w[1], s1);
        s2 = cg_smlad(a, w[2], s2);
        s3 = cg_smlad(a, w[3], s3);
        a = x[1];
        s0 = cg_smlad(a, w[4], s0);
        s1 = cg_smlad(a, w[5], s1);
        s2 = cg_smlad(a, w[6], s2);
        s3 = cg_smlad(a, w[7], s3);
        x += 2;
        w += 8;
    } while (--n);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

cg_status cg_fully_connected_dsp_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                    const int16_t *filter, const int32_t *bias, int8_t *output, int16_t *scratch)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    const int32_t kp = (depth + 3) & ~3;
    const int32_t *const mult = p->multiplier, *const shift = p->shift;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    uint32_t *x = (uint32_t *)(void *)scratch;
    int32_t b, u, i, j;
    if (bias == 0 || depth <= 0 || ((uintptr_t)filter & 3u) != 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0 || ((uintptr_t)scratch & 3u) != 0) {
        return CG_ERR_SCRATCH;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *in = input + b * depth;
        int8_t *out = output + b * units;
        const uint32_t *w = (const uint32_t *)(const void *)filter;
        for (i = 0; i + 4 <= depth; i += 4) {
            const uint32_t v = cg_read_s8x4(in + i);
            x[i >> 1] = cg_sxtb16(v);
            x[(i >> 1) + 1] = cg_sxtb16_ror8(v);
        }
        if (i < depth) {  /* zero-padded tail */
            uint32_t v = 0;
            for (j = 0; i + j < depth; j++) {
                v |= (uint32_t)(uint8_t)in[i + j] << (8 * j);
            }
            x[i >> 1] = cg_sxtb16(v);
            x[(i >> 1) + 1] = cg_sxtb16_ror8(v);
        }
        for (u = 0; u < units; u += 4) {
            const int32_t n = units - u < 4 ? units - u : 4;
            int32_t s[4];
            for (j = 0; j < 4; j++) {
                s[j] = j < n ? bias[u + j] : 0;
            }
            mac_1x4(x, w, kp >> 2, s);
            w += 4 * (kp >> 1);
            for (j = 0; j < n; j++) {
                const int32_t acc = cg_requantize(s[j], mult[u + j], shift[u + j]) + off;
                out[u + j] = (int8_t)cg_clamp_i32(acc, lo, hi);
            }
        }
    }
    return CG_OK;
}
