/* codegen runtime: int8 2-D convolution (per-channel requantization, TFLite arithmetic), portable C.
 *
 * Two output pixels at a time: their receptive fields are gathered as int8 into the scratch buffer, in
 * blocks of 4 values per pixel (patch[8 * b + 4 * lane + i] holds value 4 * b + i of pixel `lane`), padded
 * taps holding the input zero point, which contributes nothing since the generator folded
 * input_offset * sum(w) into the bias.  The output channels then go four at a time: the generator stores the
 * weights in groups of 4 channels, per k the group's 4 weights (lower/packing.py interleave_rows; leftover
 * channels follow row by row), so each loaded input value feeds 4 multiply-accumulates and each weight 2, the
 * 8 sums staying in registers. */
#include <string.h>

#include "cg_conv2d_s8_impl.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

int32_t cg_conv2d_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * ((p->filter.h * p->filter.w * p->input.c + 3) & ~3);
}

/* Patch position of value k: block k / 4, the lane's 4 bytes of it, value k % 4. */
static int8_t *at(int8_t *lane, int32_t k)
{
    return lane + 8 * (k >> 2) + (k & 3);
}

/* The head and tail copies below move at most 3 values, written out (GCC turns such loops into memmove calls). */

/* dst[0 .. n - 1] = src[0 .. n - 1], 0 <= n <= 3 */
static void copy_few(int8_t *restrict dst, const int8_t *restrict src, int32_t n)
{
    if (n > 0) {
        dst[0] = src[0];
        if (n > 1) {
            dst[1] = src[1];
            if (n > 2) {
                dst[2] = src[2];
            }
        }
    }
}

/* dst[0 .. n - 1] = value, 0 <= n <= 3 */
static void fill_few(int8_t *restrict dst, int8_t value, int32_t n)
{
    if (n > 0) {
        dst[0] = value;
        if (n > 1) {
            dst[1] = value;
            if (n > 2) {
                dst[2] = value;
            }
        }
    }
}

/* Values k .. k + n - 1 of one pixel's patch (lane = patch + 4 * lane index) from src: the values up to the next
 * block, then whole blocks of 4 (one word where unaligned words are allowed), then the rest. */
static void copy_one(int8_t *restrict lane, int32_t k, const int8_t *restrict src, int32_t n)
{
    int8_t *dst = at(lane, k);
    if ((k & 3) != 0) {
        int32_t head = 4 - (k & 3);
        head = head < n ? head : n;
        copy_few(dst, src, head);
        n -= head;
        src += head;
        dst += head + 4; /* the next block's lane (only used if n > 0, i.e. the head reached the block's end) */
    }
    for (; n >= 4; n -= 4) {
        memcpy(dst, src, 4);
        src += 4;
        dst += 8;
    }
    copy_few(dst, src, n);
}

/* Values k .. k + n - 1 of one pixel's patch all `value` (taps outside the input). */
static void fill_one(int8_t *restrict lane, int32_t k, int8_t value, int32_t n)
{
    int8_t *dst = at(lane, k);
    if ((k & 3) != 0) {
        int32_t head = 4 - (k & 3);
        head = head < n ? head : n;
        fill_few(dst, value, head);
        n -= head;
        dst += head + 4;
    }
    if (n >= 4) {
        const uint32_t fill = 0x01010101u * (uint8_t)value;
        for (; n >= 4; n -= 4) {
            memcpy(dst, &fill, 4);
            dst += 8;
        }
    }
    fill_few(dst, value, n);
}

/* On cores without unaligned word access (RISC-V, Xtensa), memcpy(d, s, 4) is 4 byte loads and stores unless the
 * compiler knows both are word aligned: rows of a multiple of 4 channels usually are. */
#if defined(__GNUC__) && !defined(__ARM_FEATURE_UNALIGNED)
#define CG_WORD_ROWS 1
#define CG_ALIGNED(ptr) __builtin_assume_aligned((ptr), 4)
#else
#define CG_WORD_ROWS 0
#endif

/* Values k .. k + n - 1 of both pixels' patches from a (pixel 0) and b (pixel 1); `words`: a, b and the block
 * after the head are word aligned. */
