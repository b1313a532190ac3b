/* codegen runtime: int8 2-D convolution for cores with the Armv7E-M DSP extension, for weights whose im2col
 * columns are zero in every output channel ("column-sparse", e.g. layer-wide 2:4: in each group of 4 steps
 * (ky, kx, c) the same at most two positions kept by all filters).  Only the D kept columns (padded to a multiple
 * of 4) are gathered into the patch and multiplied: cg_conv2d_dsp_s8's pass (cg_conv2d_dsp.h), or with int8
 * weights mac_pass_pairs below, runs on depth D instead of filter.h * filter.w * input.c (rows padded to 4), and
 * cg_conv2d_dsp_s8's output stage follows.
 *
 * `filter` (int32 words, lower/columns.py):
 * - word 0: D (a multiple of 4, 4 <= D <= filter.h * filter.w * input.c rounded up to 4); word 1: the weight
 *   format (0 or 1, below);
 * - D / 2 words of uint16 input offsets in the patch order: per 4 compact steps k..k+3 the offsets of k, k+2,
 *   k+1, k+3, offset of column (ky, kx, c) = (ky dilation_h input.w + kx dilation_w) input.c + c from the window's
 *   first byte: the patch words A(k, k+2), B(k, k+2), A(k+1, k+3), B(k+1, k+3) of the pixels A and B are two
 *   LDRSB and one PKHBT each;
 * - D / 2 words of uint16 column indices ((ky filter.w + kx) input.c + c) in the same order, for
 *   windows crossing the border: such a window is first copied into a stage of filter.h * filter.w * input.c
 *   bytes (taps outside the input hold the input zero point, which contributes zero with the folded bias), in
 *   the scratch after the D-step patch, and gathered from there;
 * - the weights of the compact [output.c, D] matrix: format 0, cg_conv2d_dsp_s8's 16-bit order (2 D words per
 *   group of 4 channels); format 1, int8 with two channels per 16-bit lane (D words per group, mac_pass_pairs).
 * Columns padding D hold zero weights and the offset of a kept column.  The generator checks that every offset
 * lies in the window and every index in the stage (bounds.py reads the stream), and that 4 D plus the stage fit
 * the patches of the densest stream (D at most 3/4 of the columns). */
#define CG_CONV_DSP_S16_PASS
#include "cg_conv2d_dsp.h"

#define CG_COLS_HEADER 2   /* words before the offsets */
#define CG_COLS_PAIRS 1u   /* weight format: int8, two channels per 16-bit lane (mac_pass_pairs) */
#define CG_COLS_PAIRS_MAX_DEPTH 508 /* |S| <= 508 * 128 * 128 < 2^23: 256 S[c+1] + S[c] fits 32 bits */

/* steps of the densest stream (every column kept) */
static int32_t cols_bound(const cg_conv2d_s8_params *p)
{
    return (p->filter.h * p->filter.w * p->input.c + 3) & ~3;
}

/* the patches of the densest stream (never more than cg_conv2d_dsp_s8's; they hold the D-step patch and the
 * stage) and the sums of two pixels */
int32_t cg_conv2d_dsp_cols_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * cols_bound(p) * (int32_t)sizeof(int16_t) + 2 * padded_channels(p) * (int32_t)sizeof(int32_t);
}

static inline uint32_t pack_lo(int32_t lo, int32_t hi) /* PKHBT: (lo, hi) as 16-bit halves */
{
#if CG_DSP_INSTRUCTIONS
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
#else
    return ((uint32_t)lo & 0xffffu) | ((uint32_t)hi << 16);
#endif
}

/* both windows inside the input: the kept columns of pixels a and b at the table's offsets, `blocks` >= 1 blocks of
 * 4 steps into dst */
