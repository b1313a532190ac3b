/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension, for weights with "tile-wise
 * 2:4" sparsity: in every group of 4 accumulation steps k..k+3 (kernel rows padded to a multiple of 4 steps, as
 * in cg_conv2d_dsp_s8) at most two positions (i, j) are non-zero in any of the 4 output channels of a block,
 * the block the pixel-pair loop computes together.  Only those two weights per channel are stored and
 * multiplied: per group one pair of 16-bit activations per pixel and 8 SMLAD instead of 16.
 *
 * Same arithmetic, im2col, pixel pairs and output stage as cg_conv2d_dsp_s8 (cg_conv2d_dsp.h).  The patch holds,
 * per group g and both pixels A and B, the words A(k, k+2), B(k, k+2), A(k+1, k+3), B(k+1, k+3): the patterns
 * (0, 2) and (1, 3) are read from it as they are.  If the layer uses another pattern (flag bit 0 of the
 * stream), the pass first extends the patch with, per group, A(k, k+1), B(k, k+1), A(k+2, k+3), B(k+2, k+3),
 * A(k, k+3), B(k, k+3), A(k+1, k+2), B(k+1, k+2) (PKHBT/PKHTB of the patch words; the extension follows the sums
 * in the scratch).  Then every kept pair of both pixels is one LDRD at a byte offset the generator stores.
 *
 * `filter` (int32 words, lower/sparse24.py): the flags word (bit 0: extend the patch; bit 1: int8 weights), then
 * per block of 4 output channels (zero channels pad the last block) its number of entries (groups with a non-zero
 * weight in the block; the others are left out), then the entries in pairs: a word holding the byte offsets
 * (from the patch start) of the two entries' activation pairs (low and high halfword), the first entry's
 * weights, the second's; an odd last entry has an offsets word of its own.  An entry's weights are the four
 * channels' pairs (w[i], w[j]) as int16 (four words, low half w[i]), or with bit 1 as int8, two words holding
 * (c0 at i, c1 at i, c0 at j, c1 at j) and the same for c2, c3 (SXTB16 and SXTB16 ROR #8 give the pairs).
 * Per two groups: 26 instructions with int16 weights, 35 with int8 ones, where the dense loop takes 47. */
#include "cg_conv2d_dsp.h"

/* the dense scratch plus the extension: 8 words per group of 4 steps */
int32_t cg_conv2d_dsp_24_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return cg_conv2d_dsp_scratch(p) + 4 * padded_depth(p) * (int32_t)sizeof(int16_t);
}

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* int16 weights, one entry: its activation pair r12 (pixel A), lr (pixel B), its four weight words from r1,
 * the first in r3; sums r4 + 2c (pixel A), r5 + 2c (pixel B) of channel c */
#define CG_24_ENTRY_FIRST_IN_R3             \
    "smlad   r4, r12, r3, r4\n"             \
    "smlad   r5, lr, r3, r5\n"              \
    "ldr     r3, [r1], #4\n"                \
    "smlad   r6, r12, r3, r6\n"             \
    "smlad   r7, lr, r3, r7\n"              \
    "ldr     r3, [r1], #4\n"                \
    "smlad   r8, r12, r3, r8\n"             \
    "smlad   r9, lr, r3, r9\n"              \
    "ldr     r3, [r1], #4\n"                \
    "smlad   r10, r12, r3, r10\n"           \
    "smlad   r11, lr, r3, r11\n"

/* int16 weights, an entry pair (offsets word, 4 + 4 weight words): 26 instructions */
#define CG_24_PAIR                          \
    "ldrd    r2, r3, [r1], #8\n"            \
    "uxtah   r12, r0, r2\n"                 \
    "ldrd    r12, lr, [r12]\n"              \
    CG_24_ENTRY_FIRST_IN_R3                 \
    "add     r2, r0, r2, lsr #16\n"         \
    "ldrd    r12, lr, [r2]\n"               \
    "ldrd    r2, r3, [r1], #8\n"            \
    "smlad   r4, r12, r2, r4\n"             \
    "smlad   r5, lr, r2, r5\n"              \
    "smlad   r6, r12, r3, r6\n"             \
    "smlad   r7, lr, r3, r7\n"              \
    "ldrd    r2, r3, [r1], #8\n"            \
    "smlad   r8, r12, r2, r8\n"             \
    "smlad   r9, lr, r2, r9\n"              \
    "smlad   r10, r12, r3, r10\n"           \
    "smlad   r11, lr, r3, r11\n"

