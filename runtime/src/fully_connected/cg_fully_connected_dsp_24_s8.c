/* codegen runtime: int8 fully connected layer for cores with the Armv7E-M DSP extension, for "tile-wise 2:4"
 * weights: in every group of 4 input steps at most two positions (i, j) hold a non-zero weight in any unit of a
 * block of 4 units.  Only those weights are stored (int8) and multiplied.
 *
 * Same arithmetic as cg_fully_connected_s8 (TFLite reference, input offset folded into `bias`).  The input row
 * is first widened into the scratch, per group g of 4 inputs the six 16-bit pairs (x_i, x_j) in the order of
 * the patterns (0, 2), (1, 3), (0, 1), (2, 3), (0, 3), (1, 2) (SXTB16, then PKHBT/PKHTB): 24 bytes per group,
 * so the pattern's pair is one load.  Units u, u+1 share 16-bit operands as in cg_fully_connected_dsp_s8:
 * v = 256 * w[u+1] + w[u] (the generator checks that it fits int16); SMLAD of the pair word accumulates
 * A = 256 * S[u+1] + S[u], SMLAD of its SXTB16 B = S[u], and S[u+1] = (A - B) / 256 exactly while
 * |S[u+1]| < 2^23 (at most 255 groups: 255 * 2 * 2^14 < 2^23; the generator checks the depth).
 *
 * `filter` (int32 words, lower/sparse24.py fc_stream): per block of 4 units (zero units pad the last block)
 * the group count n, ceil(n / 4) words of pattern bytes (one per group, in group order), then per group the
 * words (v_i, v_j) of the unit pairs (0, 1) and (2, 3).  Per group 10 instructions in the inner loop for
 * 16 multiply-accumulates of the dense layer.  `scratch`: 6 * ceil(in_depth / 4) words. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

int32_t cg_fully_connected_dsp_24_s8_get_scratch_size(const cg_fully_connected_s8_params *p)
{
    return 24 * ((p->in_depth + 3) / 4);
}

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* one group: r0 the widened input of the group, r1 pattern bytes, r2 weights; A/B sums r4..r7 */
#define CG_FC24_GROUP                        \
    "ldrb    r3, [r1], #1\n"                 \
    "ldr     r3, [r0, r3, lsl #2]\n"         \
    "add     r0, r0, #24\n"                  \
    "ldrd    r12, lr, [r2], #8\n"            \
    "smlad   r4, r3, r12, r4\n"              \
    "sxtb16  r12, r12\n"                     \
    "smlad   r5, r3, r12, r5\n"              \
    "smlad   r6, r3, lr, r6\n"               \
    "sxtb16  lr, lr\n"                       \
    "smlad   r7, r3, lr, r7\n"

/* s[0..3] = A01, B01, A23, B23 over n >= 1 groups; returns the end of the weights */
__attribute__((naked, noinline)) static const uint32_t *groups_24(const uint32_t *x __attribute__((unused)),
                                                                 const uint8_t *pat __attribute__((unused)),
                                                                 const uint32_t *w __attribute__((unused)),
                                                                 int32_t *s __attribute__((unused)),
                                                                 int32_t n __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r8, lr}\n"
        "ldr     r8, [sp, #24]\n"            /* n */
        "push    {r3}\n"
        "movs    r4, #0\n"
        "movs    r5, #0\n"
        "movs    r6, #0\n"
        "movs    r7, #0\n"
        "add     r8, r1, r8\n"               /* end of the pattern bytes */
        "subs    r3, r8, r1\n"
        "tst     r3, #1\n"
        "bne     2f\n"
        "1:\n"
        CG_FC24_GROUP
        "2:\n"
        CG_FC24_GROUP
        "cmp     r1, r8\n"
        "bne     1b\n"
        "pop     {r3}\n"
        "stm     r3, {r4-r7}\n"
        "mov     r0, r2\n"
        "pop     {r4-r8, pc}\n");
}
#else
static const uint32_t *groups_24(const uint32_t *x, const uint8_t *pat, const uint32_t *w, int32_t *s, int32_t n)
{
    int32_t a0 = 0, b0 = 0, a1 = 0, b1 = 0, g;
    for (g = 0; g < n; g++) {
        const uint32_t xx = x[pat[g]];
        a0 = cg_smlad(xx, w[0], a0);
        b0 = cg_smlad(xx, cg_sxtb16(w[0]), b0);
        a1 = cg_smlad(xx, w[1], a1);
        b1 = cg_smlad(xx, cg_sxtb16(w[1]), b1);
        x += 6;
        w += 2;
    }
    s[0] = a0;
    s[1] = b0;
    s[2] = a1;
    s[3] = b1;
    return w;
}
#endif

/* the six pattern pairs of each group of 4 inputs (the last group zero-padded) */
static void widen(const int8_t *x, int32_t depth, uint32_t *out)
{
    int32_t k;
    for (k = 0; k < depth; k += 4) {
        int8_t v[4] = {0, 0, 0, 0};
        uint32_t lo, hi;
        int32_t j;
        if (k + 4 <= depth) {
            lo = cg_read_s8x4(x + k);
        } else {
            for (j = 0; k + j < depth; j++) {
                v[j] = x[k + j];
            }
            lo = cg_read_s8x4(v);
        }
        hi = cg_sxtb16_ror8(lo);
        lo = cg_sxtb16(lo);
        out[0] = lo;                                  /* (x0, x2) */
        out[1] = hi;                                  /* (x1, x3) */
        out[2] = (lo & 0xffffu) | (hi << 16);         /* (x0, x1) */
        out[3] = (lo >> 16) | (hi & 0xffff0000u);     /* (x2, x3) */
        out[4] = (lo & 0xffffu) | (hi & 0xffff0000u); /* (x0, x3) */
        out[5] = (hi & 0xffffu) | (lo & 0xffff0000u); /* (x1, x2) */
        out += 6;
    }
}

cg_status cg_fully_connected_dsp_24_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                       const int32_t *filter, const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    uint32_t *const x = (uint32_t *)(void *)scratch;
    int32_t b, u, j;
    if (filter == 0 || bias == 0 || ((uintptr_t)filter & 3u) != 0 || depth <= 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0 || ((uintptr_t)scratch & 3u) != 0) {
        return CG_ERR_SCRATCH;
    }
    for (b = 0; b < p->batches; b++) {
        const uint32_t *w = (const uint32_t *)(const void *)filter;
        int8_t *out = output + b * units;
        widen(input + b * depth, depth, x);
        for (u = 0; u < units; u += 4) {
            const int32_t n = (int32_t)*w++;
            const uint8_t *pat = (const uint8_t *)(const void *)w;
            int32_t s[4] = {0, 0, 0, 0}, t[4];
            w += (n + 3) >> 2;
            if (n > 0) {
                w = groups_24(x, pat, w, s, n);
            }
            t[0] = s[1];
            t[1] = (int32_t)((uint32_t)s[0] - (uint32_t)s[1]) >> 8; /* exact: 256 * S1 */
            t[2] = s[3];
            t[3] = (int32_t)((uint32_t)s[2] - (uint32_t)s[3]) >> 8;
            for (j = 0; j < 4 && u + j < units; j++) {
                const int32_t acc = bias[u + j] + t[j], m = p->multiplier[u + j], e = p->shift[u + j];
                const int32_t y = e <= -2 ? cg_requantize_down(acc, m, -e) : cg_requantize(acc, m, e);
                out[u + j] = (int8_t)cg_clamp_i32(y + p->output_offset, p->act_min, p->act_max);
            }
        }
    }
    return CG_OK;
}
