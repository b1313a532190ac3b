"""SVDF: TFLM's PrepareSvdf in Python. The activation state is a variable tensor: the planner keeps it in the
static state buffer (not the arena), so it carries over from one inference to the next."""

from __future__ import annotations

import numpy as np

from codegen import ir
from codegen.backend.native import bounds, prepare
from codegen.backend.native.kernels import LowerContext, lowering
from codegen.backend.native.layers import CFloat, ConstArray, ConstRef, KernelCall, Layer, TensorRef
from codegen.backend.native.lower.common import require, scale_zp

_F32_ACTIVATIONS = (ir.Activation.NONE, ir.Activation.RELU, ir.Activation.RELU6, ir.Activation.RELU_N1_TO_1)
_STATE_RANGE = {ir.DType.INT16: (-32768, 32767), ir.DType.INT8: (-128, 127)}


def _const(t: ir.Tensor | None, what: str) -> np.ndarray:
    require(t is not None and t.is_constant, f"{what} must be a constant tensor")
    return t.data


def _scale(t: ir.Tensor, what: str) -> float:
    require(t.quant is not None, f"{what} (tensor {t.index}) has no quantization parameters")
    require(not t.quant.per_channel, f"{what} (tensor {t.index}) is quantized per channel; TFLM's SVDF reads one "
                                     "scale")
    return float(t.quant.scale[0])


@lowering("SVDF", dtypes=("int8", "float32"),
          kernels=("cg_svdf_s8", "cg_svdf_dsp_s8", "cg_svdf_state8_s8", "cg_svdf_f32"))
