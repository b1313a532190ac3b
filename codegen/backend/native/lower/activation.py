"""SOFTMAX, LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU and HARD_SWISH."""

from __future__ import annotations

import numpy as np

from codegen import ir
from codegen.backend.native import prepare
from codegen.backend.native.kernels import LowerContext, lowering
from codegen.backend.native.layers import CFloat, KernelCall, Layer, TensorRef
from codegen.backend.native.lower import int16
from codegen.backend.native.lower.common import require, same_dtype, scale_zp

_OUT_1_256 = (1.0 / 256.0, -128)
_OUT_1_128 = (1.0 / 128.0, 0)


def _io(ctx: LowerContext, op: ir.Operator) -> tuple[ir.Tensor, ir.Tensor, str]:
    inp, out = ctx.required(op, 0), ctx.output(op)
    require(inp.size == out.size, f"{op.op} changes the number of elements")
    return inp, out, same_dtype(op.op, inp, out)


def _args(inp: ir.Tensor, out: ir.Tensor, dt: str) -> tuple:
    ctype = "float" if dt == "f32" else "int8_t"
    return ((f"const {ctype} *", TensorRef(inp.index)), (f"{ctype} *", TensorRef(out.index)))


def _unary_f32(op: ir.Operator, inp: ir.Tensor, out: ir.Tensor, kind: str, alpha: float = 0.0) -> Layer:
    call = KernelCall(
        f"cg_{kind}_f32",
        "cg_unary_f32_params",
        (("size", inp.size), ("alpha", CFloat(alpha))),
        _args(inp, out, "f32"),
    )
    return Layer(op.index, op.op, "f32", (call,), output=out.index)