#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
/* per block four LDRH of offsets, eight LDRSB, four PKHBT and one STM: 19 instructions with the loop */
__attribute__((naked, noinline)) static void gather_inside(const uint16_t *tab __attribute__((unused)),
                                                          int32_t blocks __attribute__((unused)),
                                                          const int8_t *a __attribute__((unused)),
                                                          const int8_t *b __attribute__((unused)),
                                                          uint32_t *dst __attribute__((unused)))
{
    __asm__ volatile(
        "push    {r4-r9, lr}\n"
        "ldr     r12, [sp, #28]\n"         /* dst (fifth argument) */
        "add     lr, r12, r1, lsl #4\n"    /* end of the patch */
        "1:\n"
        "ldrh    r4, [r0], #2\n"           /* o(k) */
        "ldrh    r5, [r0], #2\n"           /* o(k+2) */
        "ldrsb   r6, [r2, r4]\n"
        "ldrsb   r8, [r2, r5]\n"
        "ldrsb   r7, [r3, r4]\n"
        "ldrsb   r9, [r3, r5]\n"
        "pkhbt   r6, r6, r8, lsl #16\n"    /* A(k, k+2) */
        "pkhbt   r7, r7, r9, lsl #16\n"    /* B(k, k+2) */
        "ldrh    r4, [r0], #2\n"           /* o(k+1) */
        "ldrh    r5, [r0], #2\n"           /* o(k+3) */
        "ldrsb   r8, [r2, r4]\n"
        "ldrsb   r1, [r2, r5]\n"
        "ldrsb   r9, [r3, r4]\n"
        "ldrsb   r4, [r3, r5]\n"
        "pkhbt   r8, r8, r1, lsl #16\n"    /* A(k+1, k+3) */
        "pkhbt   r9, r9, r4, lsl #16\n"    /* B(k+1, k+3) */
        "stm     r12!, {r6-r9}\n"
        "cmp     r12, lr\n"
        "bne     1b\n"
        "pop     {r4-r9, pc}\n");
}
#else
static void gather_inside(const uint16_t *restrict tab, int32_t blocks, const int8_t *a, const int8_t *b,
                          uint32_t *restrict dst)
{
    const uint32_t *const end = dst + 4 * blocks;
    do {
        const uint32_t o0 = tab[0], o2 = tab[1], o1 = tab[2], o3 = tab[3];
        dst[0] = pack_lo(a[o0], a[o2]);
        dst[1] = pack_lo(b[o0], b[o2]);
        dst[2] = pack_lo(a[o1], a[o3]);
        dst[3] = pack_lo(b[o1], b[o3]);
        tab += 4;
        dst += 4;
    } while (dst != end);
}
#endif

/* one pixel (q) of the patch from src at the table's offsets */
static void gather_one(const uint16_t *restrict tab, int32_t blocks, const int8_t *src, uint32_t *restrict dst)
{
    const uint32_t *const end = dst + 4 * blocks;
    do {
        dst[0] = pack_lo(src[tab[0]], src[tab[1]]);
        dst[2] = pack_lo(src[tab[2]], src[tab[3]]);
        tab += 4;
        dst += 4;
    } while (dst != end);
}

/* The int8 pass with two channels per 16-bit lane (cg_fully_connected_dsp_s8's pairing): per group of 4 channels
 * and per 4 steps k..k+3 the words (v[k], v[k+2]) of the channel pairs (0, 1) and (2, 3), then (v[k+1], v[k+3]),
 * v = 256 w[c+1] + w[c] (the generator checks it fits 16 bits).  SMLAD of a raw word accumulates 256 S[c+1] + S[c]
 * (R), SMLAD of its SXTB16 S[c] (T); at the end S[c] = T + bias[c], S[c+1] = (R - T) / 256 + bias[c+1], exact while
 * |S| < 2^23 (D at most CG_COLS_PAIRS_MAX_DEPTH).  Per block 24 instructions, 2 more than the 16-bit pass, half the bytes. */
#if CG_DSP_INSTRUCTIONS && defined(__thumb2__)
#define CG_COLS_PAIRS_HALF                  \
    "ldrd    r12, lr, [r0], #8\n"           \
    "ldrd    r2, r3, [r1], #8\n"            \
    "smlad   r4, r12, r2, r4\n"             \
    "smlad   r5, lr, r2, r5\n"              \
    "sxtb16  r2, r2\n"                      \
    "smlad   r6, r12, r2, r6\n"             \
    "smlad   r7, lr, r2, r7\n"              \
    "smlad   r8, r12, r3, r8\n"             \
    "smlad   r9, lr, r3, r9\n"              \
    "sxtb16  r3, r3\n"                      \
    "smlad   r10, r12, r3, r10\n"           \
    "smlad   r11, lr, r3, r11\n"

