/* codegen runtime: UNIDIRECTIONAL_SEQUENCE_LSTM (the Keras LSTM: no peephole, projection or layer norm), with
 * TFLM's reference arithmetic (lstm_eval). Included by cg_nn.h.
 *
 * Gates are stored in the order input (0), forget (1), cell (2), output (3): `input_weights` is 4 x state x
 * input, `recurrent_weights` 4 x state x state, `bias` 4 x state (int8: see cg_lstm_s8_params). Per time step,
 * every gate is act(FC(x_t, input_weights[g]) + bias[g] + FC(h, recurrent_weights[g])) (sigmoid; tanh for the cell gate), then
 * c = f * c + i * g (clipped to +-cell_clip when cell_clip > 0), h = o * tanh(c), and h is the step's output.
 * `hidden_state` and `cell_state` persist between calls (the model's variable tensors). Batch-major input
 * [batches, time_steps, input] runs each batch's sequence in turn; time-major input [time_steps, batches,
 * input] steps all batches together. Scratch: four gate buffers of batches x state cells
 * (cg_lstm_<dtype>_get_scratch_size bytes). */
#ifndef CG_NN_LSTM_H
#define CG_NN_LSTM_H

#include "cg_status.h"
#include "cg_types.h"

typedef struct {
    int32_t batches, time_steps, input_size, state_size;
    int32_t time_major;
    float cell_clip; /* 0: no clipping */
} cg_lstm_f32_params;

/* int8 activations and weights, int16 cell state and gates: each gate FC requantizes to Q3.12 int16
 * (in_* for the input FC, rec_* for the recurrent FC), gate outputs are Q0.15. The int32 `bias` holds 8 x state
 * values: the four gates' input-FC biases with the input zero point folded in (bias - input_zero_point * weight
 * row sum), then the four recurrent FCs' (- hidden_zero_point * weight row sum), computed at generation time. */
typedef struct {
    int32_t batches, time_steps, input_size, state_size;
    int32_t time_major;
    int32_t in_multiplier[4], in_shift[4];
    int32_t rec_multiplier[4], rec_shift[4];
    int32_t forget_multiplier, forget_shift; /* forget gate x cell state -> cell state */
    int32_t update_multiplier, update_shift; /* input gate x cell gate -> cell state */
    int32_t hidden_multiplier, hidden_shift; /* tanh(cell) x output gate -> hidden state */
    int32_t hidden_zero_point;
    int32_t cell_tanh_multiplier, cell_tanh_shift; /* TFLM Tanh input scaling of the cell state */
    const uint16_t *sigmoid_table; /* 256 entries: sigmoid(i / 24) in Q0.16, as cg_sigmoid_s16_params */
    int32_t cell_clip; /* quantized clip (TFLM clips when the float cell_clip is > 0); -1: no clipping */
} cg_lstm_s8_params;

int32_t cg_lstm_f32_get_scratch_size(const cg_lstm_f32_params *p);
int32_t cg_lstm_s8_get_scratch_size(const cg_lstm_s8_params *p);

cg_status cg_lstm_f32(const cg_lstm_f32_params *p, const float *input, const float *input_weights,
                      const float *recurrent_weights, const float *bias, float *hidden_state, float *cell_state,
                      float *output, float *scratch);
cg_status cg_lstm_s8(const cg_lstm_s8_params *p, const int8_t *input, const int8_t *input_weights,
                     const int8_t *recurrent_weights, const int32_t *bias, int8_t *hidden_state,
                     int16_t *cell_state, int8_t *output, int16_t *scratch);

#endif /* CG_NN_LSTM_H */