/* int16 weights, a single entry (offset word, 4 weight words) */
#define CG_24_SINGLE                        \
    "ldrd    r2, r3, [r1], #8\n"            \
    "add     r12, r0, r2\n"                 \
    "ldrd    r12, lr, [r12]\n"              \
    CG_24_ENTRY_FIRST_IN_R3

/* int8 weights, one word W of a unit pair (c, c+1): 16-bit lanes v = 256 * w[c+1] + w[c] at i and j.  SMLAD of the
 * raw word accumulates 256 * S[c+1] + S[c] into RA (pixel A) and RB (pixel B), SMLAD of its SXTB16 S[c] into SA
 * and SB (cg_fully_connected_dsp_s8's pairing) */
#define CG_24W8_WORD(W, RA, RB, SA, SB)      \
    "smlad   " RA ", r12, " W ", " RA "\n"  \
    "smlad   " RB ", lr, " W ", " RB "\n"   \
    "sxtb16  " W ", " W "\n"                \
    "smlad   " SA ", r12, " W ", " SA "\n"  \
    "smlad   " SB ", lr, " W ", " SB "\n"

/* int8 weights, an entry pair (offsets word, 2 + 2 weight words): 28 instructions */
#define CG_24W8_PAIR                                  \
    "ldrd    r2, r3, [r1], #8\n"                      \
    "uxtah   r12, r0, r2\n"                           \
    "ldrd    r12, lr, [r12]\n"                        \
    CG_24W8_WORD("r3", "r4", "r5", "r6", "r7")        \
    "ldr     r3, [r1], #4\n"                          \
    CG_24W8_WORD("r3", "r8", "r9", "r10", "r11")      \
    "add     r2, r0, r2, lsr #16\n"                   \
    "ldrd    r12, lr, [r2]\n"                         \
    "ldrd    r2, r3, [r1], #8\n"                      \
    CG_24W8_WORD("r2", "r4", "r5", "r6", "r7")        \
    CG_24W8_WORD("r3", "r8", "r9", "r10", "r11")

#define CG_24W8_SINGLE                                \
    "ldrd    r2, r3, [r1], #8\n"                      \
    "add     r12, r0, r2\n"                           \
    "ldrd    r12, lr, [r12]\n"                        \
    CG_24W8_WORD("r3", "r4", "r5", "r6", "r7")        \
    "ldr     r3, [r1], #4\n"                          \
    CG_24W8_WORD("r3", "r8", "r9", "r10", "r11")

