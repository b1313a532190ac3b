/* codegen runtime: int8 fully connected layer for cores with the Armv7E-M DSP extension (Cortex-M4/M7/M33).
 *
 * Same arithmetic as cg_fully_connected_s8 (TFLite reference, input offset folded into the bias), int8 weights
 * in flash and no scratch: the input is read as int8 words and widened with SXTB16 in registers.
 *
 * Two units share every 16-bit weight operand.  The generator stores, for the unit pair (u, u+1) and depth step
 * k, the 16-bit value v = 256 * w[u+1][k] + w[u][k] (it fits int16 unless w[u+1][k] == -128 and w[u][k] < 0,
 * which the generator rules out).  Its low byte is w[u][k], so SXTB16 of a word of two such values gives the
 * weights of unit u alone.  Per pair, SMLAD on the raw word accumulates A = 256 * S1 + S0 and SMLAD on its
 * SXTB16 accumulates B = S0 (S0, S1: the dot products of units u and u+1), both modulo 2^32; S1 = (A - B) / 256
 * exactly while |S1| < 2^23, which holds over CG_FC_CHUNK blocks of 4 depth steps (|x * w| <= 2^14), so the
 * sums are moved out after at most CG_FC_CHUNK blocks.  Eight units (four pairs) per pass: per 4 depth steps one
 * input word, 2 + 8 SXTB16, 4 LDRD of weights and 16 SMLAD for 32 multiply-accumulates.
 *
 * Layout of `filter` (lower/packing.py pack_fc_pairs): units in groups of 8 (zero units pad the last group),
 * depth padded to a multiple of 4, per group and per 4 steps k..k+3 eight words: for each pair (0, 1), (2, 3),
 * (4, 5), (6, 7) the values at steps (k, k+2), then at steps (k+1, k+3).  `bias` is padded to a multiple of 8.
 *
 * The generator doubles the bias, and the sums are kept doubled (2 * S0 = 2 * B, 2 * S1 = (A - B) >> 7: the same
 * instructions), which it allows only while |S| < 2^30.  Output stage: SMMULR(2 * S, m) = floor((S * m + 2^30) /
 * 2^31) is TFLite's rounding doubling high multiply, and its rounding right shift by r = -shift plus the output
 * offset is (t - [t < 0] + 2^(r-1) + offset * 2^r) >> r (cg_add_dsp_s8's output stage).  With every shift in
 * [-22, -1] and the full int8 clamp (checked by the generator and once per call) the eight outputs are computed in
 * registers, 6 instructions each, from one (h, m, r) kept in registers for a per-tensor layer or from the
 * generator's per-unit table `out_stage` (one LDM more per output); otherwise in C from the sums left in memory. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_FC_CHUNK 127 /* 127 * 4 * 2^14 < 2^23 */

/* the work of one call of rows_8 (the byte offsets are used by the assembly) */
typedef struct {
    const int8_t *end;    /* +0: end of the input blocks */
    const int32_t *src;   /* +4: the sums so far (the bias of the group, then s) */
    int32_t s[8];         /* +8: the doubled sums of the last group, when out is NULL */
    int8_t *out;          /* +40: NULL, or the outputs of the first group (fast output stage) */
    int32_t h;            /* +44: 2^(r-1) + output_offset * 2^r, r = -shift */
    int32_t m;            /* +48: multiplier */
    int32_t r;            /* +52 */
    int32_t groups;       /* +56: groups of eight units to do (1 unless out is set) */
    const int8_t *start;  /* +60: start of the input blocks */
    const int32_t *bias;  /* +64: the bias of the next group (or s, to continue from the sums) */
    int32_t zero[8];      /* +68 */
    const int32_t *table; /* +100: NULL (h, m, r above), or (h, m, r) per unit of the next group */
} fc_job;

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* one pair at one block: r2/r3 the pair's two words, r12/lr the input halves (x[k], x[k+2]), (x[k+1], x[k+3]) */
#define CG_FC_PAIR(A, B)                 \
    "ldrd    r2, r3, [r1], #8\n"         \
    "smlad   " A ", r12, r2, " A "\n"    \
    "sxtb16  r2, r2\n"                   \
    "smlad   " B ", r12, r2, " B "\n"    \
    "smlad   " A ", lr, r3, " A "\n"     \
    "sxtb16  r3, r3\n"                   \
    "smlad   " B ", lr, r3, " B "\n"

