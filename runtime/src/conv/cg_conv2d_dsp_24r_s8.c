/* codegen runtime: int8 2-D convolution for "tile-wise 2:4" weights (as cg_conv2d_dsp_24_s8) without the patch
 * extension: no scratch beyond the dense kernel's.  The generator sorts each block's entries into runs by
 * pattern; the patterns (0, 2) and (1, 3) read their activation pairs from the patch as they are, the other four
 * load the group's four patch words and pack the pairs with two PKHBT/PKHTB (18 instructions per entry with the
 * loop, 16 for the first two patterns, against 13 plus the extension's share in cg_conv2d_dsp_24_s8).  The
 * generator takes it where the extension would cost RAM for little time (few blocks of output channels).
 *
 * `filter` (int32 words, lower/sparse24.py): the flags word (4), then per block of 4 output channels a mask of
 * its non-empty runs (bit 0: patterns (0, 2) and (1, 3); bits 1-4: (0, 1), (2, 3), (0, 3), (1, 2)) and the runs
 * in that order, each a list of entries: the byte offset from the patch start (of the pair's word for the first
 * run, of the group's first word for the others; bit 0 set on a run's last entry) and the four channels' int16
 * weight pairs (w[i], w[j]). */
#include "cg_conv2d_dsp.h"

int32_t cg_conv2d_dsp_24r_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return cg_conv2d_dsp_scratch(p);
}

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* the entry's offset word: C = last entry of the run, r12 = the group's (or pair's) address */
#define CG_24R_OFFSET                   \
    "ldr     r12, [r1], #4\n"           \
    "lsrs    r12, r12, #1\n"            \
    "add     r12, r0, r12, lsl #1\n"

#define CG_24R_FOUR                     \
    CG_24R_OFFSET                       \
    "ldrd    r2, r3, [r12]\n"           \
    "ldrd    r12, lr, [r12, #8]\n"

/* the four channels' weight words times the pairs r2 (pixel A), r3 (pixel B) */
#define CG_24R_MAC                      \
    "ldrd    r12, lr, [r1], #8\n"       \
    "smlad   r4, r2, r12, r4\n"         \
    "smlad   r5, r3, r12, r5\n"         \
    "smlad   r6, r2, lr, r6\n"          \
    "smlad   r7, r3, lr, r7\n"          \
    "ldrd    r12, lr, [r1], #8\n"       \
    "smlad   r8, r2, r12, r8\n"         \
    "smlad   r9, r3, r12, r9\n"         \
    "smlad   r10, r2, lr, r10\n"        \
    "smlad   r11, r3, lr, r11\n"

/* run BIT of the block (mask at [sp]): its entries, each PACK then the multiply-accumulates */
#define CG_24R_RUN(BIT, L, PACK)        \
    "ldr     r2, [sp]\n"                \
    "tst     r2, #" BIT "\n"            \
    "beq     " L "2f\n"                 \
    L "1:\n"                            \
    PACK                                \
    CG_24R_MAC                          \
    "bcc     " L "1b\n"                 \
    L "2:\n"

__attribute__((naked, noinline)) static void mac_pass_24r(const mac_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r11, lr}\n"
        "mov     r12, r0\n"
        "ldm     r12, {r0-r5}\n"             /* a, w, n, groups, bias, acc */
        "sub     sp, sp, #16\n"
        "add     r6, sp, #4\n"
        "stm     r6, {r3, r4, r5}\n"         /* [sp] the block's run mask, +4 groups, +8 bias, +12 acc */
        "add     r1, r1, #4\n"               /* flags */
        "2:\n"
        "ldr     r2, [r1], #4\n"
        "str     r2, [sp]\n"
        "ldr     r3, [sp, #8]\n"
        "ldm     r3!, {r4, r6, r8, r10}\n"
        "str     r3, [sp, #8]\n"
        "mov     r5, r4\n"
        "mov     r7, r6\n"
        "mov     r9, r8\n"
        "mov     r11, r10\n"
        CG_24R_RUN("1", "3", CG_24R_OFFSET "ldrd    r2, r3, [r12]\n")
        CG_24R_RUN("2", "4", CG_24R_FOUR "pkhbt   r2, r2, r12, lsl #16\n" "pkhbt   r3, r3, lr, lsl #16\n")
        CG_24R_RUN("4", "5", CG_24R_FOUR "pkhtb   r2, r12, r2, asr #16\n" "pkhtb   r3, lr, r3, asr #16\n")
        CG_24R_RUN("8", "6", CG_24R_FOUR "pkhbt   r2, r2, r12\n" "pkhbt   r3, r3, lr\n")
        CG_24R_RUN("16", "7", CG_24R_FOUR "pkhbt   r2, r12, r2\n" "pkhbt   r3, lr, r3\n")
        "ldr     r2, [sp, #12]\n"
        "stm     r2!, {r4-r11}\n"
        "str     r2, [sp, #12]\n"
        "ldr     r2, [sp, #4]\n"
        "subs    r2, r2, #1\n"
        "str     r2, [sp, #4]\n"
        "bne     2b\n"
        "add     sp, sp, #16\n"
        "pop     {r4-r11, pc}\n");
}
#else
/* the activation pair of kind `run` from the group's (or for run 0 the pair's) words at `a` */
static inline void pair_of(const uint32_t *a, int32_t run, uint32_t *pa, uint32_t *pb)
{
    const uint32_t a02 = a[0], b02 = a[1], a13 = run > 0 ? a[2] : 0, b13 = run > 0 ? a[3] : 0;
    switch (run) {
    case 1: /* (0, 1) */
        *pa = (a02 & 0xffffu) | (a13 << 16);
        *pb = (b02 & 0xffffu) | (b13 << 16);
        break;
    case 2: /* (2, 3) */
        *pa = (a02 >> 16) | (a13 & 0xffff0000u);
        *pb = (b02 >> 16) | (b13 & 0xffff0000u);
        break;
    case 3: /* (0, 3) */
        *pa = (a02 & 0xffffu) | (a13 & 0xffff0000u);
        *pb = (b02 & 0xffffu) | (b13 & 0xffff0000u);
        break;
    case 4: /* (1, 2) */
        *pa = (a13 & 0xffffu) | (a02 & 0xffff0000u);
        *pb = (b13 & 0xffffu) | (b02 & 0xffff0000u);
        break;
    default: /* (0, 2) or (1, 3): the words as they are */
        *pa = a02;
        *pb = b02;
        break;
    }
}

