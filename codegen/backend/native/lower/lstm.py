"""UNIDIRECTIONAL_SEQUENCE_LSTM (float32; int8 with int16 cell state as TensorFlow's full-integer quantizer makes
it), as TFLM's reference kernel (``lstm_eval``): TFLM's Prepare arithmetic done here, the loop in
``runtime/src/lstm/``. Only the standard (Keras) LSTM: no CIFG, peephole, projection or layer norm, as TFLM."""

from __future__ import annotations

import math

import numpy as np

from codegen import ir
from codegen.backend.native import bounds, prepare, prepare_sigmoid
from codegen.backend.native.kernels import LowerContext, lowering
from codegen.backend.native.layers import CFloat, ConstArray, ConstRef, KernelCall, Layer, ScratchRef, TensorRef
from codegen.backend.native.lower.common import require, scale_zp
from codegen.ir.ops.sequence import (
    LSTM_BIAS,
    LSTM_CELL_STATE,
    LSTM_INPUT_WEIGHTS,
    LSTM_LAYER_NORM,
    LSTM_OUTPUT_STATE,
    LSTM_PEEPHOLE,
    LSTM_PROJECTION,
    LSTM_RECURRENT_WEIGHTS,
)

#: TFLM's fixed scales inside the integer LSTM: gate FC outputs (sigmoid / tanh inputs) are Q3.12, gate outputs
#: Q0.15 (PrepareGateParametersInteger)
GATE_INPUT_SCALE = 2.0**-12
GATE_OUTPUT_SCALE = 2.0**-15
SHIFT_MIN, SHIFT_MAX = bounds.SHIFT_RANGE


def scratch_bytes(batches: int, units: int, cell_bytes: int) -> int:
    """``cg_lstm_<dtype>_get_scratch_size``: four gate buffers of batches x units cells."""
    return 4 * batches * units * cell_bytes


def folded_bias(bias: np.ndarray, wx: np.ndarray, wh: np.ndarray, depth: int, units: int, z_in: int,
                z_h: int) -> np.ndarray:
    """The int8 kernel's 8 x units biases: each gate's input-FC bias minus ``z_in`` times the weight row's sum,
    then each recurrent FC's ``-z_h`` times its row sum. With them a dot product of the raw int8 values gives
    TFLM's accumulator, the sum of ``w * (x - zero point)`` plus the bias."""
    rows_x = wx.astype(np.int64).reshape(4 * units, depth).sum(axis=1)
    rows_h = wh.astype(np.int64).reshape(4 * units, units).sum(axis=1)
    out = np.concatenate([bias.astype(np.int64) - z_in * rows_x, -z_h * rows_h])
    # TFLM accumulates in int32: the folded values and every partial sum stay far inside it for these sizes
    require(bool(np.all(np.abs(out) + 128 * 128 * max(depth, units) < 2**31)), "LSTM biases and weights are too "
            "large for a 32-bit accumulator")
    return out.astype(np.int32)


def _const(ctx: LowerContext, op: ir.Operator, i: int, what: str) -> ir.Tensor:
    t = ctx.required(op, i, what)
    require(t.data is not None, f"UNIDIRECTIONAL_SEQUENCE_LSTM {what} (tensor {t.index}) must be constant")
    return t


def _stack(tensors: list[ir.Tensor], dtype: type) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate([np.asarray(t.data).reshape(-1) for t in tensors]).astype(dtype))


def _per_tensor_scale(t: ir.Tensor, what: str) -> float:
    q = t.quant
    require(q is not None and len(q.scale) == 1, f"LSTM {what} (tensor {t.index}) needs one scale (per tensor)")
    require(q is not None and all(int(z) == 0 for z in q.zero_point), f"LSTM {what} needs zero point 0")
    return float(q.scale[0]) if q is not None else 0.0


def _mul_params(s1: float, s2: float, s_out: float) -> tuple[int, int]:
    """``CreateInterGateMulParams``: (double(s1) * double(s2)) / double(s_out), all float32 values."""
    return prepare.quantize_multiplier(float(np.float32(s1)) * float(np.float32(s2)) / float(np.float32(s_out)))


def _fc_params(s_in: float, s_w: float) -> tuple[int, int]:
    """``GetQuantizedConvolutionMultipler`` without bias: double(float(s_in * s_w)) / 2^-12."""
    return prepare.quantize_multiplier(float(np.float32(s_in) * np.float32(s_w)) / GATE_INPUT_SCALE)