/* one block of 4 depth steps: r0 input, r1 weights; (A, B) of the pairs in r4/r5, r6/r7, r8/r9, r10/r11 */
#define CG_FC_BLOCK                      \
    "ldr     lr, [r0], #4\n"             \
    "sxtb16  r12, lr\n"                  \
    "sxtb16  lr, lr, ror #8\n"           \
    CG_FC_PAIR("r4", "r5")               \
    CG_FC_PAIR("r6", "r7")               \
    CG_FC_PAIR("r8", "r9")               \
    CG_FC_PAIR("r10", "r11")

/* the doubled sums of a pair from the previous ones at lr + OFF: B -> 2 * S0 = src[0] + 2 * B,
 * A -> 2 * S1 = src[1] + (A - B) >> 7 (A - B is 256 * S1 exactly) */
#define CG_FC_FOLD(A, B, OFF)                \
    "ldrd    r2, r3, [lr, #" OFF "]\n"       \
    "sub     " A ", " A ", " B "\n"          \
    "add     " B ", r2, " B ", lsl #1\n"     \
    "add     " A ", r3, " A ", asr #7\n"

/* output J from the doubled sum in S: r0 = h, r1 = m, r12 = r, lr = out */
#define CG_FC_OUT(S, J)                      \
    "smmulr  r3, " S ", r1\n"                \
    "add     r3, r3, r3, asr #31\n"         \
    "add     r3, r3, r0\n"                   \
    "asr     r3, r3, r12\n"                  \
    "ssat    r3, #8, r3\n"                   \
    "strb    r3, [lr, #" J "]\n"

/* job->groups groups over the input job->start..job->end (n >= 1 blocks): per chunk one block if its length is
 * odd, two if bit 1 is set, four if bit 2 is set, then eight per loop (251 instructions per 256
 * multiply-accumulates); per group the fold of the pairs' sums and, with job->out, the output stage */
