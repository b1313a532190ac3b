/* codegen runtime: what the two DSP convolutions share (internal, header-only; included by cg_conv2d_dsp_s8.c,
 * int16 weights, and cg_conv2d_dsp_w8_s8.c, int8 weights, which differ only in their multiply-accumulate pass).
 *
 * Same arithmetic as cg_conv2d_s8 (TFLite reference, folded input offset).  Two output pixels and four
 * output channels are computed together from 16-bit operands with SMLAD (two multiply-accumulates per
 * instruction), so each loaded activation word is used four times and each weight word twice:
 *
 * - the receptive fields of the two pixels are first copied into the scratch buffer (im2col), widened to
 *   16 bits with SXTB16: per 4 accumulation steps k..k+3 the words (x[k], x[k+2]) of pixel 0 and of pixel 1,
 *   then (x[k+1], x[k+3]) of pixel 0 and of pixel 1.  Each kernel row (filter.w * input.c values) is padded to a
 *   multiple of 4 steps (zero weights), so that a row inside the input is widened word by word straight from it
 *   (the padding steps read the input bytes that follow, times zero); rows at the borders are assembled in int8
 *   on the stack first; padded positions hold the input zero point, which contributes zero with the folded bias
 *   (a 1x1 convolution with stride 1 and no padding widens its two input pixels directly);
 * - the variant's pass (cg_conv_mac_pass) runs the pixel pair over all output channels (bias padded to groups
 *   of 4) and leaves the sums in the scratch buffer;
 * - the output stage requantizes the sums; with `out_stage` (per channel: multiplier, rounding and output
 *   offset, right shift, sign mask, precomputed by the generator, cg_nn.h) in seven instructions per value. */
#ifndef CG_CONV2D_DSP_H
#define CG_CONV2D_DSP_H

#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

/* steps per kernel row: filter.w * input.c rounded up to a multiple of 4 */
static int32_t row_depth(const cg_conv2d_s8_params *p)
{
    return (p->filter.w * p->input.c + 3) & ~3;
}

static int32_t padded_depth(const cg_conv2d_s8_params *p)
{
    return p->filter.h * row_depth(p);
}

static int32_t padded_channels(const cg_conv2d_s8_params *p)
{
    return (p->output.c + 3) & ~3;
}