__attribute__((naked, noinline)) static void mac_pass_pairs(const mac_job *job __attribute__((unused)))
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
        "movs    r4, #0\n"
        "movs    r5, #0\n"
        "movs    r6, #0\n"
        "movs    r7, #0\n"
        "movs    r8, #0\n"
        "movs    r9, #0\n"
        "movs    r10, #0\n"
        "movs    r11, #0\n"
        "ldr     r2, [sp, #20]\n"
        "cmp     r2, #0\n"
        "bne     3f\n"
        "1:\n"
        CG_COLS_PAIRS_HALF
        CG_COLS_PAIRS_HALF
        "3:\n"
        CG_COLS_PAIRS_HALF
        CG_COLS_PAIRS_HALF
        "ldr     r2, [sp, #4]\n"
        "cmp     r0, r2\n"
        "bne     1b\n"
        /* S[c] = T + bias[c], S[c+1] = (R - T) / 256 + bias[c+1] */
        "ldr     lr, [sp, #12]\n"
        "ldrd    r2, r3, [lr], #8\n"
        "sub     r4, r4, r6\n"
        "sub     r5, r5, r7\n"
        "add     r6, r6, r2\n"
        "add     r7, r7, r2\n"
        "add     r4, r3, r4, asr #8\n"
        "add     r5, r3, r5, asr #8\n"
        "ldrd    r2, r3, [lr], #8\n"
        "str     lr, [sp, #12]\n"
        "sub     r8, r8, r10\n"
        "sub     r9, r9, r11\n"
        "add     r10, r10, r2\n"
        "add     r11, r11, r2\n"
        "add     r8, r3, r8, asr #8\n"
        "add     r9, r3, r9, asr #8\n"
        "ldr     r2, [sp, #16]\n"
        "strd    r6, r7, [r2]\n"
        "strd    r4, r5, [r2, #8]\n"
        "strd    r10, r11, [r2, #16]\n"
        "strd    r8, r9, [r2, #24]\n"
        "add     r2, r2, #32\n"
        "str     r2, [sp, #16]\n"
        "ldr     r2, [sp, #8]\n"
        "subs    r2, r2, #1\n"
        "str     r2, [sp, #8]\n"
        "bne     2b\n"
        "add     sp, sp, #24\n"
        "pop     {r4-r11, pc}\n");
}
#else
static void mac_pass_pairs(const mac_job *job)
{
    const uint32_t *w = job->w;
    const int32_t *bias = job->bias;
    int32_t *acc = job->acc;
    int32_t g, q, h;
    for (g = 0; g < job->groups; g++) {
        const uint32_t *a = job->a;
        int32_t r[4] = {0, 0, 0, 0}, t[4] = {0, 0, 0, 0}; /* [pair * 2 + pixel] */
        int32_t n = job->n;
        do {
            for (h = 0; h < 2; h++) { /* (k, k+2), then (k+1, k+3) */
                for (q = 0; q < 2; q++) {
                    const uint32_t v = w[2 * h + q], lo = cg_sxtb16(v);
                    r[2 * q] = cg_smlad(a[2 * h], v, r[2 * q]);
                    r[2 * q + 1] = cg_smlad(a[2 * h + 1], v, r[2 * q + 1]);
                    t[2 * q] = cg_smlad(a[2 * h], lo, t[2 * q]);
                    t[2 * q + 1] = cg_smlad(a[2 * h + 1], lo, t[2 * q + 1]);
                }
            }
            a += 4;
            w += 4;
        } while (--n);
        for (q = 0; q < 4; q++) { /* q = 2 * pair + pixel */
            const int32_t c0 = 2 * (q >> 1), px = q & 1;
            acc[2 * c0 + px] = t[q] + bias[c0];
            acc[2 * c0 + 2 + px] = ((int32_t)((uint32_t)r[q] - (uint32_t)t[q]) >> 8) + bias[c0 + 1];
        }
        acc += 8;
        bias += 4;
    }
}
#endif

/* n bytes of `value` at dst; n bytes from src to dst (words first) */
CG_NO_LIBCALLS static inline void fill_bytes(int8_t *restrict dst, uint32_t value4, int32_t n)
{
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        cg_write_s8x4(dst + j, value4);
    }
    for (; j < n; j++) {
        dst[j] = (int8_t)value4;
    }
}

CG_NO_LIBCALLS static inline void copy_bytes(int8_t *restrict dst, const int8_t *restrict src, int32_t n)
{
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        cg_write_s8x4(dst + j, cg_read_s8x4(src + j));
    }
    for (; j < n; j++) {
        dst[j] = src[j];
    }
}

/* the window at input position (y0, x0) crossing the border, as filter.h * filter.w * input.c bytes in `stage`
 * (taps outside the input: the zero point); per kernel row the taps kx_lo .. kx_hi - 1 lie inside the input */
static void stage_window(const cg_conv2d_s8_params *p, const int8_t *input, int32_t y0, int32_t x0,
                         int8_t *restrict stage)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, k_w = p->filter.w;
    const int32_t dw = p->dilation_w, row = k_w * in_c;
    const uint32_t pad4 = (uint8_t)(-p->input_offset) * 0x01010101u;
    int32_t kx_lo = 0, kx_hi = k_w, ky, kx;
    while (kx_lo < k_w && x0 + kx_lo * dw < 0) {
        kx_lo++;
    }
    while (kx_hi > kx_lo && x0 + (kx_hi - 1) * dw >= in_w) {
        kx_hi--;
    }
    for (ky = 0; ky < p->filter.h; ky++) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= in_h || kx_lo == kx_hi) {
            fill_bytes(stage, pad4, row);
        } else {
            const int8_t *src = input + (iy * in_w + x0 + kx_lo * dw) * in_c; /* tap kx_lo */
            fill_bytes(stage, pad4, kx_lo * in_c);
            if (dw == 1) {
                copy_bytes(stage + kx_lo * in_c, src, (kx_hi - kx_lo) * in_c);
            } else {
                for (kx = kx_lo; kx < kx_hi; kx++) {
                    copy_bytes(stage + kx * in_c, src + (kx - kx_lo) * dw * in_c, in_c);
                }
            }
            fill_bytes(stage + kx_hi * in_c, pad4, (k_w - kx_hi) * in_c);
        }
        stage += row;
    }
}