__attribute__((naked, noinline)) static void mac_pass_24(const mac_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r11, lr}\n"
        "mov     r12, r0\n"
        "ldm     r12, {r0-r5}\n"             /* a, w, n, groups, bias, acc */
        "sub     sp, sp, #32\n"
        "add     r6, sp, #4\n"
        "stm     r6, {r3, r4, r5}\n"         /* [sp] end of the pairs, +4 groups, +8 bias, +12 acc */
        "ldr     r6, [r1], #4\n"             /* flags */
        "str     r6, [sp, #20]\n"            /* +16 spilled address, +20 flags, +24 entries of the block */
        "tst     r6, #1\n"
        "beq     2f\n"
        /* extend the patch: n groups from r0 to the words after the sums (acc + 8 * groups words) */
        "push    {r0, r1}\n"
        "add     r1, r5, r3, lsl #5\n"
        "add     r2, r0, r2, lsl #4\n"
        "1:\n"
        "ldm     r0!, {r6, r7, r8, r9}\n"    /* A02, B02, A13, B13 */
        "pkhbt   r10, r6, r8, lsl #16\n"     /* A01 */
        "pkhbt   r11, r7, r9, lsl #16\n"     /* B01 */
        "pkhtb   r12, r8, r6, asr #16\n"     /* A23 */
        "pkhtb   lr, r9, r7, asr #16\n"      /* B23 */
        "stm     r1!, {r10, r11, r12, lr}\n"
        "pkhbt   r10, r6, r8\n"              /* A03 */
        "pkhbt   r11, r7, r9\n"              /* B03 */
        "pkhbt   r12, r8, r6\n"              /* A12 */
        "pkhbt   lr, r9, r7\n"               /* B12 */
        "stm     r1!, {r10, r11, r12, lr}\n"
        "cmp     r0, r2\n"
        "bne     1b\n"
        "pop     {r0, r1}\n"
        "2:\n"                               /* next block */
        "ldr     r2, [r1], #4\n"             /* entries */
        "str     r2, [sp, #24]\n"
        "ldr     r3, [sp, #20]\n"
        "tst     r3, #2\n"
        "bne     20f\n"
        /* int16 weights: the sums start at the bias; 9 words per pair */
        "ldr     r3, [sp, #8]\n"
        "ldm     r3!, {r4, r6, r8, r10}\n"
        "str     r3, [sp, #8]\n"
        "mov     r5, r4\n"
        "mov     r7, r6\n"
        "mov     r9, r8\n"
        "mov     r11, r10\n"
        "lsrs    r2, r2, #1\n"               /* pairs */
        "beq     6f\n"
        "add     r3, r2, r2, lsl #3\n"
        "add     r3, r1, r3, lsl #2\n"
        "str     r3, [sp]\n"
        "tst     r2, #1\n"
        "bne     4f\n"
        "3:\n"
        CG_24_PAIR
        "4:\n"
        CG_24_PAIR
        "ldr     r2, [sp]\n"
        "cmp     r1, r2\n"
        "bne     3b\n"
        "6:\n"
        "ldr     r2, [sp, #24]\n"
        "tst     r2, #1\n"
        "beq     5f\n"
        CG_24_SINGLE
        "5:\n"
        "ldr     r2, [sp, #12]\n"
        "stm     r2!, {r4-r11}\n"
        "b       9f\n"
        /* int8 weights: the pair sums start at 0; 5 words per pair */
        "20:\n"
        "movs    r4, #0\n"
        "movs    r5, #0\n"
        "movs    r6, #0\n"
        "movs    r7, #0\n"
        "movs    r8, #0\n"
        "movs    r9, #0\n"
        "movs    r10, #0\n"
        "movs    r11, #0\n"
        "lsrs    r2, r2, #1\n"
        "beq     26f\n"
        "add     r3, r2, r2, lsl #2\n"
        "add     r3, r1, r3, lsl #2\n"
        "str     r3, [sp]\n"
        "tst     r2, #1\n"
        "bne     24f\n"
        "23:\n"
        CG_24W8_PAIR
        "24:\n"
        CG_24W8_PAIR
        "ldr     r2, [sp]\n"
        "cmp     r1, r2\n"
        "bne     23b\n"
        "26:\n"
        "ldr     r2, [sp, #24]\n"
        "tst     r2, #1\n"
        "beq     27f\n"
        CG_24W8_SINGLE
        "27:\n"                              /* S[c] = s + bias, S[c+1] = (r - s) / 256 + bias (exact) */
        "ldr     lr, [sp, #8]\n"
        "ldrd    r2, r3, [lr], #8\n"
        "sub     r4, r4, r6\n"
        "sub     r5, r5, r7\n"
        "add     r6, r6, r2\n"
        "add     r7, r7, r2\n"
        "add     r4, r3, r4, asr #8\n"
        "add     r5, r3, r5, asr #8\n"
        "ldrd    r2, r3, [lr], #8\n"
        "str     lr, [sp, #8]\n"
        "sub     r8, r8, r10\n"
        "sub     r9, r9, r11\n"
        "add     r10, r10, r2\n"
        "add     r11, r11, r2\n"
        "add     r8, r3, r8, asr #8\n"
        "add     r9, r3, r9, asr #8\n"
        "ldr     r2, [sp, #12]\n"
        "strd    r6, r7, [r2]\n"
        "strd    r4, r5, [r2, #8]\n"
        "strd    r10, r11, [r2, #16]\n"
        "strd    r8, r9, [r2, #24]\n"
        "add     r2, r2, #32\n"
        "9:\n"
        "str     r2, [sp, #12]\n"
        "ldr     r2, [sp, #4]\n"
        "subs    r2, r2, #1\n"
        "str     r2, [sp, #4]\n"
        "bne     2b\n"
        "add     sp, sp, #32\n"
        "pop     {r4-r11, pc}\n");
}
#else
static inline uint32_t pk_lo_lo(uint32_t a, uint32_t b) /* PKHBT a, b, LSL #16: (a.lo, b.lo) */
{
    return (a & 0xffffu) | (b << 16);
}