/* two 16-bit patches and the sums of two pixels */
static inline int32_t cg_conv2d_dsp_scratch(const cg_conv2d_s8_params *p)
{
    return 2 * padded_depth(p) * (int32_t)sizeof(int16_t) + 2 * padded_channels(p) * (int32_t)sizeof(int32_t);
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

/* steps i..i+n-1 (i and n multiples of 4) of both pixels at once, from src0 and src1 */
static void put2(int16_t *restrict patch, int32_t i, const int8_t *restrict src0, const int8_t *restrict src1,
                 int32_t n)
{
    uint32_t *restrict dst = (uint32_t *)(void *)(patch + 2 * i);
    const uint32_t *const end = dst + n;
    do {
        const uint32_t x0 = cg_read_s8x4(src0);
        const uint32_t x1 = cg_read_s8x4(src1);
        src0 += 4;
        src1 += 4;
        dst[0] = cg_sxtb16(x0);
        dst[1] = cg_sxtb16(x1);
        dst[2] = cg_sxtb16_ror8(x0);
        dst[3] = cg_sxtb16_ror8(x1);
        dst += 4;
    } while (dst != end);
}

static void fill(int16_t *restrict patch, int32_t q, int32_t i, int16_t value, int32_t n)
{
    int32_t j;
    if (((i | n) & 3) == 0) {
        uint32_t *restrict dst = (uint32_t *)(void *)(patch + 2 * i) + q;
        const uint32_t v = (uint16_t)value * 0x10001u;
        for (j = 0; j < n; j += 4) {
            dst[0] = v;
            dst[2] = v;
            dst += 4;
        }
        return;
    }
    for (j = 0; j < n; j++) {
        patch[slot(i + j, q)] = value;
    }
}

/* short copy loops stay loops (GCC would otherwise call memmove/memset for a few bytes) */
#if defined(__GNUC__) && !defined(__clang__)
#define CG_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define CG_NO_LIBCALLS
#endif

#define CG_CONV_ROW_STAGE 64 /* kernel rows up to this many steps are assembled on the stack at the borders */

/* the receptive field of output pixel (oy, ox) as pixel q of the patch */
CG_NO_LIBCALLS static void gather(const cg_conv2d_s8_params *p, const int8_t *input, int32_t oy, int32_t ox, int16_t *patch,
                   int32_t q)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w;
    const int32_t row = k_w * in_c, rowp = row_depth(p);
    const int16_t pad_value = (int16_t)(-p->input_offset);
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    /* the row with its padding steps lies inside the input row */
    const int whole = p->dilation_w == 1 && x0 >= 0 && x0 * in_c + rowp <= in_w * in_c;
    int32_t ky, kx;
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        int32_t i = ky * rowp;
        if (iy < 0 || iy >= in_h) {
            fill(patch, q, i, pad_value, rowp);
            continue;
        }
        if (whole) {
            put(patch, q, i, input + (iy * in_w + x0) * in_c, rowp);
            continue;
        }
        if (rowp <= CG_CONV_ROW_STAGE) {
            /* a short row partly outside the input: assembled in int8, then widened word by word */
            int8_t stage[CG_CONV_ROW_STAGE];
            int8_t *dst = stage;
            for (kx = 0; kx < k_w; kx++) {
                const int32_t ix = x0 + kx * p->dilation_w;
                int32_t j;
                if (ix < 0 || ix >= in_w) {
                    for (j = 0; j < in_c; j++) {
                        dst[j] = (int8_t)pad_value;
                    }
                } else {
                    const int8_t *src = input + (iy * in_w + ix) * in_c;
                    for (j = 0; j < in_c; j++) {
                        dst[j] = src[j];
                    }
                }
                dst += in_c;
            }
            for (; dst != stage + rowp; dst++) {
                *dst = 0;
            }
            put(patch, q, i, stage, rowp);
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
        fill(patch, q, i, 0, rowp - row);
    }
}

/* kernel row iy of a window starting at column x0 as rowp int8 values: in place when the row lies inside the
 * input (`whole`), `pad_row` (the zero point) above or below the input, else assembled in `stage` */
CG_NO_LIBCALLS static const int8_t *row_src(const cg_conv2d_s8_params *p, const int8_t *input, int32_t iy, int32_t x0, int whole,
                             int8_t *stage, const int8_t *pad_row)
{
    const int32_t in_w = p->input.w, in_c = p->input.c, k_w = p->filter.w;
    int8_t *dst = stage;
    int32_t kx, j;
    if (iy < 0 || iy >= p->input.h) {
        return pad_row;
    }
    if (whole) {
        return input + (iy * in_w + x0) * in_c;
    }
    for (kx = 0; kx < k_w; kx++) {
        const int32_t ix = x0 + kx * p->dilation_w;
        if (ix < 0 || ix >= in_w) {
            for (j = 0; j < in_c; j++) {
                dst[j] = pad_row[0];
            }
        } else {
            const int8_t *src = input + (iy * in_w + ix) * in_c;
            for (j = 0; j < in_c; j++) {
                dst[j] = src[j];
            }
        }
        dst += in_c;
    }
    for (; dst != stage + row_depth(p); dst++) {
        *dst = 0;
    }
    return stage;
}

/* both pixels of the pair, row by row widened together (rows up to CG_CONV_ROW_STAGE steps, or inside the input
 * for both pixels); otherwise pixel by pixel */
