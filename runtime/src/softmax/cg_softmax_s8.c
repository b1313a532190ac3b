/* codegen runtime: int8 softmax with TFLite's fixed-point arithmetic (exp in Q5.26 differences,
 * sums in Q12.19, reciprocal by Newton-Raphson); output scale 1/256, zero point -128. */
#include "cg_nn.h"
#include "cg_nn_support.h"

#define CG_SOFTMAX_DIFF_INTEGER_BITS 5
#define CG_SOFTMAX_ACCUM_INTEGER_BITS 12

cg_status cg_softmax_s8(const cg_softmax_s8_params *p, const int8_t *input, int8_t *output)
{
    int32_t r, c;
    for (r = 0; r < p->rows; r++) {
        const int8_t *x = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t max_in_row = -128;
        int32_t sum_of_exps = 0;
        int32_t scale;
        int num_bits_over_unit;
        for (c = 0; c < p->depth; c++) {
            max_in_row = cg_max_i32(max_in_row, x[c]);
        }
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = x[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = cg_sat_rounding_doubling_high_mul(
                    cg_shl_wrap(diff, p->input_left_shift), p->input_multiplier);
                sum_of_exps += cg_rounding_divide_by_pot(
                    cg_fx_exp_on_negative_values(scaled, CG_SOFTMAX_DIFF_INTEGER_BITS),
                    CG_SOFTMAX_ACCUM_INTEGER_BITS);
            }
        }
        scale = cg_fx_reciprocal(sum_of_exps, CG_SOFTMAX_ACCUM_INTEGER_BITS, &num_bits_over_unit);
        for (c = 0; c < p->depth; c++) {
            const int32_t diff = x[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = cg_sat_rounding_doubling_high_mul(
                    cg_shl_wrap(diff, p->input_left_shift), p->input_multiplier);
                const int32_t e = cg_fx_exp_on_negative_values(scaled, CG_SOFTMAX_DIFF_INTEGER_BITS);
                const int32_t unsat = cg_rounding_divide_by_pot(cg_sat_rounding_doubling_high_mul(scale, e),
                                                                num_bits_over_unit + 31 - 8);
                out[c] = (int8_t)cg_clamp_i32(unsat - 128, -128, 127);
            } else {
                out[c] = -128;
            }
        }
    }
    return CG_OK;
}
