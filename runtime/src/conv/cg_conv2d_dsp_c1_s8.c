/* codegen runtime: int8 2-D convolution with few input channels (first layers: one channel, RGB) for cores with
 * the Armv7E-M DSP extension.  cg_conv2d_dsp_s8's pass and output stage (cg_conv2d_dsp.h), but the taps of the
 * receptive field are packed without per-row padding, so a 5x5 filter on one channel accumulates 28 steps instead
 * of 40 (5 rows padded to 8):
 *
 * - each kernel row (filter.w * input.c = 4a + r values) contributes its first 4a values as a whole words (read
 *   straight from the input and widened with SXTB16), steps (ky a + j) 4 .. +3 for word j;
 * - the r values left of every row follow (value m = ky r + i), zero-padded to a multiple of 4 steps (their
 *   weights are zero): collected as int8 per pixel on the stack (filter.h r at most CG_CONV_ROW_STAGE - 3), then
 *   widened word by word like the rest.
 *
 * The generator packs the weights in this order (cg_conv2d_dsp_s8's 16-bit layout otherwise).  A row is read in
 * place when the window lies inside the input (never past its filter.w * input.c values), else assembled on the
 * stack (rows up to CG_CONV_ROW_STAGE values). */
#define CG_CONV_DSP_S16_PASS
#include "cg_conv2d_dsp.h"

/* steps of the packed patch */
static int32_t c1_depth(const cg_conv2d_s8_params *p)
{
    const int32_t row = p->filter.w * p->input.c;
    return p->filter.h * (row & ~3) + ((p->filter.h * (row & 3) + 3) & ~3);
}

int32_t cg_conv2d_dsp_c1_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * c1_depth(p) * (int32_t)sizeof(int16_t) + 2 * padded_channels(p) * (int32_t)sizeof(int32_t);
}

/* kernel row iy of a window starting at column x0 (dilation_w 1) as filter.w * input.c int8 values: in place when
 * inside the input, `pad_row` (the zero point) above or below it, else assembled in `stage` */
CG_NO_LIBCALLS static const int8_t *row_c1(const cg_conv2d_s8_params *p, const int8_t *input, int32_t iy, int32_t x0,
                                           int8_t *stage, const int8_t *pad_row)
{
    const int32_t in_w = p->input.w, in_c = p->input.c, k_w = p->filter.w;
    const int32_t lo = (x0 < 0 ? -x0 : 0) * in_c;
    const int32_t hi = (x0 + k_w > in_w ? in_w - x0 : k_w) * in_c;
    const int32_t row = k_w * in_c;
    const int8_t *src;
    int32_t j;
    if (iy < 0 || iy >= p->input.h) {
        return pad_row;
    }
    src = input + (iy * in_w + x0) * in_c;
    for (j = 0; j < lo; j++) {
        stage[j] = pad_row[0];
    }
    for (; j < hi; j++) {
        stage[j] = src[j];
    }
    for (; j < row; j++) {
        stage[j] = pad_row[0];
    }
    return stage;
}

/* the whole words of a kernel row of both pixels (s0, s1) into the patch at dst; returns the next dst */
static inline uint32_t *put_words(uint32_t *restrict dst, const int8_t *s0, const int8_t *s1, int32_t words)
{
    const int8_t *const end = s0 + 4 * words;
    for (; s0 != end; s0 += 4, s1 += 4) {
        const uint32_t v0 = cg_read_s8x4(s0);
        const uint32_t v1 = cg_read_s8x4(s1);
        dst[0] = cg_sxtb16(v0);
        dst[1] = cg_sxtb16(v1);
        dst[2] = cg_sxtb16_ror8(v0);
        dst[3] = cg_sxtb16_ror8(v1);
        dst += 4;
    }
    return dst;
}

/* the r (< 4) values left of a row of both pixels, appended at l0[m], l1[m] */
static inline void put_left(int8_t *restrict l0, int8_t *restrict l1, const int8_t *s0, const int8_t *s1, int32_t r)
{
    if (r > 0) {
        l0[0] = s0[0];
        l1[0] = s1[0];
        if (r > 1) {
            l0[1] = s0[1];
            l1[1] = s1[1];
            if (r > 2) {
                l0[2] = s0[2];
                l1[2] = s1[2];
            }
        }
    }
}

/* the receptive fields of output pixels (oy0, ox0) and (oy1, ox1) as pixels 0 and 1 of the packed patch; the
 * values left of the rows are collected in `left` (two rows of CG_CONV_ROW_STAGE int8 values, zero past them) and
 * widened at the end */