static void gather2(const cg_conv2d_s8_params *p, const int8_t *input, int32_t oy0, int32_t ox0, int32_t oy1,
                    int32_t ox1, int16_t *patch, const int8_t *pad_row)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, rowp = row_depth(p);
    const int32_t y0 = oy0 * p->stride_h - p->pad_h, y1 = oy1 * p->stride_h - p->pad_h;
    const int32_t x0 = ox0 * p->stride_w - p->pad_w, x1 = ox1 * p->stride_w - p->pad_w;
    const int whole0 = p->dilation_w == 1 && x0 >= 0 && x0 * in_c + rowp <= in_w * in_c;
    const int whole1 = p->dilation_w == 1 && x1 >= 0 && x1 * in_c + rowp <= in_w * in_c;
    int32_t ky;
    if ((!whole0 || !whole1) && rowp <= CG_CONV_ROW_STAGE) {
        int8_t stage0[CG_CONV_ROW_STAGE], stage1[CG_CONV_ROW_STAGE];
        for (ky = 0; ky < k_h; ky++) {
            const int32_t dy = ky * p->dilation_h;
            put2(patch, ky * rowp, row_src(p, input, y0 + dy, x0, whole0, stage0, pad_row),
                 row_src(p, input, y1 + dy, x1, whole1, stage1, pad_row), rowp);
        }
        return;
    }
    if (!whole0 || !whole1) {
        gather(p, input, oy0, ox0, patch, 0);
        gather(p, input, oy1, ox1, patch, 1);
        return;
    }
    for (ky = 0; ky < k_h; ky++) {
        const int32_t iy0 = y0 + ky * p->dilation_h, iy1 = y1 + ky * p->dilation_h;
        const int32_t i = ky * rowp;
        if (iy0 >= 0 && iy0 < in_h && iy1 >= 0 && iy1 < in_h) {
            put2(patch, i, input + (iy0 * in_w + x0) * in_c, input + (iy1 * in_w + x1) * in_c, rowp);
            continue;
        }
        if (iy0 < 0 || iy0 >= in_h) {
            fill(patch, 0, i, (int16_t)(-p->input_offset), rowp);
        } else {
            put(patch, 0, i, input + (iy0 * in_w + x0) * in_c, rowp);
        }
        if (iy1 < 0 || iy1 >= in_h) {
            fill(patch, 1, i, (int16_t)(-p->input_offset), rowp);
        } else {
            put(patch, 1, i, input + (iy1 * in_w + x1) * in_c, rowp);
        }
    }
}

/* one pass of the pixel pair over all output channels: for each channel c (in groups of 4),
 * acc[2c] = bias[c] + pixel 0 x channel c and acc[2c + 1] = bias[c] + pixel 1 x channel c, over n >= 1 blocks of
 * 4 steps (patch `a`, weights `w` in the packed order) */
typedef struct {
    const uint32_t *a;
    const uint32_t *w;
    int32_t n;
    int32_t groups;
    const int32_t *bias;
    int32_t *acc;
} mac_job;

typedef void (*cg_conv_mac_pass)(const mac_job *job);

/* TFLite's requantization (MultiplyByQuantizedMultiplier, double rounding) plus the output offset, from the
 * generator's per-channel table (m, add, r, neg) (cg_nn.h), for |acc| < 2^30 (the generator checks it):
 * the doubling high multiply (acc * m + 2^30) >> 31 is SMMULR(2 acc, m); the rounding right shift by r (half
 * away from zero) is (v + 2^(r-1) - (v < 0)) >> r, with the offset folded in: add = 2^(r-1) + (offset << r) and
 * neg = -1; for r = 0, add = offset and neg = 0.  With `any_r0` false (every r >= 1) the mask is not applied. */
static inline int32_t out_fast(int32_t acc, const int32_t *t, int any_r0)
{
    int32_t v;
#if CG_DSP_INSTRUCTIONS
    __asm__("smmulr %0, %1, %2" : "=r"(v) : "r"((int32_t)((uint32_t)acc << 1)), "r"(t[0]));
#else
    v = (int32_t)(((int64_t)acc * t[0] + ((int64_t)1 << 30)) >> 31);
#endif
    return (v + (any_r0 ? (v >> 31) & t[3] : v >> 31) + t[1]) >> t[2];
}

