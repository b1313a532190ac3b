/* codegen runtime: int8 2-D convolution for weights whose im2col columns are zero in every output channel
 * ("column-sparse", e.g. layer-wide 2:4: in each group of 4 steps (ky, kx, c) the same at most two positions kept
 * by all filters), portable C.  cg_conv2d_s8's loop (two output pixels, their patches in alternating blocks of 4
 * values, output channels four at a time with 8 sums in registers) on the D kept columns only: both the gather
 * and the multiply loop shrink from filter.h * filter.w * input.c steps to D.
 *
 * `filter` (int32 words, lower/columns_s8.py):
 * - word 0: D, 1 <= D <= filter.h * filter.w * input.c;
 * - (D + 1) / 2 words of uint16 input offsets, per kept column (ky, kx, c) in im2col order
 *   (ky dilation_h input.w + kx dilation_w) input.c + c from the window's first byte;
 * - (D + 1) / 2 words of uint16 reaches, per kept column dy | dx << 8 with dy = ky dilation_h, dx = kx
 *   dilation_w: a window crossing the border reads column j only where its row y0 + dy and column x0 + dx lie
 *   inside the input, the input zero point elsewhere (zero contribution: the generator folded input_offset * sum(w)
 *   into the bias, as for cg_conv2d_s8);
 * - the compact [output.c, D] int8 weights in cg_conv2d_s8's order (groups of 4 channels, per step the group's 4
 *   weights; the channels left over row by row).
 * The kernel checks the tables against the layer once per call (each offset is its reach's row and column plus a
 * channel below input.c, each reach inside the filter's span): it never reads outside the input whatever the
 * stream. */
#include "cg_conv2d_s8_impl.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

/* cg_conv2d_s8's: the patches of the densest stream (every column kept); the kernel uses 2 D rounded up to 8 */
int32_t cg_conv2d_cols_s8_get_scratch_size(const cg_conv2d_s8_params *p)
{
    return 2 * ((p->filter.h * p->filter.w * p->input.c + 3) & ~3);
}

/* both windows inside the input: column j of pixels a and b at patch[8 (j / 4) + (j % 4)] and 4 bytes further */
static void gather_two(const uint16_t *restrict off, int32_t d, const int8_t *a, const int8_t *b,
                       int8_t *restrict dst)
{
    const uint16_t *const end = off + (d & ~3);
    int32_t i;
    while (off != end) {
        const uint32_t o0 = off[0], o1 = off[1], o2 = off[2], o3 = off[3];
        dst[0] = a[o0];
        dst[1] = a[o1];
        dst[2] = a[o2];
        dst[3] = a[o3];
        dst[4] = b[o0];
        dst[5] = b[o1];
        dst[6] = b[o2];
        dst[7] = b[o3];
        off += 4;
        dst += 8;
    }
    for (i = 0; i < (d & 3); i++) {
        const uint32_t o = off[i];
        dst[i] = a[o];
        dst[4 + i] = b[o];
    }
}

/* one pixel whose window lies inside the input into one lane (lane = patch + 4 * lane index) */
static void gather_one(const uint16_t *restrict off, int32_t d, const int8_t *src, int8_t *restrict lane)
{
    int32_t j;
    for (j = 0; j < d; j++) {
        lane[8 * (j >> 2) + (j & 3)] = src[off[j]];
    }
}

/* one pixel whose window at input position (y0, x0) crosses the border: taps outside the input hold the zero
 * point */
static void gather_border(const cg_conv2d_s8_params *p, const uint16_t *restrict off, const uint16_t *restrict reach,
                          int32_t d, const int8_t *input, int32_t y0, int32_t x0, int8_t *restrict lane)
{
    const int32_t in_h = p->input.h, in_w = p->input.w;
    const int32_t base = (y0 * in_w + x0) * p->input.c; /* may be negative: only inside taps are read */
    const int8_t zero_point = (int8_t)(-p->input_offset);
    int32_t j;
    for (j = 0; j < d; j++) {
        const uint32_t r = reach[j];
        const int32_t iy = y0 + (int32_t)(r & 0xffu), ix = x0 + (int32_t)(r >> 8);
        const int inside = (uint32_t)iy < (uint32_t)in_h && (uint32_t)ix < (uint32_t)in_w;
        lane[8 * (j >> 2) + (j & 3)] = inside ? input[base + (int32_t)off[j]] : zero_point;
    }
}

