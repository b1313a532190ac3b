/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension (Cortex-M4/M7/M33).
 *
 * Same arithmetic as cg_conv2d_s8 (TFLite reference, folded input offset).  Two output pixels and four
 * output channels are computed together from 16-bit operands with SMLAD (two multiply-accumulates per
 * instruction), so each loaded activation word is used four times and each weight word twice:
 *
 * - the receptive fields of the two pixels are first copied into the scratch buffer (im2col), widened to
 *   16 bits with SXTB16: per 4 accumulation steps k..k+3 the words (x[k], x[k+2]) of pixel 0 and of pixel 1,
 *   then (x[k+1], x[k+3]) of pixel 0 and of pixel 1; padded positions hold the input zero point, which
 *   contributes zero with the folded bias;
 * - the generator stores the weights widened to 16 bits in the same order (cg_nn.h), so the inner loop only
 *   loads and multiplies. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

static int32_t padded_depth(const cg_conv2d_s8_params *p)
{
    return (p->filter.h * p->filter.w * p->input.c + 3) & ~3;
}

/* two 16-bit patches, and with a channel count that is not a multiple of 4 an int8 staging row */
int32_t cg_conv2d_dsp_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * padded_depth(p) * (int32_t)sizeof(int16_t) + ((p->input.c & 3) != 0 ? padded_depth(p) : 0);
}

/* index of accumulation step t of pixel q in the interleaved 16-bit patch */
static inline int32_t slot(int32_t t, int32_t q)
{
    return ((t >> 2) << 3) + 2 * q + ((t & 1) << 2) + ((t >> 1) & 1);
}

/* steps i..i+n-1 of pixel q from the int8 values at src */
static void put(int16_t *restrict patch, int32_t q, int32_t i, const int8_t *restrict src, int32_t n)
{
    int32_t j;
    if (((i | n) & 3) == 0) {
        uint32_t *restrict dst = (uint32_t *)(void *)(patch + 2 * i) + q;
        for (j = 0; j < n; j += 4) {
            const uint32_t x = cg_read_s8x4(src + j);
            dst[0] = cg_sxtb16(x);
            dst[2] = cg_sxtb16_ror8(x);
            dst += 4;
        }
        return;
    }
    for (j = 0; j < n; j++) {
        patch[slot(i + j, q)] = src[j];
    }
}

static void fill(int16_t *restrict patch, int32_t q, int32_t i, int16_t value, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; j++) {
        patch[slot(i + j, q)] = value;
    }
}

/* int8 copy with a zero-point fill for positions outside the input */
static void copy_s8(int8_t *restrict dst, const int8_t *restrict src, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; j++) {
        dst[j] = src[j];
    }
}

static void fill_s8(int8_t *restrict dst, int8_t value, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; j++) {
        dst[j] = value;
    }
}

/* channel counts that are not a multiple of 4 (e.g. the RGB input layer): the receptive field of output pixel
 * (oy, ox) is first copied contiguously into the int8 row `stage` (k values, zeros up to kp), then widened
 * word by word into pixel q of the patch */
static void gather_staged(const cg_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox,
                          int16_t *patch, int32_t q, int8_t *stage)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int8_t pad_value = (int8_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    int8_t *dst = stage;
    int32_t ky, kx;
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            fill_s8(dst, pad_value, k_w * in_c);
            dst += k_w * in_c;
            continue;
        }
        if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) {
            copy_s8(dst, input + (iy * in_w + x0) * in_c, k_w * in_c);
            dst += k_w * in_c;
            continue;
        }
        for (kx = 0; kx < k_w; kx++) {
            const int32_t ix = x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= in_w) {
                fill_s8(dst, pad_value, in_c);
            } else {
                copy_s8(dst, input + (iy * in_w + ix) * in_c, in_c);
            }
            dst += in_c;
        }
    }
    put(patch, q, 0, stage, padded_depth(p));
}