#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* the common case (every r >= 1, full clamp) by hand: per channel one LDRD of the two sums, one LDM of the
 * table row and seven instructions per output; n channels, o1 = o0 + stride */
__attribute__((naked, noinline)) static void store_pair_r1(const int32_t *acc __attribute__((unused)),
                                                          const int32_t *os __attribute__((unused)),
                                                          int8_t *o0 __attribute__((unused)),
                                                          int32_t n __attribute__((unused)),
                                                          int32_t stride __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r9, lr}\n"
        "ldr     r12, [sp, #28]\n" /* stride (fifth argument) */
        "add     lr, r2, r3\n" /* end of o0 */
        "1:\n"
        "ldrd    r4, r5, [r0], #8\n"
        "ldm     r1!, {r6, r7, r8, r9}\n" /* m, add, r, neg */
        "lsl     r4, r4, #1\n"
        "lsl     r5, r5, #1\n"
        "smmulr  r4, r4, r6\n"
        "smmulr  r5, r5, r6\n"
        "add     r4, r4, r4, asr #31\n"
        "add     r5, r5, r5, asr #31\n"
        "add     r4, r4, r7\n"
        "add     r5, r5, r7\n"
        "asr     r4, r4, r8\n"
        "asr     r5, r5, r8\n"
        "ssat    r4, #8, r4\n"
        "ssat    r5, #8, r5\n"
        "strb    r5, [r2, r12]\n"
        "strb    r4, [r2], #1\n"
        "cmp     r2, lr\n"
        "bne     1b\n"
        "pop     {r4-r9, pc}\n");
}
#endif

/* the sums of a pixel pair (acc, as mac_pass leaves them) to int8 outputs o0 and o1 = o0 + stride, n channels,
 * full int8 clamp */
#define CG_STORE_FAST_PAIR(any_r0)                                            \
    do {                                                                      \
        const int8_t *const end = o0 + n;                                     \
        do {                                                                  \
            const int32_t a0 = acc[0], a1 = acc[1];                           \
            *o0++ = (int8_t)cg_sat_s8(out_fast(a0, os, any_r0));              \
            *o1++ = (int8_t)cg_sat_s8(out_fast(a1, os, any_r0));              \
            acc += 2;                                                         \
            os += 4;                                                          \
        } while (o0 != end);                                                  \
    } while (0)

static void store_fast(const int32_t *restrict acc, const int32_t *restrict os, int32_t n, int32_t stride,
                       int8_t *restrict o0, int8_t *restrict o1, int any_r0)
{
    if (any_r0) {
        CG_STORE_FAST_PAIR(1);
    } else {
#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
        (void)o1;
        store_pair_r1(acc, os, o0, n, stride);
#else
        (void)stride;
        CG_STORE_FAST_PAIR(0);
#endif
    }
}

/* the general case of the table: one pixel or both, any clamp */
static void store_fast_clamped(const int32_t *restrict acc, const int32_t *restrict os, int32_t n,
                               int8_t *restrict o0, int8_t *restrict o1, int two, int32_t lo, int32_t hi)
{
    int32_t c, q;
    for (q = 0; q <= (two ? 1 : 0); q++) {
        int8_t *o = q ? o1 : o0;
        for (c = 0; c < n; c++) {
            o[c] = (int8_t)cg_clamp_i32(out_fast(acc[2 * c + q], os + 4 * c, 1), lo, hi);
        }
    }
}

