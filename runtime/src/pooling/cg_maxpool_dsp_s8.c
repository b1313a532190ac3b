/* codegen runtime: int8 max pooling for cores with the Armv7E-M DSP extension (Cortex-M4/M7/M33).
 *
 * Same result as cg_maxpool_s8 (the window clipped to the input, then the activation clamp): four channels per
 * word, the maximum of two words in two instructions (SSUB8 sets a GE flag per byte, SEL picks by them).  A full
 * 2x2 window reads its four words with register offsets, also for its channels beyond the last multiple of 4 (one
 * more word of which only those lanes are stored); other windows loop over the clipped window.  When every
 * window is a full 2x2 one (stride 2, no padding: LeNet, SqueezeNet) the input rows are walked with pointers. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

static inline uint32_t splat(int32_t v)
{
    return (uint32_t)(uint8_t)v * 0x01010101u;
}

/* a full 2x2 window at q (rows `row` bytes apart) into out: four channels per word; the last 1-3 channels as one
 * more word when it lies inside the input (its other lanes, the next pixel's first channels, are read and not
 * written), else bytewise */
static inline void max_2x2(const int8_t *q, int32_t row, int32_t ch, int32_t c4, int8_t *out, int32_t lo, int32_t hi,
                           uint32_t lo4, uint32_t hi4, int clamp, const int8_t *end)
{
    int32_t c;
    for (c = 0; c < c4; c += 4, q += 4) {
        uint32_t m = cg_max_s8x4(cg_read_s8x4(q), cg_read_s8x4(q + ch));
        m = cg_max_s8x4(m, cg_max_s8x4(cg_read_s8x4(q + row), cg_read_s8x4(q + row + ch)));
        if (clamp) {
            m = cg_min_s8x4(cg_max_s8x4(m, lo4), hi4);
        }
        cg_write_s8x4(out + c, m);
    }
    if (c < ch && q + row + ch + 4 <= end) {
        uint32_t m = cg_max_s8x4(cg_read_s8x4(q), cg_read_s8x4(q + ch));
        m = cg_max_s8x4(m, cg_max_s8x4(cg_read_s8x4(q + row), cg_read_s8x4(q + row + ch)));
        if (clamp) {
            m = cg_min_s8x4(cg_max_s8x4(m, lo4), hi4);
        }
        out[c] = (int8_t)m;
        if (ch - c > 1) {
            out[c + 1] = (int8_t)(m >> 8);
        }
        if (ch - c > 2) {
            out[c + 2] = (int8_t)(m >> 16);
        }
        return;
    }
    for (; c < ch; c++, q++) {
        const int32_t m = cg_max_i32(cg_max_i32(q[0], q[ch]), cg_max_i32(q[row], q[row + ch]));
        out[c] = (int8_t)cg_clamp_i32(m, lo, hi);
    }
}

cg_status cg_maxpool_dsp_s8(const cg_pool_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
    const int32_t out_h = p->output.h, out_w = p->output.w;
    const int32_t row = in_w * ch, c4 = ch & ~3;
    const int32_t lo = p->act_min, hi = p->act_max;
    const int clamp = lo > -128 || hi < 127;
    const uint32_t lo4 = splat(lo), hi4 = splat(hi);
    const int8_t *const end = input + p->input.n * in_h * row;
    int32_t b, oy, ox, c, y, x;
    if (p->filter_h == 2 && p->filter_w == 2 && p->stride_h == 2 && p->stride_w == 2 && p->pad_h == 0 &&
        p->pad_w == 0 && 2 * out_h <= in_h && 2 * out_w <= in_w) {
        int8_t *out = output;
        for (b = 0; b < p->input.n; b++) {
            for (oy = 0; oy < out_h; oy++) {
                const int8_t *q = input + (b * in_h + 2 * oy) * row;
                for (ox = 0; ox < out_w; ox++, q += 2 * ch, out += ch) {
                    max_2x2(q, row, ch, c4, out, lo, hi, lo4, hi4, clamp, end);
                }
            }
        }
        return CG_OK;
    }
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_h * row;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = cg_max_i32(0, -y0);
            const int32_t fy1 = cg_min_i32(p->filter_h, in_h - y0);
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = cg_max_i32(0, -x0);
                const int32_t fx1 = cg_min_i32(p->filter_w, in_w - x0);
                const int8_t *win = in_b + (y0 + fy0) * row + (x0 + fx0) * ch;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * ch;
                if (fy1 - fy0 == 2 && fx1 - fx0 == 2) {
                    max_2x2(win, row, ch, c4, out, lo, hi, lo4, hi4, clamp, end);
                    continue;
                }
                for (c = 0; c < c4; c += 4) {
                    uint32_t m = 0x80808080u;
                    const int8_t *r = win + c;
                    for (y = fy0; y < fy1; y++, r += row) {
                        const int8_t *q = r;
                        for (x = fx0; x < fx1; x++, q += ch) {
                            m = cg_max_s8x4(m, cg_read_s8x4(q));
                        }
                    }
                    if (clamp) {
                        m = cg_min_s8x4(cg_max_s8x4(m, lo4), hi4);
                    }
                    cg_write_s8x4(out + c, m);
                }
                for (c = c4; c < ch; c++) {
                    int32_t best = -128;
                    const int8_t *r = win + c;
                    for (y = fy0; y < fy1; y++, r += row) {
                        for (x = 0; x < fx1 - fx0; x++) {
                            best = cg_max_i32(best, r[x * ch]);
                        }
                    }
                    out[c] = (int8_t)cg_clamp_i32(best, lo, hi);
                }
            }
        }
    }
    return CG_OK;
}
