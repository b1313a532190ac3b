"""ARG_MAX and ARG_MIN (int8 and float32 inputs, int32 or int64 indices), as TFLM's ArgMinMax."""

from __future__ import annotations

from codegen import ir
from codegen.backend.native import bounds
from codegen.backend.native.kernels import LowerContext, Unsupported, lowering
from codegen.backend.native.layers import KernelCall, Layer, TensorRef
from codegen.backend.native.lower.common import require, size

_IN = {ir.DType.INT8: ("s8", "int8_t"), ir.DType.FLOAT32: ("f32", "float")}
_OUT = {ir.DType.INT32: ("s32", "int32_t"), ir.DType.INT64: ("s64", "int64_t")}
_DTYPES = tuple(f"{i}->{o}" for i in ("int8", "float32") for o in ("int32", "int64"))
_KERNELS = tuple(f"cg_arg_min_max_{i}_{o}" for i in ("s8", "f32") for o in ("s32", "s64"))


def _lower(ctx: LowerContext, op: ir.Operator, select_min: bool) -> Layer:
    inp, out = ctx.required(op, 0), ctx.output(op)
    axis_t = ctx.input(op, 1)
    if axis_t is None or axis_t.data is None:
        raise Unsupported(f"{op.op} needs a constant axis")
    require(inp.dtype in _IN, f"{op.op} on {inp.dtype.value} inputs is not implemented (int8 and float32 are)")
    require(out.dtype in _OUT, f"{op.op} writes int32 or int64 indices, not {out.dtype.value}")
    require(not inp.is_constant, f"{op.op} of a constant tensor is not implemented")
    rank = len(inp.shape)
    axis_values = [int(v) for v in axis_t.data.reshape(-1)]
    require(len(axis_values) == 1 and -rank <= axis_values[0] < rank, f"{op.op} axis {axis_values} is out of range")
    axis = axis_values[0] % rank
    n = inp.shape[axis]
    require(n >= 1, f"{op.op} over an empty axis")
    outer, inner = size(inp.shape[:axis]), size(inp.shape[axis + 1:])
    require(out.size == outer * inner, f"{op.op} output has {out.size} values, expected {outer * inner}")
    (si, ci), (so, co) = _IN[inp.dtype], _OUT[out.dtype]
    call = KernelCall(
        f"cg_arg_min_max_{si}_{so}",
        "cg_arg_min_max_params",
        (("outer", outer), ("axis_size", n), ("inner", inner), ("select_min", 1 if select_min else 0)),
        ((f"const {ci} *", TensorRef(inp.index)), (f"{co} *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, f"{si}->{so}", (call,), output=out.index)


@lowering("ARG_MAX", dtypes=_DTYPES, kernels=_KERNELS)
def arg_max(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _lower(ctx, op, select_min=False)


@lowering("ARG_MIN", dtypes=_DTYPES, kernels=_KERNELS)
def arg_min(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _lower(ctx, op, select_min=True)


@bounds.extent("cg_arg_min_max_params")
def _extent(p: bounds.Params) -> bounds.Extents:
    return bounds.Extents((p["outer"] * p["axis_size"] * p["inner"], p["outer"] * p["inner"]))