/* any shift (multipliers above 1 too) and single rounding: cg_requantize; channels c0 .. c0 + n - 1 */
static void store_generic(const cg_conv2d_s8_params *p, const int32_t *restrict acc, int32_t c0, int32_t n,
                          int8_t *restrict o0, int8_t *restrict o1, int two)
{
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t c, q;
    for (q = 0; q <= (two ? 1 : 0); q++) {
        int8_t *o = q ? o1 : o0;
        for (c = 0; c < n; c++) {
            const int32_t v = cg_requantize(acc[2 * c + q], p->multiplier[c0 + c], p->shift[c0 + c]);
            o[c] = (int8_t)cg_clamp_i32(v + off, lo, hi);
        }
    }
}

/* the output stage of a pixel pair, channels c0 .. c0 + n - 1 (o0, o1 at channel c0, `stride` bytes apart):
 * store_generic without the table (os == 0), else store_fast for both pixels with no clamp, else
 * store_fast_clamped.  A macro (conv_channels, cg_conv2d_dsp_c1_s8 and cg_conv2d_dsp_cols_s8 share it), not an
 * inline function: that exact statement in each caller is what the recorded counts were measured on (as a
 * function, even always inlined, GCC laid the DSP convolutions out differently, a few hundred ticks per layer). */
#define CG_CONV_STORE_PAIR(p, acc, os, c0, n, stride, o0, o1, two, full, any_r0, lo, hi) \
    do {                                                                                  \
        if ((os) == 0) {                                                                  \
            store_generic(p, acc, c0, n, o0, o1, two);                                    \
        } else if ((full) && (two)) {                                                     \
            store_fast(acc, os, n, stride, o0, o1, any_r0);                               \
        } else {                                                                          \
            store_fast_clamped(acc, os, n, o0, o1, two, lo, hi);                          \
        }                                                                                 \
    } while (0)

/* what every pass over the pixels shares: the pad row, whether some channel has r = 0, the patch and the sums */
typedef struct {
    int16_t *patch;
    int32_t *acc;
    int any_r0;
    int8_t pad_row[CG_CONV_ROW_STAGE];
} conv_setup;

/* checks the arguments and prepares `s` (the patch, then the sums, at the start of `scratch`) */
static cg_status conv_prepare(const cg_conv2d_s8_params *p, const int32_t *bias, int8_t *scratch, conv_setup *s)
{
    const int32_t *os = CG_SINGLE_ROUNDING ? 0 : p->out_stage;
    int32_t c;
    if (p->filter.c != p->input.c || p->filter.n != p->output.c || bias == 0 || padded_depth(p) == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0 || ((uintptr_t)scratch & 3u) != 0) {
        return CG_ERR_SCRATCH;
    }
    for (c = 0; c < CG_CONV_ROW_STAGE; c++) {
        s->pad_row[c] = (int8_t)(-p->input_offset);
    }
    s->any_r0 = 0;
    for (c = 0; os != 0 && c < p->output.c; c++) {
        s->any_r0 = s->any_r0 || os[4 * c + 3] == 0;
    }
    s->patch = (int16_t *)(void *)scratch;
    s->acc = (int32_t *)(void *)(scratch + 2 * padded_depth(p) * (int32_t)sizeof(int16_t));
    return CG_OK;
}

/* output channels [c0, c0 + nc) of every pixel (c0 and nc multiples of 4; channels past output.c are computed
 * with the zero weights and bias that pad them, and not stored), with the variant's pass over `filter` (the
 * packed words of exactly these channels, 4-byte aligned) */
