/* codegen runtime: float32 UNIDIRECTIONAL_SEQUENCE_LSTM, TFLM's reference arithmetic (lstm_eval): each gate is
 * two fully connected layers (sum in input order, then the bias) added element-wise, then TFLite's logistic
 * (cut-offs at -9 and 16.62) or tanhf; every product and FC result passes TFLM's +-FLT_MAX clamp. */
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "cg_nn.h"

static float clamp_max(float x)
{
    /* ActivationFunctionWithMinMax(x, lowest, max) with the operand order of std::max / std::min */
    const float lo = x < -FLT_MAX ? -FLT_MAX : x;
    return FLT_MAX < lo ? FLT_MAX : lo;
}

static float sigmoid(float x)
{
    if (x > 16.619047164916992188f) {
        return 1.0f;
    }
    if (x < -9.0f) {
        return expf(x);
    }
    return 1.0f / (1.0f + expf(-x));
}

/* out[r][u] = clamp(sum_d x[r][d] * w[u][d] + bias[u]) */
static void fc(const float *x, const float *w, const float *bias, int32_t rows, int32_t depth, int32_t units,
               float *out)
{
    int32_t r, u, d;
    for (r = 0; r < rows; r++) {
        for (u = 0; u < units; u++) {
            float total = 0.0f;
            const float *wu = w + (size_t)u * depth;
            for (d = 0; d < depth; d++) {
                total += x[(size_t)r * depth + d] * wu[d];
            }
            out[(size_t)r * units + u] = clamp_max(total + (bias != NULL ? bias[u] : 0.0f));
        }
    }
}

static void gate(const cg_lstm_f32_params *p, int32_t g, int32_t rows, const float *x, const float *h,
                 const float *input_weights, const float *recurrent_weights, const float *bias, float *out,
                 float *tmp)
{
    const int32_t S = p->state_size, I = p->input_size;
    const int32_t n = rows * S;
    int32_t k;
    fc(x, input_weights + (size_t)g * S * I, bias + (size_t)g * S, rows, I, S, out);
    fc(h, recurrent_weights + (size_t)g * S * S, NULL, rows, S, S, tmp);
    for (k = 0; k < n; k++) {
        const float v = out[k] + tmp[k];
        out[k] = g == 2 ? tanhf(v) : sigmoid(v);
    }
}

int32_t cg_lstm_f32_get_scratch_size(const cg_lstm_f32_params *p)
{
    return 4 * p->batches * p->state_size * (int32_t)sizeof(float);
}

cg_status cg_lstm_f32(const cg_lstm_f32_params *p, const float *input, const float *input_weights,
                      const float *recurrent_weights, const float *bias, float *hidden_state, float *cell_state,
                      float *output, float *scratch)
{
    const int32_t S = p->state_size, I = p->input_size;
    const int32_t rows = p->time_major ? p->batches : 1;
    const int32_t sequences = p->time_major ? 1 : p->batches;
    const int32_t n = rows * S;
    float *forget = scratch, *in_gate = scratch + (size_t)p->batches * S;
    float *cell_gate = scratch + (size_t)2 * p->batches * S, *tmp = scratch + (size_t)3 * p->batches * S;
    int32_t b, t, k;
    if (scratch == NULL || S <= 0 || I <= 0) {
        return CG_ERR_ARG;
    }
    for (b = 0; b < sequences; b++) {
        float *h = hidden_state + (size_t)b * S;
        float *c = cell_state + (size_t)b * S;
        for (t = 0; t < p->time_steps; t++) {
            const size_t step = (size_t)b * p->time_steps + t; /* batch-major: one row per step */
            const float *x = input + step * rows * I;
            float *out = output + step * rows * S;
            gate(p, 1, rows, x, h, input_weights, recurrent_weights, bias, forget, tmp);
            gate(p, 0, rows, x, h, input_weights, recurrent_weights, bias, in_gate, tmp);
            gate(p, 2, rows, x, h, input_weights, recurrent_weights, bias, cell_gate, tmp);
            for (k = 0; k < n; k++) {
                float v = clamp_max(forget[k] * c[k]) + clamp_max(in_gate[k] * cell_gate[k]);
                if (p->cell_clip > 0.0f) {
                    v = v < p->cell_clip ? v : p->cell_clip;
                    v = v < -p->cell_clip ? -p->cell_clip : v;
                }
                c[k] = v;
            }
            gate(p, 3, rows, x, h, input_weights, recurrent_weights, bias, in_gate, tmp); /* output gate */
            for (k = 0; k < n; k++) {
                h[k] = clamp_max(tanhf(c[k]) * in_gate[k]);
                out[k] = h[k];
            }
        }
    }
    return CG_OK;
}