static void copy_two(int8_t *restrict patch, int32_t k, const int8_t *a, const int8_t *b, int32_t n, int words)
{
    int8_t *dst = at(patch, k);
    if ((k & 3) != 0) {
        int32_t head = 4 - (k & 3);
        head = head < n ? head : n;
        copy_few(dst, a, head);
        copy_few(dst + 4, b, head);
        n -= head;
        a += head;
        b += head;
        dst += head + 4;
    }
#if CG_WORD_ROWS
    if (words) {
        for (; n >= 4; n -= 4) {
            memcpy(CG_ALIGNED(dst), CG_ALIGNED(a), 4);
            memcpy(CG_ALIGNED(dst + 4), CG_ALIGNED(b), 4);
            a += 4;
            b += 4;
            dst += 8;
        }
    }
#else
    (void)words;
#endif
    for (; n >= 4; n -= 4) {
        memcpy(dst, a, 4);
        memcpy(dst + 4, b, 4);
        a += 4;
        b += 4;
        dst += 8;
    }
    copy_few(dst, a, n);
    copy_few(dst + 4, b, n);
}

/* Writes the receptive field of the pixel whose window starts at input position (y0, x0) into one lane of the
 * patch, taps outside the input holding the zero point. */
static void gather_one(const cg_conv2d_s8_params *p, const int8_t *input, int32_t y0, int32_t x0, int8_t *lane)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w, row = k_w * in_c;
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t ky, kx, k = 0;
    for (ky = 0; ky < k_h; ky++, k += row) {
        const int32_t iy = y0 + ky * p->dilation_h;
        if ((uint32_t)iy >= (uint32_t)in_h) {
            fill_one(lane, k, zero_point, row);
        } else if (p->dilation_w == 1 && x0 >= 0 && x0 + k_w <= in_w) {
            copy_one(lane, k, input + (iy * in_w + x0) * in_c, row);
        } else {
            for (kx = 0; kx < k_w; kx++) {
                const int32_t ix = x0 + kx * p->dilation_w;
                if ((uint32_t)ix < (uint32_t)in_w) {
                    copy_one(lane, k + kx * in_c, input + (iy * in_w + ix) * in_c, in_c);
                } else {
                    fill_one(lane, k + kx * in_c, zero_point, in_c);
                }
            }
        }
    }
}

/* Both pixels' windows inside the input, starting at a and b: their receptive fields into the patch. */
static void gather_two(const cg_conv2d_s8_params *p, const int8_t *a, const int8_t *b, int8_t *patch)
{
    const int32_t in_c = p->input.c, k_h = p->filter.h, k_w = p->filter.w, row = k_w * in_c;
    const int32_t step_y = p->dilation_h * p->input.w * in_c, step_x = p->dilation_w * in_c;
    int32_t ky, kx, k = 0;
    if (p->dilation_w == 1) {
        /* every row starts a block and stays word aligned in the input */
        const int words =
            ((uintptr_t)a | (uintptr_t)b | (uintptr_t)patch | (uint32_t)row | (uint32_t)step_y) % 4 == 0;
        for (ky = 0; ky < k_h; ky++, k += row, a += step_y, b += step_y) {
            copy_two(patch, k, a, b, row, words);
        }
    } else {
        const int words = ((uintptr_t)a | (uintptr_t)b | (uintptr_t)patch | (uint32_t)in_c | (uint32_t)step_y |
                           (uint32_t)step_x) % 4 == 0;
        for (ky = 0; ky < k_h; ky++, k += row, a += step_y, b += step_y) {
            for (kx = 0; kx < k_w; kx++) {
                copy_two(patch, k + kx * in_c, a + kx * step_x, b + kx * step_x, in_c, words);
            }
        }
    }
}

/* (CG_STEP_FENCE, CG_MAC2X4, dot_2x4 and dot_2x1: cg_conv2d_s8_impl.h) */

/* step i of the current block: the two pixels' values times the two channels' weights */
#define CG_MAC2X2(i)                                                                                   \
    do {                                                                                               \
        const int32_t x0_ = a[i], x1_ = a[4 + (i)], w0_ = w[i], w1_ = v[i];                            \
        s00 += x0_ * w0_;                                                                              \
        s10 += x1_ * w0_;                                                                              \
        s01 += x0_ * w1_;                                                                              \
        s11 += x1_ * w1_;                                                                              \
    } while (0)

