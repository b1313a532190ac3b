"""QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32)."""

from __future__ import annotations

from codegen import ir
from codegen.backend.native.kernels import LowerContext, lowering
from codegen.backend.native.layers import CFloat, KernelCall, Layer, TensorRef
from codegen.backend.native.lower import int16
from codegen.backend.native.lower.activation import requant_params
from codegen.backend.native.lower.common import require, scale_zp


@lowering(
    "QUANTIZE",
    dtypes=("float32->int8", "int8->int8", "float32->int16", "int16<->int8", "int16->int16"),
    kernels=("cg_quantize_s8", "cg_requantize_s8", "cg_quantize_s16", "cg_requantize_s16_s8",
             "cg_requantize_s8_s16", "cg_requantize_s16"),
)
def quantize(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out = ctx.required(op, 0), ctx.output(op)
    if int16.is_int16(inp) or int16.is_int16(out):
        return int16.quantize(ctx, op)
    require(out.dtype is ir.DType.INT8, f"QUANTIZE to {out.dtype.value} is not implemented")
    out_s, out_zp = scale_zp(out)
    if inp.dtype is ir.DType.FLOAT32:
        call = KernelCall(
            "cg_quantize_s8",
            "cg_affine_params",
            (("size", inp.size), ("scale", CFloat(out_s)), ("zero_point", out_zp)),
            (("const float *", TensorRef(inp.index)), ("int8_t *", TensorRef(out.index))),
        )
        return Layer(op.index, op.op, "f32", (call,), output=out.index)
    require(inp.dtype is ir.DType.INT8, f"QUANTIZE from {inp.dtype.value} is not implemented")
    params = requant_params(inp.size, scale_zp(inp), (out_s, out_zp), -128, 127)
    call = KernelCall(
        "cg_requantize_s8",
        "cg_requant_s8_params",
        params,
        (("const int8_t *", TensorRef(inp.index)), ("int8_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, "s8", (call,), output=out.index)


@lowering("DEQUANTIZE", dtypes=("int8->float32", "int16->float32"), kernels=("cg_dequantize_s8", "cg_dequantize_s16"))
def dequantize(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out = ctx.required(op, 0), ctx.output(op)
    if int16.is_int16(inp):
        return int16.dequantize(ctx, op)
    require(
        inp.dtype is ir.DType.INT8 and out.dtype is ir.DType.FLOAT32,
        f"DEQUANTIZE {inp.dtype.value} -> {out.dtype.value} is not implemented",
    )
    s, zp = scale_zp(inp)
    call = KernelCall(
        "cg_dequantize_s8",
        "cg_affine_params",
        (("size", inp.size), ("scale", CFloat(s)), ("zero_point", zp)),
        (("const int8_t *", TensorRef(inp.index)), ("float *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, "s8", (call,), output=out.index)