def cell_tanh_scaling(cell_scale: float) -> tuple[int, int]:
    """``lstm_internal::Tanh`` input scaling of the cell state (multiplier, right shift) as resolved by
    ``reference_integer_ops::Tanh``: a zero multiplier becomes ``3 << left_shift``."""
    left = 15 + prepare_sigmoid.checked_log2(cell_scale)[0] - 3  # TFLM ignores whether the scale is a power of 2
    return (3, -left) if left < 0 else (3 << left, 0)


@lowering("UNIDIRECTIONAL_SEQUENCE_LSTM", dtypes=("int8", "float32"), kernels=("cg_lstm_s8", "cg_lstm_f32"))
def lstm(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = ctx.expect(op, ir.UnidirectionalSequenceLstm)
    x, out = ctx.required(op, 0, "input"), ctx.output(op)
    for i in (*LSTM_PEEPHOLE, *LSTM_PROJECTION, *LSTM_LAYER_NORM):
        require(ctx.input(op, i) is None, "LSTM with peephole, projection or layer norm is not implemented (TFLM "
                "has no kernel for it either)")
    require(ctx.input(op, LSTM_INPUT_WEIGHTS[0]) is not None, "LSTM without an input gate (CIFG) is not "
            "implemented (TFLM has no kernel for it either)")
    require(op.activation is ir.Activation.TANH, f"LSTM cell activation {op.activation.value} is not implemented "
            "(TFLM computes tanh or sigmoid)")
    w_in = [_const(ctx, op, i, "input weights") for i in LSTM_INPUT_WEIGHTS]
    w_rec = [_const(ctx, op, i, "recurrent weights") for i in LSTM_RECURRENT_WEIGHTS]
    biases = [_const(ctx, op, i, "gate bias") for i in LSTM_BIAS]
    hidden = ctx.required(op, LSTM_OUTPUT_STATE, "output state")
    cell = ctx.required(op, LSTM_CELL_STATE, "cell state")
    require(len(x.shape) == 3 and len(out.shape) == 3, "LSTM input and output must be 3-D")
    units, depth = w_in[1].shape
    steps, batches = (x.shape[0], x.shape[1]) if op.time_major else (x.shape[1], x.shape[0])
    geo = (("batches", batches), ("time_steps", steps), ("input_size", depth), ("state_size", units),
           ("time_major", int(op.time_major)))
    n = op.index
    if x.dtype is ir.DType.FLOAT32:
        for t in (*w_in, *w_rec, *biases, hidden, cell, out):
            require(t.dtype is ir.DType.FLOAT32, f"float32 LSTM reading {t.dtype.value} tensor {t.index} (a hybrid "
                    "LSTM) is not implemented")
        consts = (ConstArray(f"l{n}_input_weights", _stack(w_in, np.float32)),
                  ConstArray(f"l{n}_recurrent_weights", _stack(w_rec, np.float32)),
                  ConstArray(f"l{n}_bias", _stack(biases, np.float32)))
        params = (*geo, ("cell_clip", CFloat(op.cell_clip)))
        call = KernelCall("cg_lstm_f32", "cg_lstm_f32_params", params, (
            ("const float *", TensorRef(x.index)), *(("const float *", ConstRef(c.name)) for c in consts),
            ("float *", TensorRef(hidden.index)), ("float *", TensorRef(cell.index)),
            ("float *", TensorRef(out.index)), ("float *", ScratchRef())))
        return Layer(op.index, op.op, "f32", (call,), consts, scratch_bytes=scratch_bytes(batches, units, 4),
                     output=out.index)
    require(x.dtype is ir.DType.INT8, f"LSTM on {x.dtype.value} activations is not implemented")
    require(out.dtype is ir.DType.INT8 and hidden.dtype is ir.DType.INT8, "int8 LSTM needs an int8 output and "
            "output state")
    require(cell.dtype is ir.DType.INT16, f"int8 LSTM needs an int16 cell state (TFLM), got {cell.dtype.value}")
    for t in (*w_in, *w_rec):
        require(t.dtype is ir.DType.INT8, f"int8 LSTM needs int8 weights, tensor {t.index} is {t.dtype.value}")
    for t in biases:
        require(t.dtype is ir.DType.INT32, f"int8 LSTM needs int32 gate biases, tensor {t.index} is "
                f"{t.dtype.value}")
    (s_in, z_in), (s_h, z_h) = scale_zp(x), scale_zp(hidden)
    s_c, z_c = scale_zp(cell)
    require(z_c == 0, f"LSTM cell state (tensor {cell.index}) has zero point {z_c}; TFLM needs 0")
    in_pairs = [_fc_params(s_in, _per_tensor_scale(w, "input weights")) for w in w_in]
    rec_pairs = [_fc_params(s_h, _per_tensor_scale(w, "recurrent weights")) for w in w_rec]
    forget = _mul_params(GATE_OUTPUT_SCALE, s_c, s_c)
    update = _mul_params(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, s_c)
    hid = _mul_params(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, s_h)
    shifts = [s for _, s in (*in_pairs, *rec_pairs, forget, update, hid)]
    require(all(SHIFT_MIN <= s <= SHIFT_MAX for s in shifts), "LSTM requantization shifts are outside [-31, 31]: "
            "the model's scales are too far apart for 32-bit fixed-point arithmetic")
    tanh_mult, tanh_shift = cell_tanh_scaling(s_c)
    require(tanh_mult <= 3 << 14 and tanh_shift <= 30, f"LSTM cell state scale {s_c} is out of the range TFLM's "
            "int16 tanh handles")
    clip = -1  # TFLM clips when the float cell_clip is > 0, at the truncated quantized value
    if op.cell_clip > 0:
        clip = math.trunc(min(max(float(np.float32(op.cell_clip)) / float(np.float32(s_c)), -32768.0), 32767.0))
    wx, wh = _stack(w_in, np.int8), _stack(w_rec, np.int8)
    consts = (ConstArray(f"l{n}_input_weights", wx), ConstArray(f"l{n}_recurrent_weights", wh),
              ConstArray(f"l{n}_bias", folded_bias(_stack(biases, np.int32), wx, wh, depth, units, z_in, z_h)),
              ConstArray(f"l{n}_sigmoid_table", prepare_sigmoid.sigmoid_table(), weight=False))
    params = (*geo, ("in_multiplier", tuple(m for m, _ in in_pairs)), ("in_shift", tuple(s for _, s in in_pairs)),
              ("rec_multiplier", tuple(m for m, _ in rec_pairs)), ("rec_shift", tuple(s for _, s in rec_pairs)),
              ("forget_multiplier", forget[0]), ("forget_shift", forget[1]),
              ("update_multiplier", update[0]), ("update_shift", update[1]),
              ("hidden_multiplier", hid[0]), ("hidden_shift", hid[1]), ("hidden_zero_point", z_h),
              ("cell_tanh_multiplier", tanh_mult), ("cell_tanh_shift", tanh_shift),
              ("sigmoid_table", ConstRef(consts[3].name)), ("cell_clip", clip))
    call = KernelCall("cg_lstm_s8", "cg_lstm_s8_params", params, (
        ("const int8_t *", TensorRef(x.index)), ("const int8_t *", ConstRef(consts[0].name)),
        ("const int8_t *", ConstRef(consts[1].name)), ("const int32_t *", ConstRef(consts[2].name)),
        ("int8_t *", TensorRef(hidden.index)), ("int16_t *", TensorRef(cell.index)),
        ("int8_t *", TensorRef(out.index)), ("int16_t *", ScratchRef())))
    return Layer(op.index, op.op, "s8", (call,), consts, scratch_bytes=scratch_bytes(batches, units, 2),
                 output=out.index)


@bounds.extent("cg_lstm_s8_params", "cg_lstm_f32_params")
def _extent(p: bounds.Params) -> bounds.Extents:
    b, t, i, s = p["batches"], p["time_steps"], p["input_size"], p["state_size"]
    integer = "sigmoid_table" in p
    cells = scratch_bytes(b, s, 1)
    biases = 8 * s if integer else 4 * s  # int8: input-FC then recurrent-FC biases (folded zero points)
    return bounds.Extents((b * t * i, 4 * s * i, 4 * s * s, biases, b * s, b * s, b * t * s, cells),
                          {"sigmoid_table": prepare_sigmoid.TABLE_SIZE} if integer else {})
