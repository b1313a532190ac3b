/* codegen runtime: int8 depthwise convolution (depth multiplier 1) for cores with the Armv7E-M DSP extension.
 *
 * Same arithmetic as cg_depthwise_conv2d_s8 (TFLite reference), with the input offset folded into the bias by
 * the generator.  Four channels at a time: one word of input (channels c..c+3) is split with SXTB16 into the
 * 16-bit pairs (c, c+2) and (c+1, c+3), and SMLABB / SMLATT multiply-accumulate them with the weights, which the
 * generator stores widened to 16 bits in that order (cg_nn.h).  The four sums stay in registers over all
 * filter taps.  Taps outside the input read a row of input zero points (the scratch buffer), which
 * contributes zero with the folded bias, so the inner loop has no branch. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_DW_MAX_TAPS 64

int32_t cg_depthwise_conv2d_dsp_s8_get_scratch_size(const cg_depthwise_conv2d_s8_params *p)
{
    return (p->output.c + 3) & ~3;
}

/* the last n < 4 channels of a pixel as one word (no read past them) */
static inline uint32_t read_tail(const int8_t *x, int32_t n)
{
    uint32_t v = 0;
    int32_t j;
    for (j = 0; j < n; j++) {
        v |= (uint32_t)(uint8_t)x[j] << (8 * j);
    }
    return v;
}

/* requantize, add the output offset, clamp (parameters in locals: an int8 store may alias any memory) */
static inline int8_t out_s8(int32_t acc, int32_t m, int32_t e, int32_t off, int32_t lo, int32_t hi)
{
    return (int8_t)cg_clamp_i32((e <= 0 ? cg_requantize_right(acc, m, e) : cg_requantize(acc, m, e)) + off, lo, hi);
}

/* The common case in one pass per output: every shift <= 0 (multipliers below 1) and the full int8 range as the
 * clamp (no fused ReLU6 etc.).  Same arithmetic as cg_requantize_right, with the rounding threshold written
 * for the DSP core, then one SSAT for the output offset's clamp to [-128, 127]. */
static inline int8_t out_s8_sat(int32_t acc, int32_t m, int32_t e, int32_t off)
{
#if CG_DSP_INSTRUCTIONS && !CG_SINGLE_ROUNDING
    const int32_t right = -e;
    const int32_t mask = (int32_t)((1u << right) - 1u);
    uint32_t lo = 0x40000000u;
    int32_t hi = 0, v;
    __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(acc), "r"(m));
    v = (int32_t)((lo >> 31) | ((uint32_t)hi << 1));
    v = (v >> right) + ((v & mask) > (mask >> 1) + (int32_t)((uint32_t)v >> 31));
    return (int8_t)__ssat(v + off, 8);
#else
    return (int8_t)cg_clamp_i32(cg_requantize(acc, m, e) + off, -128, 127);
#endif
}

cg_status cg_depthwise_conv2d_dsp_s8(const cg_depthwise_conv2d_s8_params *p, const int8_t *input,
                                     const int16_t *filter, const int32_t *bias, int8_t *output,
                                     int8_t *scratch)
{
    const int32_t in_h = p->input.h, in_w = p->input.w, ch = p->input.c;
    const int32_t k_h = p->filter.h, k_w = p->filter.w, taps = k_h * k_w;
    const int32_t out_h = p->output.h, out_w = p->output.w;
    const int32_t full = ch & ~3;
    const int32_t *const mult = p->multiplier, *const shift = p->shift;
    const int32_t off = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int8_t *tap[CG_DW_MAX_TAPS];
    int32_t b, oy, ox, ky, kx, c, t, j;
    if (p->depth_multiplier != 1 || p->output.c != ch || p->filter.c != ch || bias == 0 || taps > CG_DW_MAX_TAPS ||
        ((uintptr_t)filter & 3u) != 0) {
        return CG_ERR_ARG;
    }
    if (scratch == 0) {
        return CG_ERR_SCRATCH;
    }
    int32_t sat = lo == -128 && hi == 127;
    for (c = 0; c < ((ch + 3) & ~3); c++) {
        scratch[c] = (int8_t)(-p->input_offset);
    }
    for (c = 0; c < ch; c++) {
        sat = sat && shift[c] <= 0;
    }
    for (b = 0; b < p->input.n; b++) {
        const int8_t *in_b = input + b * in_h * in_w * ch;
        int8_t *out = output + b * out_h * out_w * ch;
        for (oy = 0; oy < out_h; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_w; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const uint32_t *w = (const uint32_t *)(const void *)filter;
                t = 0;
                for (ky = 0; ky < k_h; ky++) {
                    const int32_t iy = y0 + ky * p->dilation_h;
                    for (kx = 0; kx < k_w; kx++) {
                        const int32_t ix = x0 + kx * p->dilation_w;
                        tap[t++] = (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) ? scratch
                                                                                  : in_b + (iy * in_w + ix) * ch;
                    }
                }
                for (c = 0; c < full; c += 4) {
                    int32_t a0 = bias[c], a1 = bias[c + 1], a2 = bias[c + 2], a3 = bias[c + 3];
                    const int8_t *const *tp = tap;
                    for (t = taps; t > 0; t--) {
                        const uint32_t x = cg_read_s8x4(*tp++ + c);
                        const uint32_t xl = cg_sxtb16(x), xh = cg_sxtb16_ror8(x);
                        const uint32_t wl = w[0], wh = w[1];
                        a0 = cg_smlabb(xl, wl, a0);
                        a2 = cg_smlatt(xl, wl, a2);
                        a1 = cg_smlabb(xh, wh, a1);
                        a3 = cg_smlatt(xh, wh, a3);
                        w += 2;
                    }
                    if (sat) {
                        out[c] = out_s8_sat(a0, mult[c], shift[c], off);
                        out[c + 1] = out_s8_sat(a1, mult[c + 1], shift[c + 1], off);
                        out[c + 2] = out_s8_sat(a2, mult[c + 2], shift[c + 2], off);
                        out[c + 3] = out_s8_sat(a3, mult[c + 3], shift[c + 3], off);
                    } else {
                        out[c] = out_s8(a0, mult[c], shift[c], off, lo, hi);
                        out[c + 1] = out_s8(a1, mult[c + 1], shift[c + 1], off, lo, hi);
                        out[c + 2] = out_s8(a2, mult[c + 2], shift[c + 2], off, lo, hi);
                        out[c + 3] = out_s8(a3, mult[c + 3], shift[c + 3], off, lo, hi);
                    }
                }
                if (full < ch) {
                    int32_t acc[4];
                    acc[0] = bias[full];
                    acc[1] = bias[full + 1];
                    acc[2] = bias[full + 2];
                    acc[3] = bias[full + 3];
                    for (t = 0; t < taps; t++) {
                        const uint32_t x = read_tail(tap[t] + full, ch - full);
                        const uint32_t xl = cg_sxtb16(x), xh = cg_sxtb16_ror8(x);
                        acc[0] = cg_smlabb(xl, w[0], acc[0]);
                        acc[2] = cg_smlatt(xl, w[0], acc[2]);
                        acc[1] = cg_smlabb(xh, w[1], acc[1]);
                        acc[3] = cg_smlatt(xh, w[1], acc[3]);
                        w += 2;
                    }
                    for (j = 0; full + j < ch; j++) {
                        out[full + j] = out_s8(acc[j], mult[full + j], shift[full + j], off, lo, hi);
                    }
                }
                out += ch;
            }
        }
    }
    return CG_OK;
}
