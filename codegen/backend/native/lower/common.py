"""Helpers shared by the lowerings: dtype checks, quantization parameters, 4-D views."""

from __future__ import annotations

from codegen import ir
from codegen.backend.native.kernels import Unsupported
from codegen.backend.native.layers import Dims, KernelCall, TensorRef


def dtype_key(t: ir.Tensor) -> str:
    return {ir.DType.INT8: "s8", ir.DType.FLOAT32: "f32"}.get(t.dtype, t.dtype.value)


def require(cond: bool, reason: str) -> None:
    if not cond:
        raise Unsupported(reason)


def scale_zp(t: ir.Tensor) -> tuple[float, int]:
    """Per-tensor scale and zero point of an int8 activation tensor."""
    require(t.quant is not None, f"tensor {t.index} ({t.name}) is int8 but has no quantization parameters")
    require(not t.quant.per_channel, f"activation tensor {t.index} ({t.name}) is quantized per channel")
    return float(t.quant.scale[0]), int(t.quant.zero_point[0])


def same_dtype(kind: str, *tensors: ir.Tensor | None) -> str:
    """Check every tensor has the same element type (int8 or float32) and return its kernel suffix."""
    present = [t for t in tensors if t is not None]
    dtypes = {t.dtype for t in present}
    require(len(dtypes) == 1, f"{kind} mixes element types {sorted(d.value for d in dtypes)}")
    d = present[0].dtype
    require(d in (ir.DType.INT8, ir.DType.FLOAT32), f"{kind} on {d.value} tensors is not implemented")
    return dtype_key(present[0])


def nhwc(shape: tuple[int, ...], what: str) -> Dims:
    """A 4-D NHWC view; rank-3 shapes get N = 1."""
    require(len(shape) in (3, 4), f"{what} must be 4-D (NHWC), got shape {list(shape)}")
    if len(shape) == 3:
        shape = (1, *shape)
    return Dims(*shape)


def size(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def concatenation_copies(op: ir.Concatenation, ins: list[ir.Tensor], out: ir.Tensor, dt: str, ctype: str
                         ) -> tuple[KernelCall, ...]:
    """CONCATENATION as one strided copy per input (``cg_concatenation_<dt>``, elements of C type ``ctype``)."""
    require(op.activation is ir.Activation.NONE, "CONCATENATION with a fused activation is not implemented")
    rank = len(out.shape)
    axis = op.axis % rank
    inner = size(out.shape[axis + 1 :])
    outer = size(out.shape[:axis])
    calls, offset = [], 0
    for t in ins:
        require(len(t.shape) == rank, "CONCATENATION inputs differ in rank")
        require(not t.is_constant, "CONCATENATION of a constant tensor is not implemented")
        params = (
            ("outer", outer),
            ("copy_size", t.shape[axis] * inner),
            ("out_stride", out.shape[axis] * inner),
            ("out_offset", offset),
        )
        offset += t.shape[axis] * inner
        calls.append(
            KernelCall(
                f"cg_concatenation_{dt}",
                "cg_concatenation_params",
                params,
                ((f"const {ctype} *", TensorRef(t.index)), (f"{ctype} *", TensorRef(out.index))),
            )
        )
    require(offset == out.shape[axis] * inner, "CONCATENATION input sizes do not add up to the output")
    return tuple(calls)