static void gather_c1(const cg_conv2d_s8_params *p, const int8_t *input, int32_t oy0, int32_t ox0, int32_t oy1,
                      int32_t ox1, int16_t *restrict patch, const int8_t *pad_row, int8_t *left)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c, k_h = p->filter.h, k_w = p->filter.w;
    const int32_t row = k_w * in_c, words = row >> 2, r = row & 3, dh = p->dilation_h;
    const int32_t y0 = oy0 * p->stride_h - p->pad_h, y1 = oy1 * p->stride_h - p->pad_h;
    const int32_t x0 = ox0 * p->stride_w - p->pad_w, x1 = ox1 * p->stride_w - p->pad_w;
    const int32_t span = (k_h - 1) * dh;
    uint32_t *restrict dst = (uint32_t *)(void *)patch;
    int8_t *l0 = left, *l1 = left + CG_CONV_ROW_STAGE;
    int32_t ky;
    if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w && x1 >= 0 && x1 + k_w <= in_w && y0 >= 0 &&
        y0 + span < in_h && y1 >= 0 && y1 + span < in_h) {
        /* both windows inside the input: rows read in place, one row stride apart */
        const int32_t step = dh * in_w * in_c;
        const int8_t *s0 = input + (y0 * in_w + x0) * in_c, *s1 = input + (y1 * in_w + x1) * in_c;
        for (ky = 0; ky < k_h; ky++) {
            dst = put_words(dst, s0, s1, words);
            put_left(l0, l1, s0 + 4 * words, s1 + 4 * words, r);
            l0 += r;
            l1 += r;
            s0 += step;
            s1 += step;
        }
    } else {
        int8_t stage0[CG_CONV_ROW_STAGE], stage1[CG_CONV_ROW_STAGE];
        for (ky = 0; ky < k_h; ky++) {
            const int32_t dy = ky * dh;
            const int8_t *s0 = p->dilation_w == 1 ? row_c1(p, input, y0 + dy, x0, stage0, pad_row)
                                                  : row_src(p, input, y0 + dy, x0, 0, stage0, pad_row);
            const int8_t *s1 = p->dilation_w == 1 ? row_c1(p, input, y1 + dy, x1, stage1, pad_row)
                                                  : row_src(p, input, y1 + dy, x1, 0, stage1, pad_row);
            dst = put_words(dst, s0, s1, words);
            put_left(l0, l1, s0 + 4 * words, s1 + 4 * words, r);
            l0 += r;
            l1 += r;
        }
    }
    if (r != 0) {
        put_words(dst, left, left + CG_CONV_ROW_STAGE, (k_h * r + 3) >> 2);
    }
}

cg_status cg_conv2d_dsp_c1_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int16_t *filter,
                              const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_w = p->output.w, out_c = p->output.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t in_batch = p->input.h * p->input.w * p->input.c;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int32_t depth = c1_depth(p), row = p->filter.w * p->input.c;
    const int32_t *os = CG_SINGLE_ROUNDING ? 0 : p->out_stage;
    const int full = lo == -128 && hi == 127;
    conv_setup s;
    mac_job job;
    cg_status st;
    int32_t b, pix, t;
    int8_t left[2 * CG_CONV_ROW_STAGE];
    if (((uintptr_t)filter & 3u) != 0 || row_depth(p) > CG_CONV_ROW_STAGE ||
        p->filter.h * (row & 3) > CG_CONV_ROW_STAGE - 3) {
        return CG_ERR_ARG;
    }
    st = conv_prepare(p, bias, scratch, &s);
    if (st != CG_OK) {
        return st;
    }
    s.acc = (int32_t *)(void *)(scratch + 2 * depth * (int32_t)sizeof(int16_t));
    for (t = 0; t < 2 * CG_CONV_ROW_STAGE; t++) {
        left[t] = 0; /* past the values left of the rows: zero, never written again */
    }
    job.a = (const uint32_t *)(const void *)s.patch;
    job.n = depth >> 2;
    job.groups = padded_channels(p) >> 2;
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_batch;
        int8_t *out_b = output + b * n_pix * out_c;
        for (pix = 0; pix < n_pix; pix += 2) {
            const int two = pix + 1 < n_pix;
            const int32_t pix1 = two ? pix + 1 : pix;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = o0 + out_c;
            gather_c1(p, in_b, pix / out_w, pix % out_w, pix1 / out_w, pix1 % out_w, s.patch, s.pad_row, left);
            job.w = (const uint32_t *)(const void *)filter;
            job.bias = bias;
            job.acc = s.acc;
            mac_pass_s16(&job);
            CG_CONV_STORE_PAIR(p, s.acc, os, 0, out_c, out_c, o0, o1, two, full, s.any_r0, lo, hi);
        }
    }
    return CG_OK;
}