@lowering(
    "SOFTMAX", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_softmax_s8", "cg_softmax_f32", "cg_softmax_s16")
)
def softmax(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = ctx.expect(op, ir.Softmax)
    if int16.is_int16(ctx.input(op, 0)):
        return int16.softmax(ctx, op)
    inp, out, dt = _io(ctx, op)
    depth = inp.shape[-1] if inp.shape else 1
    rows = inp.size // max(depth, 1)
    if dt == "f32":
        call = KernelCall(
            "cg_softmax_f32",
            "cg_softmax_f32_params",
            (("rows", rows), ("depth", depth), ("beta", CFloat(op.beta))),
            _args(inp, out, dt),
        )
        return Layer(op.index, op.op, dt, (call,), output=out.index)
    in_s, _ = scale_zp(inp)
    require(
        scale_zp(out) == _OUT_1_256, "int8 SOFTMAX needs output scale 1/256 and zero point -128 (as TFLM)"
    )
    mult, shift, diff_min = prepare.softmax_scaling(op.beta, in_s)
    params = (
        ("rows", rows),
        ("depth", depth),
        ("input_multiplier", mult),
        ("input_left_shift", shift),
        ("diff_min", diff_min),
    )
    call = KernelCall("cg_softmax_s8", "cg_softmax_s8_params", params, _args(inp, out, dt))
    return Layer(op.index, op.op, dt, (call,), output=out.index)


@lowering(
    "LOGISTIC",
    dtypes=("int8", "float32", int16.DTYPE),
    kernels=("cg_logistic_s8", "cg_logistic_f32", "cg_logistic_s16"),
)
def logistic(ctx: LowerContext, op: ir.Operator) -> Layer:
    if int16.is_int16(ctx.input(op, 0)):
        return int16.sigmoid(ctx, op, tanh=False)
    inp, out, dt = _io(ctx, op)
    if dt == "f32":
        return _unary_f32(op, inp, out, "logistic")
    in_s, in_zp = scale_zp(inp)
    require(
        scale_zp(out) == _OUT_1_256, "int8 LOGISTIC needs output scale 1/256 and zero point -128 (as TFLM)"
    )
    mult, shift, radius = prepare.logistic_scaling(in_s)
    params = (
        ("size", inp.size),
        ("input_zero_point", in_zp),
        ("input_range_radius", radius),
        ("input_multiplier", mult),
        ("input_left_shift", shift),
    )
    call = KernelCall("cg_logistic_s8", "cg_logistic_s8_params", params, _args(inp, out, dt))
    return Layer(op.index, op.op, dt, (call,), output=out.index)


@lowering("TANH", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_tanh_s8", "cg_tanh_f32", "cg_tanh_s16"))
def tanh(ctx: LowerContext, op: ir.Operator) -> Layer:
    if int16.is_int16(ctx.input(op, 0)):
        return int16.sigmoid(ctx, op, tanh=True)
    inp, out, dt = _io(ctx, op)
    if dt == "f32":
        return _unary_f32(op, inp, out, "tanh")
    in_s, in_zp = scale_zp(inp)
    require(scale_zp(out) == _OUT_1_128, "int8 TANH needs output scale 1/128 and zero point 0 (as TFLM)")
    mult, shift, radius = prepare.logistic_scaling(in_s)  # TFLM tanh Prepare: the same Q4.27 input rescaling
    params = (
        ("size", inp.size),
        ("input_zero_point", in_zp),
        ("input_range_radius", radius),
        ("input_multiplier", mult),
        ("input_left_shift", shift),
    )
    call = KernelCall("cg_tanh_s8", "cg_tanh_s8_params", params, _args(inp, out, dt))
    return Layer(op.index, op.op, dt, (call,), output=out.index)


def requant_params(
    n: int, in_q: tuple[float, int], out_q: tuple[float, int], lo: int, hi: int, identity: bool = False
) -> tuple:
    if identity:
        mult, shift = 1 << 30, 1  # exact identity: x * 2^30 * 2^1 / 2^31
        in_zp = out_zp = 0
    else:
        mult, shift = prepare.quantize_multiplier(in_q[0] / out_q[0])
        in_zp, out_zp = in_q[1], out_q[1]
    return (
        ("size", n),
        ("input_zero_point", in_zp),
        ("output_zero_point", out_zp),
        ("multiplier", mult),
        ("shift", shift),
        ("act_min", lo),
        ("act_max", hi),
    )


def _relu_s16(ctx: LowerContext, op: ir.Operator, six: bool) -> Layer:
    """int16 RELU (requantized to the output, clamped at its zero point) and RELU6 (clamped in the input's
    quantization, no rescaling), as TFLM: the arithmetic of the int16 -> int16 requantization kernel."""
    inp, out = ctx.required(op, 0), ctx.output(op)
    require(int16.is_int16(out) and inp.size == out.size, f"int16 {op.op} changes the element type or size")
    (in_s, in_zp), (out_s, out_zp) = scale_zp(inp), scale_zp(out)
    if six:
        top = max(int16.INT16_MIN, min(int16.INT16_MAX, prepare.quantize_f32(6.0, in_s, in_zp)))
        params = requant_params(inp.size, (in_s, in_zp), (in_s, in_zp), in_zp, top, identity=True)
    else:
        lo = max(int16.INT16_MIN, out_zp + prepare.round_half_away(float(np.float32(0.0) / np.float32(out_s))))
        params = requant_params(inp.size, (in_s, in_zp), (out_s, out_zp), lo, int16.INT16_MAX)
    call = KernelCall("cg_requantize_s16", "cg_requant_s8_params", params,
                      (("const int16_t *", TensorRef(inp.index)), ("int16_t *", TensorRef(out.index))))
    return Layer(op.index, op.op, int16.DTYPE, (call,), output=out.index)


@lowering("RELU", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_relu_s8", "cg_relu_f32", "cg_requantize_s16"))
def relu(ctx: LowerContext, op: ir.Operator) -> Layer:
    if int16.is_int16(ctx.input(op, 0)):
        return _relu_s16(ctx, op, six=False)
    inp, out, dt = _io(ctx, op)
    if dt == "f32":
        return _unary_f32(op, inp, out, "relu")
    in_q, out_q = scale_zp(inp), scale_zp(out)
    lo = max(-128, out_q[1] + prepare.round_half_away(float(np.float32(0.0) / np.float32(out_q[0]))))
    call = KernelCall(
        "cg_relu_s8",
        "cg_requant_s8_params",
        requant_params(inp.size, in_q, out_q, lo, 127),
        _args(inp, out, dt),
    )
    return Layer(op.index, op.op, dt, (call,), output=out.index)


@lowering("RELU6", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_relu_s8", "cg_relu6_f32", "cg_requantize_s16"))
def relu6(ctx: LowerContext, op: ir.Operator) -> Layer:
    if int16.is_int16(ctx.input(op, 0)):
        return _relu_s16(ctx, op, six=True)
    inp, out, dt = _io(ctx, op)
    if dt == "f32":
        return _unary_f32(op, inp, out, "relu6")
    # TFLM clamps int8 RELU6 in the input's quantization without rescaling.
    in_s, in_zp = scale_zp(inp)
    six = max(-128, min(127, prepare.quantize_f32(6.0, in_s, in_zp)))
    call = KernelCall(
        "cg_relu_s8",
        "cg_requant_s8_params",
        requant_params(inp.size, (in_s, in_zp), (in_s, in_zp), in_zp, six, identity=True),
        _args(inp, out, dt),
    )
    return Layer(op.index, op.op, dt, (call,), output=out.index)


@lowering(
    "LEAKY_RELU",
    dtypes=("int8", "float32", int16.DTYPE),
    kernels=("cg_leaky_relu_s8", "cg_leaky_relu_f32", "cg_leaky_relu_s16"),
)
def leaky_relu(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = ctx.expect(op, ir.LeakyRelu)
    if int16.is_int16(ctx.input(op, 0)):
        return int16.leaky_relu(ctx, op)
    inp, out, dt = _io(ctx, op)
    if dt == "f32":
        return _unary_f32(op, inp, out, "leaky_relu", alpha=op.alpha)
    (in_s, in_zp), (out_s, out_zp) = scale_zp(inp), scale_zp(out)
    f = np.float32
    # TFLM: (input_scale * alpha) in float32, every division in double (a float32 division differs on ties)
    ma, sa = prepare.quantize_multiplier(float(f(f(in_s) * f(op.alpha))) / float(f(out_s)))
    mi, si = prepare.quantize_multiplier(float(f(in_s)) / float(f(out_s)))
    params = (
        ("size", inp.size),
        ("input_zero_point", in_zp),
        ("output_zero_point", out_zp),
        ("multiplier_alpha", ma),
        ("shift_alpha", sa),
        ("multiplier_identity", mi),
        ("shift_identity", si),
    )
    call = KernelCall("cg_leaky_relu_s8", "cg_leaky_relu_s8_params", params, _args(inp, out, dt))
    return Layer(op.index, op.op, dt, (call,), output=out.index)


@lowering("HARD_SWISH", dtypes=("int8", "float32"), kernels=("cg_hard_swish_s8", "cg_hard_swish_f32"))
def hard_swish(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out, dt = _io(ctx, op)
    if dt == "f32":
        return _unary_f32(op, inp, out, "hard_swish")
    (in_s, in_zp), (out_s, out_zp) = scale_zp(inp), scale_zp(out)
    relu_mult, relu_exp, out_mult, out_exp = prepare.hard_swish_params(in_s, out_s)
    require(out_exp <= 0, "int8 HARD_SWISH needs output scale >= input scale / 128 (as TFLM)")
    # quantize_multiplier keeps exponents >= -31; beyond 31 TFLM's 16-bit left shift is undefined behaviour
    require(relu_exp <= 31, "int8 HARD_SWISH input scale is too large (over 2^31 / 85): TFLM's shift overflows")
    params = (
        ("size", inp.size),
        ("input_zero_point", in_zp),
        ("output_zero_point", out_zp),
        ("reluish_multiplier_fixedpoint_int16", relu_mult),
        ("reluish_multiplier_exponent", relu_exp),
        ("output_multiplier_fixedpoint_int16", out_mult),
        ("output_multiplier_exponent", out_exp),
    )
    call = KernelCall("cg_hard_swish_s8", "cg_hard_swish_s8_params", params, _args(inp, out, dt))
    return Layer(op.index, op.op, dt, (call,), output=out.index)
