/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension (Cortex-M4/M7/M33), weights
 * widened to int16 by the generator (cg_nn.h): the inner loop only loads and multiplies.  Im2col, the pixel pairs
 * and the output stage are shared with cg_conv2d_dsp_w8_s8 (cg_conv2d_dsp.h). */
#include "cg_conv2d_dsp.h"

int32_t cg_conv2d_dsp_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return cg_conv2d_dsp_scratch(p);
}

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* Hand-scheduled so that all eight sums stay in registers (r4 + 2c: pixel 0, r5 + 2c: pixel 1): per block two
 * LDRD of activations, four LDRD of weights and sixteen SMLAD, two blocks per loop iteration (an odd count
 * enters at the second): 64 multiply-accumulates in 47 instructions. */
__attribute__((naked, noinline)) static void mac_pass(const mac_job *job __attribute__((unused)))
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
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r8, r12, r2, r8\n"
        "smlad   r9, lr, r2, r9\n"
        "smlad   r10, r12, r3, r10\n"
        "smlad   r11, lr, r3, r11\n"
        "ldrd    r12, lr, [r0], #8\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r8, r12, r2, r8\n"
        "smlad   r9, lr, r2, r9\n"
        "smlad   r10, r12, r3, r10\n"
        "smlad   r11, lr, r3, r11\n"
        "3:\n"
        "ldrd    r12, lr, [r0], #8\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r8, r12, r2, r8\n"
        "smlad   r9, lr, r2, r9\n"
        "smlad   r10, r12, r3, r10\n"
        "smlad   r11, lr, r3, r11\n"
        "ldrd    r12, lr, [r0], #8\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r5, lr, r2, r5\n"
        "smlad   r6, r12, r3, r6\n"
        "smlad   r7, lr, r3, r7\n"
        "ldrd    r2, r3, [r1], #8\n"
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
/* half a block: one activation word per pixel times the four channels' weight words */
#define CG_MAC_2X4_HALF(a, w)                                              \
    do {                                                                   \
        const uint32_t x0 = (a)[0], x1 = (a)[1];                           \
        uint32_t v = (w)[0];                                               \
        s00 = cg_smlad(x0, v, s00);                                        \
        s10 = cg_smlad(x1, v, s10);                                        \
        v = (w)[1];                                                        \
        s01 = cg_smlad(x0, v, s01);                                        \
        s11 = cg_smlad(x1, v, s11);                                        \
        v = (w)[2];                                                        \
        s02 = cg_smlad(x0, v, s02);                                        \
        s12 = cg_smlad(x1, v, s12);                                        \
        v = (w)[3];                                                        \
        s03 = cg_smlad(x0, v, s03);                                        \
        s13 = cg_smlad(x1, v, s13);                                        \
    } while (0)

static void mac_pass(const mac_job *job)
{
    const uint32_t *w = job->w;
    const int32_t *bias = job->bias;
    int32_t *acc = job->acc;
    int32_t g;
    for (g = 0; g < job->groups; g++) {
        const uint32_t *a = job->a;
        int32_t s00 = bias[0], s01 = bias[1], s02 = bias[2], s03 = bias[3];
        int32_t s10 = s00, s11 = s01, s12 = s02, s13 = s03;
        int32_t n = job->n;
        do {
            CG_MAC_2X4_HALF(a, w);
            CG_MAC_2X4_HALF(a + 2, w + 4);
            a += 4;
            w += 8;
        } while (--n);
        acc[0] = s00;
        acc[1] = s10;
        acc[2] = s01;
        acc[3] = s11;
        acc[4] = s02;
        acc[5] = s12;
        acc[6] = s03;
        acc[7] = s13;
        acc += 8;
        bias += 4;
    }
}
#endif

cg_status cg_conv2d_dsp_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int16_t *filter,
                           const int32_t *bias, int8_t *output, int8_t *scratch)
{
    return cg_conv2d_dsp_run(p, input, filter, bias, output, scratch, mac_pass);
}
