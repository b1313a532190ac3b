"""TRANSPOSE_CONV (int8 with per-channel requantization, 16x8 with an int64 accumulator, float32), as TFLM's
reference kernels."""

from __future__ import annotations

from typing import cast

import numpy as np

from codegen import ir
from codegen.backend.native import bounds, prepare
from codegen.backend.native.kernels import LowerContext, Unsupported, lowering
from codegen.backend.native.layers import CFloat, ConstArray, ConstRef, Dims, KernelCall, Layer, ScratchRef, TensorRef
from codegen.backend.native.lower import int16
from codegen.backend.native.lower.common import nhwc, require, same_dtype, scale_zp


def _const(t: ir.Tensor | None, what: str) -> np.ndarray:
    if t is None or t.data is None:
        raise Unsupported(f"TRANSPOSE_CONV needs a constant {what}")
    return t.data


def scratch_bytes(out: Dims, accumulator_bytes: int = 4) -> int:
    """``cg_transpose_conv_s8_get_scratch_size`` (one int32 accumulator per output element) or, with
    ``accumulator_bytes`` 8, ``cg_transpose_conv_s16_get_scratch_size`` (int64)."""
    return out.n * out.h * out.w * out.c * accumulator_bytes


@lowering(
    "TRANSPOSE_CONV",
    dtypes=("int8", "float32", int16.DTYPE),
    kernels=("cg_transpose_conv_s8", "cg_transpose_conv_f32", "cg_transpose_conv_s16"),
)
def transpose_conv(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.TransposeConv, op)
    filt, inp, out, b = ctx.input(op, 1), ctx.input(op, 2), ctx.output(op), ctx.input(op, 3)
    if inp is None or filt is None:
        raise Unsupported("TRANSPOSE_CONV needs an input and a filter")
    s16 = int16.is_int16(inp)
    dt = int16.DTYPE if s16 else same_dtype(op.op, inp, out)
    require(s16 or filt.dtype is inp.dtype, "TRANSPOSE_CONV with a filter of another type (hybrid) is not implemented")
    w = _const(filt, "filter")
    i, f, o = nhwc(inp.shape, "input"), nhwc(filt.shape, "filter"), nhwc(out.shape, "output")
    require(f.c == i.c and f.n == o.c and i.n == o.n, "TRANSPOSE_CONV filter does not match input and output")
    shape = [int(v) for v in _const(ctx.input(op, 0), "output shape").reshape(-1)]
    require(shape == [o.n, o.h, o.w, o.c], f"TRANSPOSE_CONV output shape {shape} differs from the output tensor")
    # TFLM: ComputePaddingHeightWidth with the *output* size as the input size (GetWindowedOutputSize)
    pad_h = prepare.padding_before(op.padding, o.h, f.h, op.stride_h, 1,
                                   prepare.out_size(op.padding, o.h, f.h, op.stride_h))
    pad_w = prepare.padding_before(op.padding, o.w, f.w, op.stride_w, 1,
                                   prepare.out_size(op.padding, o.w, f.w, op.stride_w))
    geo = (("input", i), ("filter", f), ("output", o), ("stride_h", op.stride_h), ("stride_w", op.stride_w),
           ("pad_h", pad_h), ("pad_w", pad_w))
    x = op.index
    if s16:
        return _int16(ctx, op, geo, o)
    consts = [ConstArray(f"l{x}_filter", np.ascontiguousarray(w).astype(w.dtype), source_tensor=filt.index)]
    bias_ref = None
    if dt == "f32":
        if b is not None:
            consts.append(ConstArray(f"l{x}_bias", _const(b, "bias").astype(np.float32).reshape(-1),
                                     source_tensor=b.index))
            bias_ref = ConstRef(consts[-1].name)
        lo, hi = prepare.activation_range_f32(op.activation)
        call = KernelCall("cg_transpose_conv_f32", "cg_transpose_conv_f32_params",
                          (*geo, ("act_min", CFloat(lo)), ("act_max", CFloat(hi))),
                          (("const float *", TensorRef(inp.index)), ("const float *", ConstRef(consts[0].name)),
                           ("const float *", bias_ref), ("float *", TensorRef(out.index))))
        return Layer(op.index, op.op, dt, (call,), tuple(consts), output=out.index)
    (s_in, z_in), (s_out, z_out) = scale_zp(inp), scale_zp(out)
    q = filt.quant
    require(q is not None and all(z == 0 for z in q.zero_point), "TRANSPOSE_CONV filter needs zero points of 0")
    if q is None:
        raise Unsupported("TRANSPOSE_CONV filter has no quantization")
    scales = list(q.scale) if q.per_channel else [q.scale[0]] * o.c
    require(len(scales) == o.c, f"TRANSPOSE_CONV filter has {len(scales)} scales for {o.c} channels")
    pairs = [prepare.quantize_multiplier(s_in * float(s) / s_out) for s in scales]
    mult = ConstArray(f"l{x}_mult", np.array([m for m, _ in pairs], np.int32), weight=False)
    shift = ConstArray(f"l{x}_shift", np.array([s for _, s in pairs], np.int32), weight=False)
    consts += [mult, shift]
    if b is not None:
        bias = _const(b, "bias")
        require(b.dtype is ir.DType.INT32 and bias.size == o.c, "TRANSPOSE_CONV int8 needs an int32 bias per channel")
        consts.append(ConstArray(f"l{x}_bias", bias.astype(np.int32).reshape(-1), source_tensor=b.index))
        bias_ref = ConstRef(consts[-1].name)
    lo, hi = prepare.activation_range_int8(op.activation, s_out, z_out)
    params = (*geo, ("input_offset", -z_in), ("output_offset", z_out), ("act_min", lo), ("act_max", hi),
              ("multiplier", ConstRef(mult.name)), ("shift", ConstRef(shift.name)))
    call = KernelCall("cg_transpose_conv_s8", "cg_transpose_conv_s8_params", params,
                      (("const int8_t *", TensorRef(inp.index)), ("const int8_t *", ConstRef(consts[0].name)),
                       ("const int32_t *", bias_ref), ("int8_t *", TensorRef(out.index)),
                       ("int32_t *", ScratchRef())))
    return Layer(op.index, op.op, dt, (call,), tuple(consts), scratch_bytes=scratch_bytes(o), output=out.index)