static void mac_pass_24r(const mac_job *job)
{
    const uint32_t *w = job->w + 1; /* after the flags */
    const uint8_t *const base = (const uint8_t *)(const void *)job->a;
    const int32_t *bias = job->bias;
    int32_t *acc = job->acc;
    int32_t g, c, run;
    for (g = 0; g < job->groups; g++) {
        int32_t s[8];
        const uint32_t mask = *w++;
        for (c = 0; c < 4; c++) {
            s[2 * c] = s[2 * c + 1] = bias[c];
        }
        for (run = 0; run < 5; run++) {
            uint32_t last = (mask >> run & 1u) == 0;
            while (!last) {
                uint32_t pa, pb;
                last = w[0] & 1u;
                pair_of((const uint32_t *)(const void *)(base + (w[0] & ~1u)), run, &pa, &pb);
                for (c = 0; c < 4; c++) {
                    s[2 * c] = cg_smlad(pa, w[1 + c], s[2 * c]);
                    s[2 * c + 1] = cg_smlad(pb, w[1 + c], s[2 * c + 1]);
                }
                w += 5;
            }
        }
        for (c = 0; c < 8; c++) {
            acc[c] = s[c];
        }
        acc += 8;
        bias += 4;
    }
}
#endif

cg_status cg_conv2d_dsp_24r_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                               const int32_t *bias, int8_t *output, int8_t *scratch)
{
    return cg_conv2d_dsp_run(p, input, filter, bias, output, scratch, mac_pass_24r);
}