__attribute__((naked, noinline)) static void rows_8(const int8_t *x __attribute__((unused)),
                                                   const uint32_t *w __attribute__((unused)),
                                                   fc_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r11, lr}\n"
        "sub     sp, sp, #8\n"
        "str     r2, [sp, #4]\n"          /* [sp]: end of the chunk (or w), [sp, #4]: job */
        "0:\n"                            /* next group */
        "ldr     r3, [r2, #64]\n"
        "str     r3, [r2, #4]\n"          /* src = bias */
        "add     r3, r3, #32\n"
        "str     r3, [r2, #64]\n"
        "1:\n"                            /* next chunk */
        "add     r3, r2, #68\n"
        "ldm     r3, {r4-r11}\n"
        "ldr     r2, [r2]\n"
        "sub     r3, r2, r0\n"
        "cmp     r3, #508\n"              /* 4 * CG_FC_CHUNK */
        "it      gt\n"
        "addgt   r2, r0, #508\n"
        "str     r2, [sp]\n"
        "sub     r3, r2, r0\n"
        "lsls    r3, r3, #29\n"           /* N: bit 0 of the number of blocks, C: bit 1 */
        "bpl     2f\n"
        CG_FC_BLOCK
        "2:\n"
        "bcc     3f\n"
        CG_FC_BLOCK
        CG_FC_BLOCK
        "3:\n"
        "ldr     r2, [sp]\n"
        "sub     r3, r2, r0\n"
        "tst     r3, #16\n"               /* bit 2 */
        "beq     4f\n"
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        "ldr     r2, [sp]\n"
        "4:\n"
        "cmp     r0, r2\n"
        "beq     5f\n"
        "9:\n"
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        CG_FC_BLOCK
        "ldr     r2, [sp]\n"
        "cmp     r0, r2\n"
        "bne     9b\n"
        "5:\n"
        "ldr     r12, [sp, #4]\n"
        "ldr     lr, [r12, #4]\n"
        CG_FC_FOLD("r4", "r5", "0")
        CG_FC_FOLD("r6", "r7", "8")
        CG_FC_FOLD("r8", "r9", "16")
        CG_FC_FOLD("r10", "r11", "24")
        "add     lr, r12, #8\n"
        "str     lr, [r12, #4]\n"         /* src = s */
        "ldr     r2, [r12]\n"
        "cmp     r0, r2\n"
        "beq     6f\n"                    /* more chunks: the sums so far into s */
        "strd    r5, r4, [lr]\n"
        "strd    r7, r6, [lr, #8]\n"
        "strd    r9, r8, [lr, #16]\n"
        "strd    r11, r10, [lr, #24]\n"
        "mov     r2, r12\n"
        "b       1b\n"
        "6:\n"
        "ldr     r3, [r12, #40]\n"
        "cbnz    r3, 7f\n"
        "strd    r5, r4, [lr]\n"
        "strd    r7, r6, [lr, #8]\n"
        "strd    r9, r8, [lr, #16]\n"
        "strd    r11, r10, [lr, #24]\n"
        "b       8f\n"
        "7:\n"
        "str     r1, [sp]\n"              /* w of the next group */
        "add     r2, r3, #8\n"
        "str     r2, [r12, #40]\n"        /* out += 8 */
        "mov     lr, r3\n"
        "ldr     r3, [r12, #100]\n"
        "cmp     r3, #0\n"
        "bne     10f\n"
        "ldrd    r0, r1, [r12, #44]\n"       /* one (h, m, r) for all units */
        "ldr     r12, [r12, #52]\n"
        CG_FC_OUT("r5", "0")
        CG_FC_OUT("r4", "1")
        CG_FC_OUT("r7", "2")
        CG_FC_OUT("r6", "3")
        CG_FC_OUT("r9", "4")
        CG_FC_OUT("r8", "5")
        CG_FC_OUT("r11", "6")
        CG_FC_OUT("r10", "7")
        "b       11f\n"
        "10:\n"                               /* (h, m, r) per unit from the table */
        "add     r2, r3, #96\n"
        "str     r2, [r12, #100]\n"
        "ldm     r3, {r0, r1, r12}\n"
        CG_FC_OUT("r5", "0")
        "ldr     r5, [sp, #4]\n"
        "ldr     r5, [r5, #100]\n"
        "sub     r5, r5, #84\n"               /* unit 1's entry */
        "ldmia   r5!, {r0, r1, r12}\n"
        CG_FC_OUT("r4", "1")
        "ldmia   r5!, {r0, r1, r12}\n"
        CG_FC_OUT("r7", "2")
        "ldmia   r5!, {r0, r1, r12}\n"
        CG_FC_OUT("r6", "3")
        "ldmia   r5!, {r0, r1, r12}\n"
        CG_FC_OUT("r9", "4")
        "ldmia   r5!, {r0, r1, r12}\n"
        CG_FC_OUT("r8", "5")
        "ldmia   r5!, {r0, r1, r12}\n"
        CG_FC_OUT("r11", "6")
        "ldmia   r5!, {r0, r1, r12}\n"
        CG_FC_OUT("r10", "7")
        "11:\n"
        "ldr     r2, [sp, #4]\n"
        "ldr     r3, [r2, #56]\n"
        "subs    r3, r3, #1\n"
        "str     r3, [r2, #56]\n"
        "beq     8f\n"
        "ldr     r0, [r2, #60]\n"         /* the input again */
        "ldr     r1, [sp]\n"
        "b       0b\n"
        "8:\n"
        "add     sp, sp, #8\n"
        "pop     {r4-r11, pc}\n");
}
#else
/* the assembly's work in C: per group job->s = bias + the dot products of the eight units over the input
 * job->start..job->end, and with job->out the output stage, instruction for instruction */
static void rows_8(const int8_t *x0, const uint32_t *w, fc_job *job)
{
    int32_t a[4], b[4];
    int32_t q, j;
    do {
        const int8_t *x = x0;
        job->src = job->bias;
        job->bias += 8;
        for (j = 0; j < 8; j++) {
            job->s[j] = job->src[j];
        }
        while (x != job->end) {
            const int32_t left = (int32_t)(job->end - x) >> 2;
            const int32_t m = left < CG_FC_CHUNK ? left : CG_FC_CHUNK;
            for (q = 0; q < 4; q++) {
                a[q] = 0;
                b[q] = 0;
            }
            for (j = 0; j < m; j++) {
                const uint32_t v = cg_read_s8x4(x);
                const uint32_t xe = cg_sxtb16(v), xo = cg_sxtb16_ror8(v);
                for (q = 0; q < 4; q++) {
                    a[q] = cg_smlad(xe, w[2 * q], a[q]);
                    b[q] = cg_smlad(xe, cg_sxtb16(w[2 * q]), b[q]);
                    a[q] = cg_smlad(xo, w[2 * q + 1], a[q]);
                    b[q] = cg_smlad(xo, cg_sxtb16(w[2 * q + 1]), b[q]);
                }
                x += 4;
                w += 8;
            }
            for (q = 0; q < 4; q++) {
                job->s[2 * q] += (int32_t)((uint32_t)b[q] << 1);
                job->s[2 * q + 1] += (int32_t)((uint32_t)a[q] - (uint32_t)b[q]) >> 7;
            }
        }
        job->src = job->s;
        if (job->out == 0) {
            return;
        }
        for (j = 0; j < 8; j++) {
            const int32_t *hmr = job->table != 0 ? job->table + 3 * j : &job->h;
            const int32_t t = cg_smmulr(job->s[j], hmr[1]);
            job->out[j] = (int8_t)cg_clamp_i32((t + (t >> 31) + hmr[0]) >> hmr[2], -128, 127);
        }
        if (job->table != 0) {
            job->table += 24;
        }
        job->out += 8;
    } while (--job->groups > 0);
}
#endif

