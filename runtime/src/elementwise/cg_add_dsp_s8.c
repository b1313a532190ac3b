/* codegen runtime: int8 ADD and SUB of two same-shape tensors for cores with the Armv7E-M DSP extension.
 *
 * TFLite's arithmetic (cg_add_s8): each input is rescaled on its own, x -> MultiplyByQuantizedMultiplier(
 * (x + offset) << 20, multiplier, shift), the two are added and the sum is requantized to the output.  An int8
 * input has 256 values, so the generator tabulates both rescalings (doubled, and negated for SUB's second input)
 * in flash: `tables` holds 2 * t1[x + 128] for x in [-128, 127], then 2 * t2.  Per element two byte loads, two
 * table loads, one add, and the output stage: with s2 = 2 * sum (|s2| < 2^30), SMMULR(s2, m) = floor((sum * m +
 * 2^30) / 2^31) is TFLite's rounding doubling high multiply, and its rounding right shift by r plus the output
 * offset is (t - [t < 0] + 2^(r-1) + offset * 2^r) >> r: SMMULR, two adds, one shift, SSAT (11 instructions
 * an element).  The generator takes this kernel for tensors without broadcasting, 1 <= r <= 22.
 *
 * Built with CG_SINGLE_ROUNDING (the tables hold TFLite's default double rounding), the kernel rescales each
 * element from the parameters instead. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

/* requantized doubled sum plus the output offset: h = 2^(r-1) + output_offset * 2^r */
static inline int32_t out_value(int32_t s2, int32_t m, int32_t h, int32_t r)
{
    const int32_t t = cg_smmulr(s2, m);
    return (t + (t >> 31) + h) >> r;
}

#if CG_SINGLE_ROUNDING
static int32_t rescale(int32_t offset, int32_t left_shift, int32_t multiplier, int32_t shift, int32_t v)
{
    return cg_requantize(cg_shl_wrap(offset + v, left_shift), multiplier, shift);
}
#endif

cg_status cg_add_dsp_s8(const cg_add_dsp_s8_params *p, const int8_t *input1, const int8_t *input2,
                        const int32_t *tables, int8_t *output)
{
    const int32_t n = p->base.shape.size;
    const int32_t lo = p->base.act_min, hi = p->base.act_max;
    int32_t i;
    if (tables == 0 || p->base.shape.broadcast) {
        return CG_ERR_ARG;
    }
#if CG_SINGLE_ROUNDING
    {
        const cg_add_s8_params *b = &p->base;
        for (i = 0; i < n; i++) {
            const int32_t r1 = rescale(b->input1_offset, b->left_shift, b->input1_multiplier, b->input1_shift,
                                       input1[i]);
            const int32_t r2 = rescale(b->input2_offset, b->left_shift, b->input2_multiplier, b->input2_shift,
                                       input2[i]);
            const int32_t v = cg_requantize(r1 + (b->subtract ? -r2 : r2), b->output_multiplier, b->output_shift);
            output[i] = (int8_t)cg_clamp_i32(v + b->output_offset, lo, hi);
        }
        return CG_OK;
    }
#else
    {
        const int32_t *const t1 = tables + 128, *const t2 = tables + 384;
        const int32_t m = p->base.output_multiplier, h = p->h, r = p->r;
        if (lo == -128 && hi == 127) {
            for (i = 0; i + 4 <= n; i += 4) { /* four elements read, then written (in place is allowed) */
                const int32_t v0 = cg_sat_s8(out_value(t1[input1[i]] + t2[input2[i]], m, h, r));
                const int32_t v1 = cg_sat_s8(out_value(t1[input1[i + 1]] + t2[input2[i + 1]], m, h, r));
                const int32_t v2 = cg_sat_s8(out_value(t1[input1[i + 2]] + t2[input2[i + 2]], m, h, r));
                const int32_t v3 = cg_sat_s8(out_value(t1[input1[i + 3]] + t2[input2[i + 3]], m, h, r));
                output[i] = (int8_t)v0;
                output[i + 1] = (int8_t)v1;
                output[i + 2] = (int8_t)v2;
                output[i + 3] = (int8_t)v3;
            }
            for (; i < n; i++) {
                output[i] = (int8_t)cg_sat_s8(out_value(t1[input1[i]] + t2[input2[i]], m, h, r));
            }
        } else {
            for (i = 0; i < n; i++) {
                output[i] = (int8_t)cg_clamp_i32(out_value(t1[input1[i]] + t2[input2[i]], m, h, r), lo, hi);
            }
        }
        return CG_OK;
    }
#endif
}