def _int16(ctx: LowerContext, op: ir.TransposeConv, geo: tuple, o: Dims) -> Layer:
    """16x8: int16 input and output (zero points 0), int8 filter, int64 bias, int64 scratch accumulator."""
    filt, inp, out = ctx.required(op, 1), ctx.required(op, 2), ctx.output(op)
    layer = int16.conv_like(ctx, op, inp, filt, out, o.c, bias_input=3)
    call = KernelCall("cg_transpose_conv_s16", "cg_transpose_conv_s8_params", (*geo, *layer.params),
                      (("const int16_t *", TensorRef(inp.index)), ("const int8_t *", layer.filter),
                       ("const int64_t *", layer.bias), ("int16_t *", TensorRef(out.index)),
                       ("int64_t *", ScratchRef())))
    return Layer(op.index, op.op, int16.DTYPE, (call,), layer.consts, scratch_bytes=scratch_bytes(o, 8),
                 output=out.index)


@bounds.extent("cg_transpose_conv_s8_params", "cg_transpose_conv_f32_params")
def _extent(p: bounds.Params) -> bounds.Extents:
    i, f, o = p["input"], p["filter"], p["output"]
    n_out = o.n * o.h * o.w * o.c
    args = (i.n * i.h * i.w * i.c, f.n * f.h * f.w * f.c, o.c, n_out, n_out)
    return bounds.Extents(args, {"multiplier": o.c, "shift": o.c} if "multiplier" in p else {})
