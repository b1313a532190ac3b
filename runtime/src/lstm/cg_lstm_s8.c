/* codegen runtime: int8 UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int32 bias, int16 cell
 * state and gates), TFLM's reference integer arithmetic (lstm_eval): each gate FC requantizes to int16 Q3.12,
 * the two FCs are added with int16 saturation, sigmoid / tanh are TFLite's int16 look-up interpolations
 * (reference_integer_ops::Logistic / Tanh on the table of prepare_sigmoid.py) giving Q0.15, and the
 * element-wise products requantize with MultiplyByQuantizedMultiplier. */
#include <stddef.h>

#include "cg_nn.h"
#include "cg_nn_support.h"

/* MultiplyByQuantizedMultiplier; the one-multiply form for the usual right shifts of 2 or more */
static int32_t requant(int32_t x, int32_t multiplier, int32_t shift)
{
    return shift <= -2 ? cg_requantize_down(x, multiplier, -shift) : cg_requantize(x, multiplier, shift);
}

static int16_t sat16(int32_t x)
{
    return (int16_t)cg_clamp_i32(x, -32768, 32767);
}

/* reference_integer_ops::Logistic (int16) with input_multiplier 0 and left shift 0: input scaled by 3. */
static int16_t sigmoid_s16(const uint16_t *table, int16_t x)
{
    const int32_t v = (int32_t)x * 3;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 9;
    uint32_t result;
    if (uh >= 255) {
        result = (uint32_t)0x7FFF << 10;
    } else {
        const uint32_t ua = table[uh], ub = table[uh + 1];
        result = (ua << 9) + (a & 0x1FF) * (ub - ua);
    }
    result = v >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1u;
    return (int16_t)(result >> 10);
}

/* reference_integer_ops::Tanh (int16): x * multiplier rounded down by `shift` bits, then the interpolation. */
static int16_t tanh_s16(const uint16_t *table, int16_t x, int32_t multiplier, int32_t shift)
{
    const int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
    const int32_t v = ((int32_t)x * multiplier + round) >> shift;
    const uint32_t a = (uint32_t)(v < 0 ? -v : v);
    const uint32_t uh = a >> 8;
    int32_t result;
    if (uh >= 255) {
        result = 0xFFFF << 8;
    } else {
        const uint32_t ua = table[uh], ub = table[uh + 1];
        result = (int32_t)((ua << 8) + (a & 0xFF) * (ub - ua));
    }
    result = v >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
    return (int16_t)(result >> 8);
}

/* reference_integer_ops::FullyConnected, int8 x int8 -> int16 (output offset 0, full int16 clamp). The input
 * offset times each weight row's sum is folded into `bias` at generation time, which leaves the same int32
 * accumulator as TFLM's sum of w * (x + offset) plus bias. */
static void fc(const int8_t *x, const int8_t *w, const int32_t *bias, int32_t multiplier, int32_t shift,
               int32_t rows, int32_t depth, int32_t units, int16_t *out)
{
    int32_t r, u, d;
    for (r = 0; r < rows; r++) {
        const int8_t *xr = x + (size_t)r * depth;
        for (u = 0; u < units; u++) {
            const int8_t *wu = w + (size_t)u * depth;
            int32_t acc = bias[u];
            for (d = 0; d + 4 <= depth; d += 4) {
                acc += wu[d] * xr[d] + wu[d + 1] * xr[d + 1] + wu[d + 2] * xr[d + 2] + wu[d + 3] * xr[d + 3];
            }
            for (; d < depth; d++) {
                acc += wu[d] * xr[d];
            }
            out[(size_t)r * units + u] = sat16(requant(acc, multiplier, shift));
        }
    }
}

