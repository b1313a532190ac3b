"""RESHAPE and SQUEEZE (aliases: no code, no copy) and PAD."""

from __future__ import annotations

from codegen import ir
from codegen.backend.native.kernels import LowerContext, lowering
from codegen.backend.native.layers import KernelCall, Layer, Literal, TensorRef, c_float
from codegen.backend.native.lower import int16
from codegen.backend.native.lower.common import dtype_key, require, scale_zp


def _alias(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out = ctx.required(op, 0), ctx.output(op)
    require(inp.nbytes == out.nbytes, f"{op.op} changes the tensor size ({inp.nbytes} -> {out.nbytes} bytes)")
    require(not inp.is_constant, f"{op.op} of a constant tensor is not implemented")
    return Layer(op.index, op.op, dtype_key(inp), (), alias_of=inp.index, output=out.index)


@lowering("RESHAPE", dtypes=("any",), kernels=())
def reshape(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _alias(ctx, op)


@lowering("SQUEEZE", dtypes=("any",), kernels=())
def squeeze(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _alias(ctx, op)


@lowering("PAD", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_pad_s8", "cg_pad_f32", "cg_pad_s16"))
def pad(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, pads, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    require(pads is not None and pads.is_constant, "PAD needs constant paddings")
    rank = len(inp.shape)
    require(rank <= 4, "PAD of more than 4 dimensions is not implemented")
    p = pads.data.reshape(rank, 2).astype(int)
    lead = 4 - rank
    dims = (1,) * lead + tuple(inp.shape)
    before = (0,) * lead + tuple(int(v) for v in p[:, 0])
    after = (0,) * lead + tuple(int(v) for v in p[:, 1])
    require(min(before + after) >= 0, "negative PAD amounts are not supported")
    if int16.is_int16(inp):
        return int16.pad(ctx, op, dims, before, after)
    require(
        inp.dtype in (ir.DType.INT8, ir.DType.FLOAT32) and out.dtype is inp.dtype,
        f"PAD on {inp.dtype.value} is not implemented",
    )
    dt = dtype_key(inp)
    if dt == "s8":
        require(scale_zp(inp) == scale_zp(out), "PAD with different input and output quantization")
        value, ctype = str(scale_zp(out)[1]), "int8_t"
    else:
        value, ctype = c_float(0.0), "float"
    call = KernelCall(
        f"cg_pad_{dt}",
        "cg_pad_params",
        (("in_dims", dims), ("before", before), ("after", after)),
        (
            ("", Literal(value)),
            (f"const {ctype} *", TensorRef(inp.index)),
            (f"{ctype} *", TensorRef(out.index)),
        ),
    )
    return Layer(op.index, op.op, dt, (call,), output=out.index)