/* s[0], s[1] (pixel 0) and s[2], s[3] (pixel 1) = bias + the dot products of the patch with two channels' k
 * weights each (w and w + k: two channels left over after the groups of 4), in the patch's blocks of 4 */
static void dot_2x2(const int8_t *restrict a, const int8_t *restrict w, int32_t k, const int32_t *bias,
                    int32_t *restrict s)
{
    const int8_t *restrict v = w + k;
    int32_t s00 = bias[0], s01 = bias[1], s10 = s00, s11 = s01, i;
    const int8_t *end = a + 2 * (k & ~3);
    while (a != end) {
        CG_MAC2X2(0);
        CG_STEP_FENCE();
        CG_MAC2X2(1);
        CG_STEP_FENCE();
        CG_MAC2X2(2);
        CG_STEP_FENCE();
        CG_MAC2X2(3);
        CG_STEP_FENCE();
        a += 8;
        w += 4;
        v += 4;
    }
    for (i = 0; i < (k & 3); i++) {
        const int32_t x0 = a[i], x1 = a[4 + i], w0 = w[i], w1 = v[i];
        s00 += x0 * w0;
        s10 += x1 * w0;
        s01 += x0 * w1;
        s11 += x1 * w1;
    }
    s[0] = s00;
    s[1] = s01;
    s[2] = s10;
    s[3] = s11;
}

/* (store and all_down: cg_conv2d_s8_impl.h) */

cg_status cg_conv2d_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int8_t *filter,
                       const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_w = p->output.w, out_c = p->output.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t k = p->filter.h * p->filter.w * in_c;
    const int32_t span_h = (p->filter.h - 1) * p->dilation_h, span_w = (p->filter.w - 1) * p->dilation_w;
    const int32_t grouped = out_c - out_c % CG_CONV_GROUP;
    const int32_t in_batch = in_h * in_w * in_c;
    int32_t b, pix, oc;
    int down;
    if (p->filter.c != p->input.c || p->filter.n != out_c || bias == 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    down = all_down(p->shift, out_c);
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_batch;
        int8_t *out_b = output + b * n_pix * out_c;
        for (pix = 0; pix < n_pix; pix += 2) {
            /* an odd last pixel fills both lanes, and both write its output */
            const int two = pix + 1 < n_pix;
            const int32_t pix1 = two ? pix + 1 : pix;
            const int32_t y0 = (pix / out_w) * p->stride_h - p->pad_h, x0 = (pix % out_w) * p->stride_w - p->pad_w;
            const int32_t y1 = (pix1 / out_w) * p->stride_h - p->pad_h;
            const int32_t x1 = (pix1 % out_w) * p->stride_w - p->pad_w;
            const int inside0 = y0 >= 0 && y0 + span_h < in_h && x0 >= 0 && x0 + span_w < in_w;
            const int inside1 = y1 >= 0 && y1 + span_h < in_h && x1 >= 0 && x1 + span_w < in_w;
            int8_t *o0 = out_b + pix * out_c;
            int8_t *o1 = two ? o0 + out_c : o0;
            const int8_t *w = filter;
            if (inside0 && inside1) {
                gather_two(p, in_b + (y0 * in_w + x0) * in_c, in_b + (y1 * in_w + x1) * in_c, scratch);
            } else {
                gather_one(p, in_b, y0, x0, scratch);
                gather_one(p, in_b, y1, x1, scratch + 4);
            }
            for (oc = 0; oc < grouped; oc += CG_CONV_GROUP) {
                int32_t s[2 * CG_CONV_GROUP];
                dot_2x4(scratch, w, k, bias + oc, s);
                w += CG_CONV_GROUP * k;
                store(p, s, oc, CG_CONV_GROUP, o0, o1, down);
            }
            if (out_c - oc >= 2) {
                int32_t s[4];
                dot_2x2(scratch, w, k, bias + oc, s);
                w += 2 * k;
                store(p, s, oc, 2, o0, o1, down);
                oc += 2;
            }
            for (; oc < out_c; oc++) {
                int32_t s[2];
                dot_2x1(scratch, w, k, bias[oc], s);
                w += k;
                store(p, s, oc, 1, o0, o1, down);
            }
        }
    }
    return CG_OK;
}