static inline uint32_t pk_hi_hi(uint32_t a, uint32_t b) /* PKHTB b, a, ASR #16: (a.hi, b.hi) */
{
    return (a >> 16) | (b & 0xffff0000u);
}

static inline uint32_t pk_lo_hi(uint32_t a, uint32_t b) /* PKHBT a, b: (a.lo, b.hi) */
{
    return (a & 0xffffu) | (b & 0xffff0000u);
}

static void mac_pass_24(const mac_job *job)
{
    const uint32_t *w = job->w;
    const uint8_t *const base = (const uint8_t *)(const void *)job->a;
    const int32_t *bias = job->bias;
    int32_t *acc = job->acc;
    const uint32_t flags = *w++;
    const int w8 = (flags & 2u) != 0;
    const int32_t words = w8 ? 2 : 4; /* weight words per entry */
    int32_t g, c, e, q;
    if (flags & 1u) {
        const uint32_t *a = job->a;
        uint32_t *x = (uint32_t *)(void *)(acc + 8 * job->groups);
        for (g = 0; g < job->n; g++) {
            const uint32_t a02 = a[0], b02 = a[1], a13 = a[2], b13 = a[3];
            x[0] = pk_lo_lo(a02, a13);
            x[1] = pk_lo_lo(b02, b13);
            x[2] = pk_hi_hi(a02, a13);
            x[3] = pk_hi_hi(b02, b13);
            x[4] = pk_lo_hi(a02, a13);
            x[5] = pk_lo_hi(b02, b13);
            x[6] = pk_lo_hi(a13, a02);
            x[7] = pk_lo_hi(b13, b02);
            a += 4;
            x += 8;
        }
    }
    for (g = 0; g < job->groups; g++) {
        int32_t s[8], r[4] = {0, 0, 0, 0}, t[4] = {0, 0, 0, 0};
        const int32_t entries = (int32_t)*w++;
        for (c = 0; c < 4; c++) {
            s[2 * c] = s[2 * c + 1] = w8 ? 0 : bias[c];
        }
        for (e = 0; e < entries; e++) {
            /* an entry pair: one offsets word for both; a last odd entry: its own offset word */
            const uint32_t off = e & 1 ? w[-1 - words] >> 16 : w[0] & 0xffffu;
            const uint32_t *ab = (const uint32_t *)(const void *)(base + off);
            w += e & 1 ? 0 : 1;
            if (w8) { /* unit pairs (0, 1), (2, 3): r = 256 * S[c+1] + S[c], t = S[c], per pixel */
                for (q = 0; q < 2; q++) {
                    const uint32_t v = w[q], lo = cg_sxtb16(v);
                    r[2 * q] = cg_smlad(ab[0], v, r[2 * q]);
                    r[2 * q + 1] = cg_smlad(ab[1], v, r[2 * q + 1]);
                    t[2 * q] = cg_smlad(ab[0], lo, t[2 * q]);
                    t[2 * q + 1] = cg_smlad(ab[1], lo, t[2 * q + 1]);
                }
            } else {
                for (c = 0; c < 4; c++) {
                    s[2 * c] = cg_smlad(ab[0], w[c], s[2 * c]);
                    s[2 * c + 1] = cg_smlad(ab[1], w[c], s[2 * c + 1]);
                }
            }
            w += words;
        }
        for (q = 0; w8 && q < 4; q++) { /* q = 2 * unit pair + pixel */
            const int32_t c0 = 2 * (q >> 1), px = q & 1;
            s[2 * c0 + px] = t[q] + bias[c0];
            s[2 * c0 + 2 + px] = ((int32_t)((uint32_t)r[q] - (uint32_t)t[q]) >> 8) + bias[c0 + 1];
        }
        for (c = 0; c < 8; c++) {
            acc[c] = s[c];
        }
        acc += 8;
        bias += 4;
    }
}
#endif

cg_status cg_conv2d_dsp_24_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                              const int32_t *bias, int8_t *output, int8_t *scratch)
{
    return cg_conv2d_dsp_run(p, input, filter, bias, output, scratch, mac_pass_24);
}