/* the multiply loops and the output stage: cg_conv2d_s8's (cg_conv2d_s8_impl.h) */

/* every offset is its reach's row and column plus a channel of the input, every reach inside the filter's span */
static int tables_fit(const cg_conv2d_s8_params *p, const uint16_t *off, const uint16_t *reach, int32_t d)
{
    const int32_t span_h = (p->filter.h - 1) * p->dilation_h, span_w = (p->filter.w - 1) * p->dilation_w;
    int32_t j;
    for (j = 0; j < d; j++) {
        const int32_t dy = reach[j] & 0xff, dx = reach[j] >> 8;
        const int32_t c = (int32_t)off[j] - (dy * p->input.w + dx) * p->input.c;
        if (dy > span_h || dx > span_w || c < 0 || c >= p->input.c) {
            return 0;
        }
    }
    return 1;
}

cg_status cg_conv2d_cols_s8(const cg_conv2d_s8_params *p, const int8_t *input, const int32_t *filter,
                            const int32_t *bias, int8_t *output, int8_t *scratch)
{
    const int32_t out_w = p->output.w, out_c = p->output.c;
    const int32_t n_pix = p->output.h * out_w;
    const int32_t in_h = p->input.h, in_w = p->input.w, in_c = p->input.c;
    const int32_t in_batch = in_h * in_w * in_c;
    const int32_t span_h = (p->filter.h - 1) * p->dilation_h, span_w = (p->filter.w - 1) * p->dilation_w;
    const int32_t grouped = out_c - out_c % CG_CONV_GROUP;
    int32_t d, half, b, pix, oc;
    int down;
    const uint16_t *off, *reach;
    const int8_t *weights;
    if (filter == 0 || ((uintptr_t)filter & 3u) != 0 || bias == 0 || p->filter.c != in_c || p->filter.n != out_c ||
        p->dilation_h < 1 || p->dilation_w < 1 || span_h > 255 || span_w > 255) {
        return CG_ERR_ARG;
    }
    d = filter[0];
    if (d < 1 || d > p->filter.h * p->filter.w * in_c) {
        return CG_ERR_ARG;
    }
    half = (d + 1) >> 1;
    off = (const uint16_t *)(const void *)(filter + 1);
    reach = off + 2 * half;
    weights = (const int8_t *)(const void *)(filter + 1 + 2 * half);
    if (!tables_fit(p, off, reach, d)) {
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
            const int8_t *w = weights;
            if (inside0 && inside1) {
                gather_two(off, d, in_b + (y0 * in_w + x0) * in_c, in_b + (y1 * in_w + x1) * in_c, scratch);
            } else {
                if (inside0) {
                    gather_one(off, d, in_b + (y0 * in_w + x0) * in_c, scratch);
                } else {
                    gather_border(p, off, reach, d, in_b, y0, x0, scratch);
                }
                if (inside1) {
                    gather_one(off, d, in_b + (y1 * in_w + x1) * in_c, scratch + 4);
                } else {
                    gather_border(p, off, reach, d, in_b, y1, x1, scratch + 4);
                }
            }
            for (oc = 0; oc < grouped; oc += CG_CONV_GROUP) {
                int32_t s[2 * CG_CONV_GROUP];
                dot_2x4(scratch, w, d, bias + oc, s);
                w += CG_CONV_GROUP * d;
                store(p, s, oc, CG_CONV_GROUP, o0, o1, down);
            }
            for (; oc < out_c; oc++) {
                int32_t s[2];
                dot_2x1(scratch, w, d, bias[oc], s);
                w += d;
                store(p, s, oc, 1, o0, o1, down);
            }
        }
    }
    return CG_OK;
}
