/* codegen runtime: int8 average pooling for cores with the Armv7E-M DSP extension (Cortex-M4/M7/M33).
 *
 * Same result as cg_avgpool_s8 (the window clipped to the input, the sum divided with rounding half away from
 * zero, then the activation clamp): four channels per word, summed with two SXTAB16 into 16-bit halves (channels
 * 0 and 2, 1 and 3); at most 255 values of |x| <= 128 per half, so the halves are moved into 32-bit sums every
 * 255 taps.  Channels beyond the last multiple of 4 are done bytewise. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_AVG_SPILL 255

static inline int32_t lo16(uint32_t v)
{
    return (int32_t)(int16_t)(v & 0xFFFFu);
}

static inline int32_t hi16(uint32_t v)
{
    return (int32_t)(int16_t)(v >> 16);
}

static inline int8_t average(int32_t acc, int32_t count, int32_t lo, int32_t hi)
{
    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
    return (int8_t)cg_clamp_i32(acc, lo, hi);
}

cg_status cg_avgpool_dsp_s8(const cg_pool_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
    const int32_t out_h = p->output.h, out_w = p->output.w;
    const int32_t row = in_w * ch, c4 = ch & ~3;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t b, oy, ox, c, y, x;
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
                const int32_t nx = fx1 - fx0, count = (fy1 - fy0) * nx;
                const int8_t *win = in_b + (y0 + fy0) * row + (x0 + fx0) * ch;
                int8_t *out = output + ((b * out_h + oy) * out_w + ox) * ch;
                if (count <= 0) {
                    return CG_ERR_SHAPE;
                }
                for (c = 0; c < c4; c += 4) {
                    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    uint32_t even = 0, odd = 0; /* (c, c+2) and (c+1, c+3) in 16-bit halves */
                    int32_t taps = 0;
                    const int8_t *r = win + c;
                    for (y = fy0; y < fy1; y++, r += row) {
                        const int8_t *q = r;
                        for (x = 0; x < nx; x++, q += ch) {
                            const uint32_t v = cg_read_s8x4(q);
                            even = cg_sxtab16(even, v);
                            odd = cg_sxtab16_ror8(odd, v);
                        }
                        taps += nx;
                        if (taps > CG_AVG_SPILL - nx) { /* the next row could exceed 255 values per half */
                            s0 += lo16(even);
                            s2 += hi16(even);
                            s1 += lo16(odd);
                            s3 += hi16(odd);
                            even = odd = 0;
                            taps = 0;
                        }
                    }
                    s0 += lo16(even);
                    s2 += hi16(even);
                    s1 += lo16(odd);
                    s3 += hi16(odd);
                    out[c] = average(s0, count, lo, hi);
                    out[c + 1] = average(s1, count, lo, hi);
                    out[c + 2] = average(s2, count, lo, hi);
                    out[c + 3] = average(s3, count, lo, hi);
                }
                for (c = c4; c < ch; c++) {
                    int32_t acc = 0;
                    const int8_t *r = win + c;
                    for (y = fy0; y < fy1; y++, r += row) {
                        for (x = 0; x < nx; x++) {
                            acc += r[x * ch];
                        }
                    }
                    out[c] = average(acc, count, lo, hi);
                }
            }
        }
    }
    return CG_OK;
}
