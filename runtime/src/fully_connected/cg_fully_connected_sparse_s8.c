/* codegen runtime: int8 fully connected layer over sparse weights (masks + non-zero values), skipping zeros.
 *
 * Layout of `packed` (lower/stream.py sparse_rows): units in blocks of 4 (zero units pad the last block), inputs
 * in groups of 4 (zero weights pad the last group); per block, group after group, a 16-bit little-endian mask
 * (bit 4 j + i set: the weight of unit j of the block at input i of the group is not zero) followed by the
 * group's non-zero weights, those of unit 0 in input order, then unit 1's, 2's and 3's.  A unit of the block
 * costs, per group, one dispatch on its 4-bit mask and one multiply-accumulate per non-zero weight; zero
 * weights cost nothing but their bit, and the four units share every input load.  The bytes read are exactly
 * 2 per group and block plus one per non-zero weight (bounds.py checks a layout against that).
 *
 * Arithmetic as cg_fully_connected_s8 (TFLite's, the input offset folded into `bias`), so the results are the
 * same integers.  No scratch; the output must not overlap the input.
 *
 * On cores with the DSP extension the full groups of a block run in assembly: per group one word of inputs
 * widened with SXTB16 into (x0, x2) and (x1, x3), the mask as one LDRH, then for each unit a jump on its 4 bits
 * (unit 0: TBB; units 1-3: UBFX and LDR PC from a table of 16 addresses, at the end of the previous unit's path)
 * into one of 16 code paths that take one LDRSB and one SMLABB/SMLATB per non-zero weight (the path picks the
 * input's halfword).  Instructions per group of 16 weights: 14 + 2 per non-zero weight (about 30 at 50 % zeros,
 * 22 at 75 %; the dense cg_fully_connected_dsp_s8 takes about 16). */
#include "cg_nn.h"
#include "cg_nn_support.h"

/* the sums of one block (the byte offsets are used by the assembly) */
typedef struct {
    int32_t acc[4];          /* +0: in: the bias, out: bias + the dot products */
    const int8_t *end;       /* +16: end of the full input groups */
    const uint8_t *next;     /* +20: out: the packed weights after the groups */
} sfc_job;

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && defined(__thumb2__) && !defined(CG_NO_DSP_INSTRUCTIONS)
/* r0 inputs, r1 packed weights, r8 (x0, x2), r9 (x1, x3), r10 the group's mask, r4..r7 the sums of units 0..3,
 * r11 the end of the inputs, lr/r12/r3 the jump tables of units 1/2/3, r2 the only scratch register */
#define SFC_LD "ldrsb   r2, [r1], #1\n"
#define SFC_X0(A) SFC_LD "smlabb  " A ", r8, r2, " A "\n"
#define SFC_X1(A) SFC_LD "smlabb  " A ", r9, r2, " A "\n"
#define SFC_X2(A) SFC_LD "smlatb  " A ", r8, r2, " A "\n"
#define SFC_X3(A) SFC_LD "smlatb  " A ", r9, r2, " A "\n"

/* unit J's 16 code paths (label .LsfcJ_M for mask M): one LDRSB and one SMLAxy per non-zero weight, each path
 * ending with NEXT (the jump on the next unit's mask, or the loop test) */
#define SFC_PATHS(J, A, NEXT)                                                                                \
    ".Lsfc" #J "_0:\n" NEXT                                                                                  \
    ".Lsfc" #J "_1:\n" SFC_X0(A) NEXT                                                                        \
    ".Lsfc" #J "_2:\n" SFC_X1(A) NEXT                                                                        \
    ".Lsfc" #J "_3:\n" SFC_X0(A) SFC_X1(A) NEXT                                                              \
    ".Lsfc" #J "_4:\n" SFC_X2(A) NEXT                                                                        \
    ".Lsfc" #J "_5:\n" SFC_X0(A) SFC_X2(A) NEXT                                                              \
    ".Lsfc" #J "_6:\n" SFC_X1(A) SFC_X2(A) NEXT                                                              \
    ".Lsfc" #J "_7:\n" SFC_X0(A) SFC_X1(A) SFC_X2(A) NEXT                                                    \
    ".Lsfc" #J "_8:\n" SFC_X3(A) NEXT                                                                        \
    ".Lsfc" #J "_9:\n" SFC_X0(A) SFC_X3(A) NEXT                                                              \
    ".Lsfc" #J "_10:\n" SFC_X1(A) SFC_X3(A) NEXT                                                             \
    ".Lsfc" #J "_11:\n" SFC_X0(A) SFC_X1(A) SFC_X3(A) NEXT                                                   \
    ".Lsfc" #J "_12:\n" SFC_X2(A) SFC_X3(A) NEXT                                                             \
    ".Lsfc" #J "_13:\n" SFC_X0(A) SFC_X2(A) SFC_X3(A) NEXT                                                   \
    ".Lsfc" #J "_14:\n" SFC_X1(A) SFC_X2(A) SFC_X3(A) NEXT                                                   \
    ".Lsfc" #J "_15:\n" SFC_X0(A) SFC_X1(A) SFC_X2(A) SFC_X3(A) NEXT