static void conv_channels(const cg_conv2d_s8_params *p, const int8_t *input, const void *filter,
                          const int32_t *bias, int8_t *output, const conv_setup *s, cg_conv_mac_pass mac_pass,
                          int32_t c0, int32_t nc)
{
    const int32_t out_w = p->output.w, out_c = p->output.c, in_c = p->input.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t in_batch = p->input.h * p->input.w * in_c;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *os = CG_SINGLE_ROUNDING ? 0 : p->out_stage;
    const int32_t n = out_c - c0 < nc ? out_c - c0 : nc; /* channels stored */
    const int full = lo == -128 && hi == 127;
    /* a 1x1 convolution with stride 1 and no padding: the two pixels are contiguous input rows */
    const int direct = p->filter.h == 1 && p->filter.w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
                       p->pad_h == 0 && p->pad_w == 0 && (in_c & 3) == 0;
    int16_t *patch = s->patch;
    int32_t *acc = s->acc;
    mac_job job;
    int32_t b, pix;
    if (os != 0) {
        os += 4 * c0;
    }
    job.a = (const uint32_t *)(const void *)patch;
    job.n = padded_depth(p) >> 2;
    job.groups = nc >> 2;
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_batch;
        int8_t *out_b = output + b * n_pix * out_c + c0;
        for (pix = 0; pix < n_pix; pix += 2) {
            const int two = pix + 1 < n_pix;
            const int32_t pix1 = two ? pix + 1 : pix;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = o0 + out_c;
            if (direct) {
                put2(patch, 0, in_b + pix * in_c, in_b + pix1 * in_c, in_c);
            } else {
                gather2(p, in_b, pix / out_w, pix % out_w, pix1 / out_w, pix1 % out_w, patch, s->pad_row);
            }
            job.w = (const uint32_t *)filter;
            job.bias = bias + c0;
            job.acc = acc;
            mac_pass(&job);
            CG_CONV_STORE_PAIR(p, acc, os, c0, n, out_c, o0, o1, two, full, s->any_r0, lo, hi);
        }
    }
}

/* The whole convolution with the variant's pass over `filter` (4-byte aligned words in the variant's order).
 * It is the bulk of every DSP convolution's code (im2col and output stage inlined: about 2.9 KB of Thumb-2) and
 * identical in every kernel including this header: with GCC or Clang it is a weak definition, so a program
 * linking several DSP convolutions (dense, 2:4, ...) keeps one copy (the others are unreferenced and dropped by
 * --gc-sections); elsewhere each kernel keeps its own static copy. */
#if defined(__GNUC__)
#define CG_CONV_DSP_SHARED __attribute__((weak))
#else
#define CG_CONV_DSP_SHARED static inline
#endif

CG_CONV_DSP_SHARED cg_status cg_conv2d_dsp_run(const cg_conv2d_s8_params *p, const int8_t *input, const void *filter,
                                               const int32_t *bias, int8_t *output, int8_t *scratch,
                                               cg_conv_mac_pass mac_pass);
CG_CONV_DSP_SHARED cg_status cg_conv2d_dsp_run(const cg_conv2d_s8_params *p, const int8_t *input, const void *filter,
                                               const int32_t *bias, int8_t *output, int8_t *scratch,
                                               cg_conv_mac_pass mac_pass)
{
    conv_setup s;
    cg_status st;
    if (((uintptr_t)filter & 3u) != 0) {
        return CG_ERR_ARG;
    }
    st = conv_prepare(p, bias, scratch, &s);
    if (st != CG_OK) {
        return st;
    }
    conv_channels(p, input, filter, bias, output, &s, mac_pass, 0, padded_channels(p));
    return CG_OK;
}

#ifdef CG_CONV_DSP_S16_PASS
/* the pass of cg_conv2d_dsp_s8 (16-bit weights), for the kernels that define CG_CONV_DSP_S16_PASS: it and the one
 * that decodes its weights per block of channels (cg_conv2d_dsp_sparse_s8) */
#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* Hand-scheduled so that all eight sums stay in registers (r4 + 2c: pixel 0, r5 + 2c: pixel 1): per block two
 * LDRD of activations, four LDRD of weights and sixteen SMLAD, two blocks per loop iteration (an odd count
 * enters at the second): 64 multiply-accumulates in 47 instructions. */
__attribute__((naked, noinline)) static void mac_pass_s16(const mac_job *job __attribute__((unused)))
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

static void mac_pass_s16(const mac_job *job)
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
#endif /* CG_CONV_DSP_S16_PASS */

#endif /* CG_CONV2D_DSP_H */