def svdf(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = ctx.expect(op, ir.Svdf)
    inp, wf, wt = ctx.required(op, 0), ctx.required(op, 1, "weights feature"), ctx.required(op, 2, "weights time")
    state, out, bias = ctx.required(op, 4, "activation state"), ctx.output(op), ctx.input(op, 3)
    require(state.is_variable, f"activation state (tensor {state.index}) is not a variable tensor")
    batches, depth = inp.shape
    filters = wf.shape[0]
    memory = wt.shape[1]
    units = filters // op.rank
    x = op.index
    sizes = (("batches", batches), ("input_size", depth), ("filters", filters), ("units", units),
             ("rank", op.rank), ("memory", memory))
    consts = [ConstArray(f"l{x}_wf", _const(wf, "weights feature"), source_tensor=wf.index),
              ConstArray(f"l{x}_wt", _const(wt, "weights time"), source_tensor=wt.index)]
    bias_ref: ConstRef | None = None
    if bias is not None:
        consts.append(ConstArray(f"l{x}_bias", _const(bias, "bias"), source_tensor=bias.index))
        bias_ref = ConstRef(f"l{x}_bias")

    if inp.dtype is ir.DType.FLOAT32:
        for t, what in ((wf, "weights feature"), (wt, "weights time"), (state, "activation state"), (out, "output"),
                        (bias, "bias")):
            require(t is None or t.dtype is ir.DType.FLOAT32, f"float SVDF needs a float32 {what}, got "
                                                              f"{t.dtype.value if t else ''}")
        require(op.activation in _F32_ACTIVATIONS, f"fused activation {op.activation.value} is not implemented")
        lo, hi = prepare.activation_range_f32(op.activation)
        call = KernelCall(
            "cg_svdf_f32", "cg_svdf_f32_params", (*sizes, ("act_min", CFloat(lo)), ("act_max", CFloat(hi))),
            (("const float *", TensorRef(inp.index)), ("const float *", ConstRef(f"l{x}_wf")),
             ("const float *", ConstRef(f"l{x}_wt")), ("const float *", bias_ref),
             ("float *", TensorRef(state.index)), ("float *", TensorRef(out.index))),
        )
        return Layer(op.index, op.op, "f32", (call,), tuple(consts), output=out.index)

    require(inp.dtype is ir.DType.INT8, f"SVDF on {inp.dtype.value} input is not implemented (int8 or float32)")
    require(wf.dtype is ir.DType.INT8, f"int8 SVDF needs int8 feature weights, got {wf.dtype.value}")
    require(out.dtype is ir.DType.INT8, f"int8 SVDF needs an int8 output, got {out.dtype.value}")
    require(state.dtype in _STATE_RANGE and wt.dtype == state.dtype,
            f"int8 SVDF needs int16 (or int8) state and time weights of the same type, got state "
            f"{state.dtype.value} and time weights {wt.dtype.value}")
    require(bias is None or bias.dtype is ir.DType.INT32, "int8 SVDF needs an int32 bias")
    in_s, in_zp = scale_zp(inp)
    out_s, out_zp = scale_zp(out)
    st_s, st_zp = scale_zp(state)
    wf_s, wt_s = _scale(wf, "weights feature"), _scale(wt, "weights time")
    f32 = np.float32
    # TFLM computes both scales in float (TfLiteQuantizationParams.scale) and only then widens them to double
    scale_1 = float(f32(f32(in_s) * f32(wf_s)) / f32(st_s))
    scale_2 = float(f32(f32(st_s) * f32(wt_s)) / f32(out_s))
    if bias is not None:
        bias_s = _scale(bias, "bias")
        require(abs(float(f32(bias_s)) - float(f32(f32(st_s) * f32(wt_s)))) < 1e-5,
                f"bias scale {bias_s:g} is not the state scale times the time weights scale (TFLM requires it)")
    m1, s1 = prepare.quantize_multiplier(scale_1)
    m2, s2 = prepare.quantize_multiplier(scale_2)
    lo, hi = _STATE_RANGE[state.dtype]
    kernel, sct = ("cg_svdf_s8", "int16_t") if state.dtype is ir.DType.INT16 else ("cg_svdf_state8_s8", "int8_t")
    params = (*sizes, ("input_offset", -in_zp), ("state_zero_point", st_zp), ("output_offset", out_zp),
              ("feature_multiplier", m1), ("feature_shift", s1), ("output_multiplier", m2), ("output_shift", s2),
              ("state_min", lo), ("state_max", hi), ("act_min", -128), ("act_max", 127))
    folded = _folded(x, wf.data, wt.data, None if bias is None else bias.data, -in_zp, st_zp, op.rank) \
        if ctx.dsp and state.dtype is ir.DType.INT16 else None
    if folded is not None:
        call = KernelCall(
            "cg_svdf_dsp_s8", "cg_svdf_s8_params", params,
            (("const int8_t *", TensorRef(inp.index)), ("const int8_t *", ConstRef(f"l{x}_wf")),
             ("const int32_t *", ConstRef(f"l{x}_feature_bias")), ("const int16_t *", ConstRef(f"l{x}_wt")),
             ("const int32_t *", ConstRef(f"l{x}_unit_bias")), ("int16_t *", TensorRef(state.index)),
             ("int8_t *", TensorRef(out.index))),
        )
        consts = [c for c in consts if c.name != f"l{x}_bias"] + list(folded)
        return Layer(op.index, op.op, "s8", (call,), tuple(consts), output=out.index)
    call = KernelCall(
        kernel, "cg_svdf_s8_params", params,
        (("const int8_t *", TensorRef(inp.index)), ("const int8_t *", ConstRef(f"l{x}_wf")),
         (f"const {sct} *", ConstRef(f"l{x}_wt")), ("const int32_t *", bias_ref),
         (f"{sct} *", TensorRef(state.index)), ("int8_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, "s8", (call,), tuple(consts), output=out.index)


def _folded(x: int, wf: np.ndarray, wt: np.ndarray, bias: np.ndarray | None, input_offset: int, state_zp: int,
            rank: int) -> tuple[ConstArray, ConstArray] | None:
    """The DSP kernel's folded zero points: input_offset * sum(feature weights) per filter, and the bias minus
    state_zero_point * the sum of each unit's time weights; None when a value leaves int32 (the portable kernel
    then takes the layer)."""
    feature = wf.astype(np.int64).sum(axis=1) * input_offset
    units = wt.shape[0] // rank
    unit = -state_zp * wt.astype(np.int64).reshape(units, -1).sum(axis=1)
    if bias is not None:
        unit = unit + bias.astype(np.int64).reshape(-1)
    if min(feature.min(), unit.min()) < prepare.INT32_MIN or max(feature.max(), unit.max()) > prepare.INT32_MAX:
        return None
    return (ConstArray(f"l{x}_feature_bias", feature.astype(np.int32)),
            ConstArray(f"l{x}_unit_bias", unit.astype(np.int32)))


@bounds.extent("cg_svdf_dsp_s8")
def _extent_dsp(p: bounds.Params) -> bounds.Extents:
    b, d, f, u, m = p["batches"], p["input_size"], p["filters"], p["units"], p["memory"]
    _check_units(p)
    return bounds.Extents((b * d, f * d, f, f * m, u, b * f * m, b * u))


def _check_units(p: bounds.Params) -> None:
    if p["units"] * p["rank"] != p["filters"]:
        raise bounds.BoundsError(f"SVDF units {p['units']} x rank {p['rank']} differ from its {p['filters']} filters",
                                 hint="this is a bug in the native backend; please report it with the model")


@bounds.extent("cg_svdf_s8_params", "cg_svdf_f32_params")
def _extent(p: bounds.Params) -> bounds.Extents:
    b, d, f, u, m = p["batches"], p["input_size"], p["filters"], p["units"], p["memory"]
    _check_units(p)
    return bounds.Extents((b * d, f * d, f * m, u, b * f * m, b * u))