static void gate(const cg_lstm_s8_params *p, int32_t g, int32_t rows, const int8_t *x, const int8_t *h,
                 const int8_t *input_weights, const int8_t *recurrent_weights, const int32_t *bias, int16_t *out,
                 int16_t *tmp)
{
    const int32_t S = p->state_size, I = p->input_size;
    const int32_t n = rows * S;
    int32_t k;
    fc(x, input_weights + (size_t)g * S * I, bias + (size_t)g * S, p->in_multiplier[g], p->in_shift[g], rows, I,
       S, out);
    fc(h, recurrent_weights + (size_t)g * S * S, bias + (size_t)(4 + g) * S, p->rec_multiplier[g], p->rec_shift[g],
       rows, S, S, tmp);
    for (k = 0; k < n; k++) {
        const int16_t v = sat16((int32_t)out[k] + tmp[k]);
        /* Q3.12 in, Q0.15 out */
        out[k] = g == 2 ? tanh_s16(p->sigmoid_table, v, 3, 0) : sigmoid_s16(p->sigmoid_table, v);
    }
}

/* reference_integer_ops::MulElementwise on symmetric int16 inputs */
static int32_t mul(int32_t a, int32_t b, int32_t multiplier, int32_t shift)
{
    return requant(a * b, multiplier, shift);
}

int32_t cg_lstm_s8_get_scratch_size(const cg_lstm_s8_params *p)
{
    return 4 * p->batches * p->state_size * (int32_t)sizeof(int16_t);
}

cg_status cg_lstm_s8(const cg_lstm_s8_params *p, const int8_t *input, const int8_t *input_weights,
                     const int8_t *recurrent_weights, const int32_t *bias, int8_t *hidden_state,
                     int16_t *cell_state, int8_t *output, int16_t *scratch)
{
    const int32_t S = p->state_size, I = p->input_size;
    const int32_t rows = p->time_major ? p->batches : 1;
    const int32_t sequences = p->time_major ? 1 : p->batches;
    const int32_t n = rows * S;
    int16_t *forget = scratch, *in_gate = scratch + (size_t)p->batches * S;
    int16_t *cell_gate = scratch + (size_t)2 * p->batches * S, *tmp = scratch + (size_t)3 * p->batches * S;
    int32_t b, t, k;
    if (scratch == NULL || S <= 0 || I <= 0) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < sequences; b++) {
        int8_t *h = hidden_state + (size_t)b * S;
        int16_t *c = cell_state + (size_t)b * S;
        for (t = 0; t < p->time_steps; t++) {
            const size_t step = (size_t)b * p->time_steps + t; /* batch-major: one row per step */
            const int8_t *x = input + step * rows * I;
            int8_t *out = output + step * rows * S;
            gate(p, 1, rows, x, h, input_weights, recurrent_weights, bias, forget, tmp);
            gate(p, 0, rows, x, h, input_weights, recurrent_weights, bias, in_gate, tmp);
            gate(p, 2, rows, x, h, input_weights, recurrent_weights, bias, cell_gate, tmp);
            for (k = 0; k < n; k++) {
                const int16_t kept = sat16(mul(forget[k], c[k], p->forget_multiplier, p->forget_shift));
                const int16_t added = sat16(mul(in_gate[k], cell_gate[k], p->update_multiplier, p->update_shift));
                int16_t v = sat16((int32_t)kept + added);
                if (p->cell_clip >= 0) {
                    v = (int16_t)cg_clamp_i32(v, -p->cell_clip, p->cell_clip);
                }
                c[k] = v;
            }
            gate(p, 3, rows, x, h, input_weights, recurrent_weights, bias, in_gate, tmp); /* output gate */
            for (k = 0; k < n; k++) {
                const int16_t tc = tanh_s16(p->sigmoid_table, c[k], p->cell_tanh_multiplier, p->cell_tanh_shift);
                const int32_t v = mul(tc, in_gate[k], p->hidden_multiplier, p->hidden_shift) + p->hidden_zero_point;
                h[k] = (int8_t)cg_clamp_i32(v, -128, 127);
                out[k] = h[k];
            }
        }
    }
    return CG_OK;
}