/* the receptive field of output pixel (oy, ox) as pixel q of the patch */
static void gather(const cg_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int16_t *patch,
                   int32_t q)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int16_t pad_value = (int16_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    int32_t i = 0;
    int32_t ky, kx;
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h) {
            fill(patch, q, i, pad_value, k_w * in_c);
            i += k_w * in_c;
            continue;
        }
        if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) {
            put(patch, q, i, input + (iy * in_w + x0) * in_c, k_w * in_c);
            i += k_w * in_c;
            continue;
        }
        for (kx = 0; kx < k_w; kx++) {
            const int32_t ix = x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= in_w) {
                fill(patch, q, i, pad_value, in_c);
            } else {
                put(patch, q, i, input + (iy * in_w + ix) * in_c, in_c);
            }
            i += in_c;
        }
    }
}

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* s[c] += pixel 0 x channel c, s[4 + c] += pixel 1 x channel c, over n >= 1 groups of 4 steps.
 * Hand-scheduled so that all eight sums stay in registers: per group two LDRD of activations, four LDRD of
 * weights and sixteen SMLAD (32 multiply-accumulates in 25 instructions with the loop). */
__attribute__((naked, noinline)) static void mac_2x4(const uint32_t *a __attribute__((unused)),
                                                    const uint32_t *w __attribute__((unused)),
                                                    int32_t n __attribute__((unused)),
                                                    int32_t *s __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r11, lr}\n"
        "add     r2, r0, r2, lsl #4\n" /* end of the activations */
        "push    {r2, r3}\n"
        "ldm     r3, {r4-r11}\n"
        "1:\n"
        "ldrd    r12, lr, [r0], #8\n" /* (x[k], x[k+2]) of pixels 0 and 1 */
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r8, lr, r2, r8\n"
        "smlad   r5, r12, r3, r5\n"
        "smlad   r9, lr, r3, r9\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r6, r12, r2, r6\n"
        "smlad   r10, lr, r2, r10\n"
        "smlad   r7, r12, r3, r7\n"
        "smlad   r11, lr, r3, r11\n"
        "ldrd    r12, lr, [r0], #8\n" /* (x[k+1], x[k+3]) of pixels 0 and 1 */
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r4, r12, r2, r4\n"
        "smlad   r8, lr, r2, r8\n"
        "smlad   r5, r12, r3, r5\n"
        "smlad   r9, lr, r3, r9\n"
        "ldrd    r2, r3, [r1], #8\n"
        "smlad   r6, r12, r2, r6\n"
        "smlad   r10, lr, r2, r10\n"
        "smlad   r7, r12, r3, r7\n"
        "smlad   r11, lr, r3, r11\n"
        "ldr     r2, [sp]\n"
        "cmp     r0, r2\n"
        "bne     1b\n"
        "pop     {r2, r3}\n"
        "stm     r3, {r4-r11}\n"
        "pop     {r4-r11, pc}\n");
}
#else
/* half a step: one activation word per pixel times the four channels' weight words */
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

/* s[c] += pixel 0 x channel c, s[4 + c] += pixel 1 x channel c, over n >= 1 groups of 4 steps */
static void mac_2x4(const uint32_t *a, const uint32_t *w, int32_t n, int32_t *s)
{
    int32_t s00 = s[0], s01 = s[1], s02 = s[2], s03 = s[3];
    int32_t s10 = s[4], s11 = s[5], s12 = s[6], s13 = s[7];
    do {
        CG_MAC_2X4_HALF(a, w);
        CG_MAC_2X4_HALF(a + 2, w + 4);
        a += 4;
        w += 8;
    } while (--n);
    s[0] = s00;
    s[1] = s01;
    s[2] = s02;
    s[3] = s03;
    s[4] = s10;
    s[5] = s11;
    s[6] = s12;
    s[7] = s13;
}
#endif

/* the clamp to the full int8 range: one SSAT on DSP cores */
static inline int8_t sat_s8(int32_t v)
{
#if CG_DSP_INSTRUCTIONS
    return (int8_t)__ssat(v, 8);
#else
    return (int8_t)cg_clamp_i32(v, -128, 127);
#endif
}

