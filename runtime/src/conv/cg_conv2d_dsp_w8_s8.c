/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension, int8 weights in flash.
 *
 * Same arithmetic, im2col, pixel pairs and output stage as cg_conv2d_dsp_s8 (cg_conv2d_dsp.h), but the weights
 * stay int8 (half the flash, and a Huffman codec can store them: the codec is int8-only).  The generator packs
 * them so that one word holds steps k..k+3 of one channel: SXTB16 yields the pair (w[k], w[k+2]) and SXTB16
 * ROR #8 the pair (w[k+1], w[k+3]), exactly the operands the patch words (x[k], x[k+2]) and (x[k+1], x[k+3])
 * are multiplied with.  Cost: 8 SXTB16 and the weight words loaded twice per 32 multiply-accumulates (no
 * register is left to keep them). */
#include "cg_conv2d_dsp.h"

int32_t cg_conv2d_dsp_w8_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return cg_conv2d_dsp_scratch(p);
}

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* cg_conv2d_dsp_s8's pass with int8 weight words: per block two LDRD of activations, four LDRD of weights, eight
 * SXTB16 and sixteen SMLAD; two blocks per loop iteration (an odd count enters at the second). */
__attribute__((naked, noinline)) static void mac_pass_w8(const mac_job *job __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r11, lr}\n"
        "mov     r12, r0\n"
        "ldm     r12, {r0-r5}\n"           /* a, w, n, groups, bias, acc */
        "and     r6, r2, #1\n"             /* odd block count */
        "add     r2, r0, r2, lsl #4\n"     /* end of the activations */
        "push    {r0, r2, r3, r4, r5, r6}\n" /* [sp] a, +4 end, +8 groups, +12 bias, +16 acc, +20 odd */
        "2:\n"
        "ldr     r0, [sp]\n"
        "ldr     r2, [sp, #12]\n"
        "ldm     r2!, {r4, r6, r8, r10}\n"
        "str     r2, [sp, #12]\n"
        "mov     r5, r4\n"
        "mov     r7, r6\n"
        "mov     r9, r8\n"
        "mov     r11, r10\n"
        "ldr     r2, [sp, #20]\n"
        "cmp     r2, #0\n"
        "bne     3f\n"
        "1:\n"
        "ldrd    r12, lr, [r0], #8\n"
        "ldrd    r2, r3, [r1]\n"
        "sxtb16  r2, r2\n"
        "sxtb16  r3, r3\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1, #8]\n"
        "sxtb16  r2, r2\n"
        "sxtb16  r3, r3\n"
        "smlad   r8, r12, r2, r8\n"
        "smlad   r9, lr, r2, r9\n"
        "smlad   r10, r12, r3, r10\n"
        "smlad   r11, lr, r3, r11\n"
        "ldrd    r12, lr, [r0], #8\n"
        "ldrd    r2, r3, [r1], #8\n"
        "sxtb16  r2, r2, ror #8\n"
        "sxtb16  r3, r3, ror #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1], #8\n"
        "sxtb16  r2, r2, ror #8\n"
        "sxtb16  r3, r3, ror #8\n"
        "smlad   r8, r12, r2, r8\n"
        "smlad   r9, lr, r2, r9\n"
        "smlad   r10, r12, r3, r10\n"
        "smlad   r11, lr, r3, r11\n"
        "3:\n"
        "ldrd    r12, lr, [r0], #8\n"
        "ldrd    r2, r3, [r1]\n"
        "sxtb16  r2, r2\n"
        "sxtb16  r3, r3\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1, #8]\n"
        "sxtb16  r2, r2\n"
        "sxtb16  r3, r3\n"
        "smlad   r8, r12, r2, r8\n"
        "smlad   r9, lr, r2, r9\n"
        "smlad   r10, r12, r3, r10\n"
        "smlad   r11, lr, r3, r11\n"
        "ldrd    r12, lr, [r0], #8\n"
        "ldrd    r2, r3, [r1], #8\n"
        "sxtb16  r2, r2, ror #8\n"
        "sxtb16  r3, r3, ror #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1], #8\n"
        "sxtb16  r2, r2, ror #8\n"
        "sxtb16  r3, r3, ror #8\n"
        "smlad   r8, r12, r2, r8\n"
        "smlad   r9, lr, r2, r9\n"
        "smlad   r10, r12, r3, r10\n"
        "smlad   r11, lr, r3, r11\n"
        "ldr     r2, [sp, #4]\n"
        "cmp     r0, r2\n"
        "bne     1b\n"
        "ldr     r2, [sp, #16]\n"
        "stm     r2!, {r4-r11}\n"
        "str     r2, [sp, #16]\n"
        "ldr     r2, [sp, #8]\n"
        "subs    r2, r2, #1\n"
        "str     r2, [sp, #8]\n"
        "bne     2b\n"
        "add     sp, sp, #24\n"
        "pop     {r4-r11, pc}\n");
}
#else
static void mac_pass_w8(const mac_job *job)
{
    const uint32_t *w = job->w;
    const int32_t *bias = job->bias;
    int32_t *acc = job->acc;
    int32_t g, c;
    for (g = 0; g < job->groups; g++) {
        const uint32_t *a = job->a;
        int32_t s[8];
        int32_t n = job->n;
        for (c = 0; c < 4; c++) {
            s[2 * c] = s[2 * c + 1] = bias[c];
        }
        do {
            for (c = 0; c < 4; c++) {
                const uint32_t lo = cg_sxtb16(w[c]), hi = cg_sxtb16_ror8(w[c]);
                s[2 * c] = cg_smlad(a[0], lo, s[2 * c]);
                s[2 * c + 1] = cg_smlad(a[1], lo, s[2 * c + 1]);
                s[2 * c] = cg_smlad(a[2], hi, s[2 * c]);
                s[2 * c + 1] = cg_smlad(a[3], hi, s[2 * c + 1]);
            }
            a += 4;
            w += 4;
        } while (--n);
        for (c = 0; c < 8; c++) {
            acc[c] = s[c];
        }
        acc += 8;
        bias += 4;
    }
}
#endif

cg_status cg_conv2d_dsp_w8_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                              const int32_t *bias, int8_t *output, int8_t *scratch)
{
    return cg_conv2d_dsp_run(p, input, filter, bias, output, scratch, mac_pass_w8);
}