/* jump on unit J's mask through the table in register T */
#define SFC_JUMP(J, T) "ubfx    r2, r10, #" #J "*4, #4\n" "ldr     pc, [" T ", r2, lsl #2]\n"
/* the addresses of unit J's paths (+1: Thumb) */
#define SFC_E(J, M) ".word   .Lsfc" #J "_" #M " + 1\n"
#define SFC_TABLE(J)                                                                                         \
    ".Lsfc" #J "_t:\n"                                                                                       \
    SFC_E(J, 0) SFC_E(J, 1) SFC_E(J, 2) SFC_E(J, 3) SFC_E(J, 4) SFC_E(J, 5) SFC_E(J, 6) SFC_E(J, 7)          \
    SFC_E(J, 8) SFC_E(J, 9) SFC_E(J, 10) SFC_E(J, 11) SFC_E(J, 12) SFC_E(J, 13) SFC_E(J, 14) SFC_E(J, 15)
/* the offsets of unit 0's paths for the TBB */
#define SFC_B(M) ".byte   (.Lsfc0_" #M " - .Lsfc0_b) / 2\n"

/* the full groups x..job->end of one block (at least one), from the packed weights at w */
__attribute__((naked, noinline)) static void groups_4(const int8_t *x __attribute__((unused)),
                                                     const uint8_t *w __attribute__((unused)),
                                                     sfc_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r2, r4-r11, lr}\n"      /* [sp]: job */
        "ldm     r2, {r4-r7}\n"
        "ldr     r11, [r2, #16]\n"
        "adr     lr, .Lsfc1_t\n"
        "adr     r12, .Lsfc2_t\n"
        "adr     r3, .Lsfc3_t\n"
        ".Lsfc_top:\n"
        "ldr     r2, [r0], #4\n"
        "sxtb16  r8, r2\n"
        "sxtb16  r9, r2, ror #8\n"
        "ldrh    r10, [r1], #2\n"
        "and     r2, r10, #15\n"
        "tbb     [pc, r2]\n"
        ".Lsfc0_b:\n"
        SFC_B(0) SFC_B(1) SFC_B(2) SFC_B(3) SFC_B(4) SFC_B(5) SFC_B(6) SFC_B(7)
        SFC_B(8) SFC_B(9) SFC_B(10) SFC_B(11) SFC_B(12) SFC_B(13) SFC_B(14) SFC_B(15)
        SFC_PATHS(0, "r4", SFC_JUMP(1, "lr"))
        SFC_PATHS(1, "r5", SFC_JUMP(2, "r12"))
        SFC_PATHS(2, "r6", SFC_JUMP(3, "r3"))
        SFC_PATHS(3, "r7", "cmp     r0, r11\nbne     .Lsfc_top\nb       .Lsfc_end\n")
        ".Lsfc_end:\n"
        "pop     {r2}\n"
        "stm     r2, {r4-r7}\n"
        "str     r1, [r2, #20]\n"
        "pop     {r4-r11, pc}\n"
        ".align  2\n"
        SFC_TABLE(1) SFC_TABLE(2) SFC_TABLE(3));
}
#else
/* the assembly's work in C */
static void groups_4(const int8_t *x, const uint8_t *w, sfc_job *job)
{
    int32_t j, i;
    for (; x != job->end; x += 4) {
        const uint32_t mask = (uint32_t)w[0] | ((uint32_t)w[1] << 8);
        w += 2;
        for (j = 0; j < 4; j++) {
            for (i = 0; i < 4; i++) {
                if ((mask >> (4 * j + i)) & 1u) {
                    job->acc[j] += (int32_t)(int8_t)*w++ * x[i];
                }
            }
        }
    }
    job->next = w;
}
#endif

cg_status cg_fully_connected_sparse_s8(const cg_fully_connected_s8_params *p, const int8_t *input,
                                       const uint8_t *packed, const int32_t *bias, int8_t *output)
{
    const int32_t depth = p->in_depth, units = p->out_depth;
    const int32_t full = depth >> 2, rest = depth & 3;
    sfc_job job;
    int32_t b, u, j, i;
    if (packed == 0 || bias == 0) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * depth;
        int8_t *out = output + b * units;
        int8_t tail[4] = {0, 0, 0, 0}; /* the last depth % 4 inputs, zero-padded like the weights */
        const uint8_t *w = packed;
        for (i = 0; i < rest; i++) {
            tail[i] = x[4 * full + i];
        }
        for (u = 0; u < units; u += 4) {
            const int32_t n = units - u < 4 ? units - u : 4;
            for (j = 0; j < 4; j++) {
                job.acc[j] = j < n ? bias[u + j] : 0;
            }
            if (full > 0) {
                job.end = x + 4 * full;
                groups_4(x, w, &job);
                w = job.next;
            }
            if (rest > 0) {
                const uint32_t mask = (uint32_t)w[0] | ((uint32_t)w[1] << 8);
                w += 2;
                for (j = 0; j < 4; j++) {
                    for (i = 0; i < 4; i++) {
                        if ((mask >> (4 * j + i)) & 1u) {
                            job.acc[j] += (int32_t)(int8_t)*w++ * tail[i];
                        }
                    }
                }
            }
            for (j = 0; j < n; j++) {
                const int32_t m = p->multiplier[u + j], s = p->shift[u + j];
                const int32_t y = s <= -2 ? cg_requantize_down(job.acc[j], m, -s) : cg_requantize(job.acc[j], m, s);
                out[u + j] = (int8_t)cg_clamp_i32(y + p->output_offset, p->act_min, p->act_max);
            }
        }
    }
    return CG_OK;
}