/* requantize the n sums of units u.. (doubled in s2), add the output offset, clamp */
static void output_stage(const cg_fully_connected_dsp_s8_params *p, const int32_t *s2, int32_t u, int32_t n,
                         int8_t *out)
{
    int32_t s[8];
    const int32_t *const mult = p->multiplier + u, *const shift = p->shift + u;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t j;
    for (j = 0; j < n; j++) {
        s[j] = s2[j] >> 1; /* exact: the sums are even */
    }
    for (j = 0; j < n; j++) {
        const int32_t e = shift[j];
        const int32_t v = (e <= -2 ? cg_requantize_r2(s[j], mult[j], e) : cg_requantize(s[j], mult[j], e)) + off;
        out[j] = (int8_t)cg_clamp_i32(v, lo, hi);
    }
}

cg_status cg_fully_connected_dsp_s8(const cg_fully_connected_dsp_s8_params *p, const int8_t *input,
                                    const int8_t *filter, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    const int32_t full = depth >> 2, rest = depth & 3;
    /* the output stage of rows_8: one multiplier and shift (or the per-unit table), full int8 clamp */
    const int fast = !CG_SINGLE_ROUNDING && (p->requant == 1 || p->out_stage != 0) && p->act_min == -128 &&
                     p->act_max == 127;
    const int32_t *const table = fast && p->requant != 1 ? p->out_stage : 0; /* per-channel (h, m, r) */
    fc_job job;
    int32_t b, u, j;
    if (bias == 0 || depth <= 0 || ((uintptr_t)filter & 3u) != 0) {
        return CG_ERR_ARG;
    }
    memset(&job, 0, sizeof job);
    if (fast && table == 0) {
        const int32_t r = -p->shift[0];
        job.h = (1 << (r - 1)) + (int32_t)((uint32_t)p->output_offset << r);
        job.m = p->multiplier[0];
        job.r = r;
    }
    for (b = 0; b < p->batches; b++) {
        const int8_t *in = input + b * depth;
        int8_t *out = output + b * units;
        const uint32_t *w = (const uint32_t *)(const void *)filter;
        int8_t tail[4] = {0, 0, 0, 0}; /* the last depth % 4 inputs, zero-padded like the weights */
        u = 0;
        if (fast && rest == 0 && units >= 8) { /* every full group in one call */
            job.table = table;
            job.end = in + 4 * full;
            job.start = in;
            job.bias = bias;
            job.out = out;
            job.groups = units >> 3;
            rows_8(in, w, &job);
            u = units & ~7;
            w += 8 * full * (units >> 3);
        }
        for (j = 0; j < rest; j++) {
            tail[j] = in[4 * full + j];
        }
        for (; u < units; u += 8) {
            const int32_t n = units - u < 8 ? units - u : 8;
            int8_t *o = fast && n == 8 ? out + u : 0;
            job.groups = 1;
            job.table = table != 0 ? table + 3 * u : 0;
            job.bias = bias + u;
            if (full > 0) {
                job.end = in + 4 * full;
                job.start = in;
                job.out = rest > 0 ? 0 : o;
                rows_8(in, w, &job);
                w += 8 * full;
                job.bias = job.s;
            }
            if (rest > 0) {
                job.end = tail + 4;
                job.start = tail;
                job.out = o;
                rows_8(tail, w, &job);
                w += 8;
            }
            if (o == 0) {
                output_stage(p, job.s, u, n, out + u);
            }
        }
    }
    return CG_OK;
}