cg_status cg_conv2d_dsp_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int16_t *filter,
                           const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_w = p->output.w, out_c = p->output.c, in_c = p->input.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t kp = padded_depth(p);
    const int32_t k = p->filter.h * p->filter.w * in_c;
    const int32_t in_batch = p->input.h * p->input.w * in_c;
    const int32_t *const mult = p->multiplier, *const shift = p->shift;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int16_t *patch = (int16_t *)(void *)scratch;
    int32_t b, pix, oc, c;
    if (p->filter.c != in_c || p->filter.n != out_c || bias == 0 || ((uintptr_t)filter & 3u) != 0 || k == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0 || ((uintptr_t)scratch & 3u) != 0) {
        return CG_ERR_SCRATCH;
    }
    /* the common output stage, checked once: every shift <= 0 and no clamp narrower than int8 */
    int32_t sat = lo == -128 && hi == 127;
    for (c = 0; c < out_c; c++) {
        sat = sat && shift[c] <= 0;
    }
    int8_t *stage = (p->input.c & 3) != 0 ? scratch + 2 * kp * (int32_t)sizeof(int16_t) : 0;
    fill(patch, 0, k, 0, kp - k);  /* the zero weights of the padding multiply these */
    fill(patch, 1, k, 0, kp - k);
    if (stage != 0) {
        fill_s8(stage + k, 0, kp - k);
    }
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_batch;
        int8_t *out_b = output + b * n_pix * out_c;
        for (pix = 0; pix < n_pix; pix += 2) {
            const int two = pix + 1 < n_pix;
            const uint32_t *w = (const uint32_t *)(const void *)filter;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = o0 + out_c;
            if (stage != 0) {
                gather_staged(p, in_b, pix / out_w, pix % out_w, patch, 0, stage);
                if (two) {
                    gather_staged(p, in_b, (pix + 1) / out_w, (pix + 1) % out_w, patch, 1, stage);
                }
            } else {
                gather(p, in_b, pix / out_w, pix % out_w, patch, 0);
                if (two) {
                    gather(p, in_b, (pix + 1) / out_w, (pix + 1) % out_w, patch, 1);
                }
            }
            for (oc = 0; oc < out_c; oc += 4) {
                const int32_t n = out_c - oc < 4 ? out_c - oc : 4;
                int32_t s[8];
                if (n == 4) {
                    s[0] = s[4] = bias[oc];
                    s[1] = s[5] = bias[oc + 1];
                    s[2] = s[6] = bias[oc + 2];
                    s[3] = s[7] = bias[oc + 3];
                } else {
                    for (c = 0; c < 4; c++) {
                        s[c] = c < n ? bias[oc + c] : 0;
                        s[4 + c] = s[c];
                    }
                }
                mac_2x4((const uint32_t *)(const void *)patch, w, kp >> 2, s);
                w += 2 * kp;
                if (sat && n == 4 && two) {
                    for (c = 0; c < 4; c++) {
                        const int32_t m = mult[oc + c], e = shift[oc + c];
                        o0[oc + c] = sat_s8(cg_requantize_right(s[c], m, e) + off);
                        o1[oc + c] = sat_s8(cg_requantize_right(s[4 + c], m, e) + off);
                    }
                    continue;
                }
                for (c = 0; c < n; c++) {
                    const int32_t m = mult[oc + c], e = shift[oc + c];
                    int32_t v0, v1;
                    if (e <= 0) {
                        v0 = cg_requantize_right(s[c], m, e);
                        v1 = cg_requantize_right(s[4 + c], m, e);
                    } else {
                        v0 = cg_requantize(s[c], m, e);
                        v1 = cg_requantize(s[4 + c], m, e);
                    }
                    o0[oc + c] = (int8_t)cg_clamp_i32(v0 + off, lo, hi);
                    if (two) {
                        o1[oc + c] = (int8_t)cg_clamp_i32(v1 + off, lo, hi);
                    }
                }
            }
        }
    }
    return CG_OK;
}
