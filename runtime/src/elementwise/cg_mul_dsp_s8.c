/* codegen runtime: int8 MUL of two same-shape tensors for cores with the Armv7E-M DSP extension.
 *
 * TFLite's arithmetic (cg_mul_s8): MultiplyByQuantizedMultiplier((x1 + offset1) * (x2 + offset2), m, shift) plus
 * the output offset, clamped.  The product p is below 2^16 in magnitude, so SMMULR(2 * p, m) = floor((p * m +
 * 2^30) / 2^31) is TFLite's rounding doubling high multiply, and its rounding right shift by r = -shift plus the
 * output offset is (t - [t < 0] + 2^(r-1) + offset * 2^r) >> r (cg_add_dsp_s8's output stage).  The generator
 * takes this kernel for tensors without broadcasting and 1 <= r <= 22.  Built with CG_SINGLE_ROUNDING, the kernel
 * requantizes with cg_requantize instead. */
#include "cg_dsp.h"
#include "cg_nn.h"
#include "cg_nn_support.h"

static inline int32_t out_value(const cg_mul_dsp_s8_params *p, int32_t a, int32_t b)
{
#if CG_SINGLE_ROUNDING
    const cg_mul_s8_params *q = &p->base;
    return cg_requantize((q->input1_offset + a) * (q->input2_offset + b), q->output_multiplier, q->output_shift) +
           q->output_offset;
#else
    const int32_t t = cg_smmulr(2 * (p->base.input1_offset + a) * (p->base.input2_offset + b),
                                p->base.output_multiplier);
    return (t + (t >> 31) + p->h) >> p->r;
#endif
}

cg_status cg_mul_dsp_s8(const cg_mul_dsp_s8_params *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t n = p->base.shape.size;
    const int32_t lo = p->base.act_min, hi = p->base.act_max;
    cg_mul_dsp_s8_params q = *p; /* in locals: an int8 store may alias the parameters */
    int32_t i;
    if (p->base.shape.broadcast) {
        return CG_ERR_ARG;
    }
    if (lo == -128 && hi == 127) {
        for (i = 0; i < n; i++) {
            output[i] = (int8_t)cg_sat_s8(out_value(&q, input1[i], input2[i]));
        }
    } else {
        for (i = 0; i < n; i++) {
            output[i] = (int8_t)cg_clamp_i32(out_value(&q, input1[i], input2[i]), lo, hi);
        }
    }
    return CG_OK;
}