cg_status cg_conv2d_dsp_cols_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                                const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_w = p->output.w, out_c = p->output.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t in_h = p->input.h, in_w = p->input.w;
    const int32_t in_batch = in_h * in_w * p->input.c;
    const int32_t span_h = (p->filter.h - 1) * p->dilation_h, span_w = (p->filter.w - 1) * p->dilation_w;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t *os = CG_SINGLE_ROUNDING ? 0 : p->out_stage;
    const int full = lo == -128 && hi == 127;
    int32_t depth, b, pix;
    const uint16_t *tab, *cols;
    int8_t *stage;
    const void *weights;
    cg_conv_mac_pass mac_pass;
    conv_setup s;
    mac_job job;
    cg_status st;
    if (filter == 0 || ((uintptr_t)filter & 3u) != 0) {
        return CG_ERR_ARG;
    }
    depth = filter[0];
    if (depth < 4 || (depth & 3) != 0 || 4 * depth + cols_bound(p) > 4 * cols_bound(p) ||
        ((uint32_t)filter[1] & ~CG_COLS_PAIRS) != 0 ||
        ((uint32_t)filter[1] == CG_COLS_PAIRS && depth > CG_COLS_PAIRS_MAX_DEPTH)) {
        return CG_ERR_ARG;
    }
    st = conv_prepare(p, bias, scratch, &s);
    if (st != CG_OK) {
        return st;
    }
    s.acc = (int32_t *)(void *)(scratch + 2 * cols_bound(p) * (int32_t)sizeof(int16_t));
    stage = scratch + 2 * depth * (int32_t)sizeof(int16_t);
    tab = (const uint16_t *)(const void *)(filter + CG_COLS_HEADER);
    cols = tab + depth;
    weights = (const void *)(filter + CG_COLS_HEADER + depth);
    mac_pass = (uint32_t)filter[1] == CG_COLS_PAIRS ? mac_pass_pairs : mac_pass_s16;
    job.a = (const uint32_t *)(const void *)s.patch;
    job.n = depth >> 2;
    job.groups = padded_channels(p) >> 2;
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_batch;
        int8_t *out_b = output + b * n_pix * out_c;
        for (pix = 0; pix < n_pix; pix += 2) {
            const int two = pix + 1 < n_pix;
            const int32_t pix1 = two ? pix + 1 : pix;
            const int32_t y0 = (pix / out_w) * p->stride_h - p->pad_h, x0 = (pix % out_w) * p->stride_w - p->pad_w;
            const int32_t y1 = (pix1 / out_w) * p->stride_h - p->pad_h;
            const int32_t x1 = (pix1 % out_w) * p->stride_w - p->pad_w;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = o0 + out_c;
            const int inside0 = y0 >= 0 && y0 + span_h < in_h && x0 >= 0 && x0 + span_w < in_w;
            const int inside1 = y1 >= 0 && y1 + span_h < in_h && x1 >= 0 && x1 + span_w < in_w;
            const int8_t *w0 = in_b + (inside0 ? (y0 * in_w + x0) * p->input.c : 0);
            const int8_t *w1 = in_b + (inside1 ? (y1 * in_w + x1) * p->input.c : 0);
            uint32_t *patch = (uint32_t *)(void *)s.patch;
            if (inside0 && inside1) {
                gather_inside(tab, depth >> 2, w0, w1, patch);
            } else {
                if (inside0) {
                    gather_one(tab, depth >> 2, w0, patch);
                } else {
                    stage_window(p, in_b, y0, x0, stage);
                    gather_one(cols, depth >> 2, stage, patch);
                }
                if (inside1) {
                    gather_one(tab, depth >> 2, w1, patch + 1);
                } else {
                    stage_window(p, in_b, y1, x1, stage);
                    gather_one(cols, depth >> 2, stage, patch + 1);
                }
            }
            job.w = (const uint32_t *)weights;
            job.bias = bias;
            job.acc = s.acc;
            mac_pass(&job);
            CG_CONV_STORE_PAIR(p, s.acc, os, 0, out_c, out_c, o0, o1, two, full, s.any_r0, lo, hi);
        }
    }
    return CG_OK;
}
