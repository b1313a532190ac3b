"""TRANSPOSE, REVERSE_V2, STRIDED_SLICE, SLICE, SPLIT, SPLIT_V, PACK, UNPACK, DEPTH_TO_SPACE, SPACE_TO_DEPTH,
RESIZE_NEAREST_NEIGHBOR (int8 and float32), and MAXIMUM / MINIMUM.

The data-movement operators copy raw values, as TFLM does (no rescaling, whatever the output quantization):
each is one or more ``cg_strided_copy`` calls whose index arithmetic (TFLM's, from
:mod:`codegen.ir.semantics`) is done here, at generation time.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from codegen import ir
from codegen.backend.native import bounds
from codegen.backend.native.kernels import LowerContext, Unsupported, lowering
from codegen.backend.native.layers import ConstArray, ConstRef, KernelCall, Layer, TensorRef
from codegen.backend.native.lower import int16
from codegen.backend.native.lower.common import dtype_key, nhwc, require, same_dtype
from codegen.backend.native.lower.elementwise import broadcast_params
from codegen.ir import semantics

DIMS = 6  # CG_COPY_DIMS


def _strides(shape: tuple[int, ...]) -> list[int]:
    st, acc = [0] * len(shape), 1
    for d in range(len(shape) - 1, -1, -1):
        st[d] = acc
        acc *= shape[d]
    return st


def _ctype(dt: str) -> str:
    return {"f32": "float", "s16": "int16_t"}.get(dt, "int8_t")


#: ops whose int16 (16x8) form is the same copy: TFLM copies the int16 values unchanged
INT16_COPIES = frozenset({"TRANSPOSE", "STRIDED_SLICE", "SLICE", "SPLIT", "SPLIT_V", "UNPACK",
                          "REVERSE_V2", "RESIZE_NEAREST_NEIGHBOR"})
_COPY16 = {"dtypes": ("int8", "float32", int16.DTYPE),
           "kernels": ("cg_strided_copy_s8", "cg_strided_copy_f32", "cg_strided_copy_s16")}


def copy_call(dt: str, src: int, dst: int, axes: list[tuple[int, int]], offset: int = 0) -> KernelCall:
    """``cg_strided_copy`` of tensor ``src`` into ``dst``: ``axes`` lists (count, input stride) outermost first."""
    axes = [(c, s) for c, s in axes if c != 1] or [(1, 0)]  # unit axes add nothing
    require(len(axes) <= DIMS, f"a copy over {len(axes)} non-unit axes is not implemented (at most {DIMS})")
    axes = [(1, 0)] * (DIMS - len(axes)) + axes
    ctype = _ctype(dt)
    params = (
        ("count", tuple(c for c, _ in axes)),
        ("in_stride", tuple(s for _, s in axes)),
        ("in_offset", offset),
    )
    return KernelCall(
        f"cg_strided_copy_{dt}",
        "cg_strided_copy_params",
        params,
        ((f"const {ctype} *", TensorRef(src)), (f"{ctype} *", TensorRef(dst))),
    )


def _sliced(dt: str, inp: ir.Tensor, out: ir.Tensor, picks: list[tuple[int, int, int]]) -> KernelCall:
    """Copy of the (start, count, step) selection per input axis of ``inp`` into ``out``."""
    st = _strides(inp.shape)
    offset = sum(start * s for (start, _, _), s in zip(picks, st, strict=True))
    require(int(np.prod([c for _, c, _ in picks])) == out.size,
            f"the slice selects {int(np.prod([c for _, c, _ in picks]))} values, the output holds {out.size}")
    return copy_call(dt, inp.index, out.index, [(c, step * s) for (_, c, step), s in zip(picks, st, strict=True)],
                     offset)


def _layer(op: ir.Operator, dt: str, calls: list[KernelCall], consts: tuple = ()) -> Layer:
    return Layer(op.index, op.op, dt, tuple(calls), consts, output=op.outputs[0])


def _ints(ctx: LowerContext, op: ir.Operator, i: int, what: str) -> list[int]:
    t = ctx.input(op, i)
    if t is None or t.data is None:
        raise Unsupported(f"{op.op} needs a constant {what}")
    return [int(v) for v in t.data.reshape(-1)]


def _io(ctx: LowerContext, op: ir.Operator, data: int = 0) -> tuple[ir.Tensor, list[ir.Tensor], str]:
    inp = ctx.input(op, data)
    if inp is None:
        raise Unsupported(f"{op.op} has no input {data}")
    outs = [ctx.output(op, k) for k in range(len(op.outputs))]
    require(not inp.is_constant, f"{op.op} of a constant tensor is not implemented (it should have been folded)")
    if op.op in INT16_COPIES and int16.is_int16(inp):
        require(all(int16.is_int16(o) and o.quant == inp.quant for o in outs),
                f"int16 {op.op} changes the element type or quantization")
        return inp, outs, "s16"
    return inp, outs, same_dtype(op.op, inp, *outs)


@lowering("TRANSPOSE", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_strided_copy_s8", "cg_strided_copy_f32", "cg_strided_copy_s16"))
def transpose(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, (out,), dt = _io(ctx, op)
    try:
        perm = semantics.transpose_perm(_ints(ctx, op, 1, "permutation"), len(inp.shape))
    except ValueError as exc:
        raise Unsupported(str(exc)) from exc
    st = _strides(inp.shape)
    return _layer(op, dt, [copy_call(dt, inp.index, out.index, [(inp.shape[a], st[a]) for a in perm])])


@lowering("REVERSE_V2", **_COPY16)
def reverse_v2(ctx: LowerContext, op: ir.Operator) -> Layer:
    """The reversed axes read from their last index with a negative stride."""
    inp, (out,), dt = _io(ctx, op)
    try:
        axes = semantics.reverse_axes(_ints(ctx, op, 1, "axes"), len(inp.shape))
    except ValueError as exc:
        raise Unsupported(str(exc)) from exc
    picks = [(n - 1, n, -1) if a in axes else (0, n, 1) for a, n in enumerate(inp.shape)]
    return _layer(op, dt, [_sliced(dt, inp, out, picks)])


@lowering("STRIDED_SLICE", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_strided_copy_s8", "cg_strided_copy_f32", "cg_strided_copy_s16"))
def strided_slice(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.StridedSlice, op)
    inp, (out,), dt = _io(ctx, op)
    require(not (op.ellipsis_mask or op.new_axis_mask or op.offset),
            "STRIDED_SLICE with an ellipsis mask, a new-axis mask or offset is not implemented (TFLM ignores them)")
    rank = len(inp.shape)
    begin, end, strides = (_ints(ctx, op, i, w) for i, w in ((1, "begin"), (2, "end"), (3, "strides")))
    require(len(begin) == len(end) == len(strides) == rank, "STRIDED_SLICE begin/end/strides do not match the rank")
    require(0 not in strides, "STRIDED_SLICE stride is 0")
    axes = semantics.strided_slice_axes(inp.shape, begin, end, strides, op.begin_mask, op.end_mask,
                                        op.shrink_axis_mask)
    return _layer(op, dt, [_sliced(dt, inp, out, axes)])


@lowering("SLICE", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_strided_copy_s8", "cg_strided_copy_f32", "cg_strided_copy_s16"))
def slice_(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, (out,), dt = _io(ctx, op)
    begin, size = _ints(ctx, op, 1, "begin"), _ints(ctx, op, 2, "size")
    require(len(begin) == len(size) == len(inp.shape), "SLICE begin/size do not match the rank")
    try:
        axes = semantics.slice_axes(inp.shape, begin, size)
    except ValueError as exc:
        raise Unsupported(str(exc)) from exc
    return _layer(op, dt, [_sliced(dt, inp, out, axes)])


def _split(ctx: LowerContext, op: ir.Operator, inp: ir.Tensor, outs: list[ir.Tensor], dt: str, axis: int,
           sizes: list[int]) -> Layer:
    rank = len(inp.shape)
    require(-rank <= axis < rank, f"{op.op} axis {axis} is out of range")
    axis %= rank
    require(sum(sizes) == inp.shape[axis], f"{op.op} sizes {sizes} do not add up to {inp.shape[axis]}")
    calls, start = [], 0
    for out, n in zip(outs, sizes, strict=True):
        picks = [(start if d == axis else 0, n if d == axis else s, 1) for d, s in enumerate(inp.shape)]
        calls.append(_sliced(dt, inp, out, picks))
        start += n
    return _layer(op, dt, calls)


@lowering("SPLIT", **_COPY16)
def split(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, outs, dt = _io(ctx, op, data=1)
    axis = _ints(ctx, op, 0, "axis")[0]
    n = len(outs)
    dim = inp.shape[axis % max(len(inp.shape), 1)] if inp.shape else 0
    require(n > 0 and dim % n == 0, f"SPLIT of {dim} values into {n} equal parts")
    return _split(ctx, op, inp, outs, dt, axis, [dim // n] * n)


@lowering("SPLIT_V", **_COPY16)
def split_v(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, outs, dt = _io(ctx, op)
    sizes, axis = _ints(ctx, op, 1, "size_splits"), _ints(ctx, op, 2, "axis")[0]
    require(len(sizes) == len(outs), "SPLIT_V has as many sizes as outputs")
    rank = len(inp.shape)
    require(-rank <= axis < rank, f"SPLIT_V axis {axis} is out of range")
    if -1 in sizes:
        require(sizes.count(-1) == 1, "SPLIT_V has more than one -1 size")
        known = sum(s for s in sizes if s != -1)
        sizes = [inp.shape[axis % rank] - known if s == -1 else s for s in sizes]
    return _split(ctx, op, inp, outs, dt, axis, sizes)


@lowering("PACK", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_concatenation_s8", "cg_concatenation_f32", "cg_concatenation_s16"))
def pack(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.Pack, op)
    out = ctx.output(op)
    ins = [ctx.input(op, k) for k in range(len(op.inputs))]
    if int16.is_int16(out):  # TFLM copies the int16 values: every input must have the output's quantization
        require(all(int16.is_int16(t) and t.quant == out.quant for t in ins if t is not None),
                "int16 PACK changes the element type or quantization")
        dt = "s16"
    else:
        dt = same_dtype(op.op, *ins, out)
    shape = ins[0].shape if ins[0] is not None else ()
    rank = len(shape) + 1
    require(-rank <= op.axis < rank, f"PACK axis {op.axis} is out of range")
    axis = op.axis % rank
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    copy = int(np.prod(shape[axis:], dtype=np.int64))
    ctype = _ctype(dt)
    calls = []
    for k, t in enumerate(ins):
        if t is None:
            raise Unsupported(f"PACK input {k} is missing")
        require(t.shape == shape, "PACK inputs differ in shape")
        require(not t.is_constant, "PACK of a constant tensor is not implemented")
        params = (("outer", outer), ("copy_size", copy), ("out_stride", len(ins) * copy), ("out_offset", k * copy))
        calls.append(KernelCall(f"cg_concatenation_{dt}", "cg_concatenation_params", params,
                                ((f"const {ctype} *", TensorRef(t.index)), (f"{ctype} *", TensorRef(out.index)))))
    return _layer(op, dt, calls)


@lowering("UNPACK", **_COPY16)
def unpack(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.Unpack, op)
    inp, outs, dt = _io(ctx, op)
    rank = len(inp.shape)
    require(-rank <= op.axis < rank and inp.shape[op.axis] == len(outs), "UNPACK axis does not match the outputs")
    axis = op.axis % rank
    calls = []
    for k, out in enumerate(outs):
        picks = [(k if d == axis else 0, 1 if d == axis else s, 1) for d, s in enumerate(inp.shape)]
        calls.append(_sliced(dt, inp, out, picks))
    return _layer(op, dt, calls)


@lowering("DEPTH_TO_SPACE", dtypes=("int8", "float32"), kernels=("cg_strided_copy_s8", "cg_strided_copy_f32"))
def depth_to_space(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.DepthToSpace, op)
    inp, (out,), dt = _io(ctx, op)
    i, bs = nhwc(inp.shape, "input"), op.block_size
    require(bs >= 1 and i.c % (bs * bs) == 0, f"DEPTH_TO_SPACE block {bs} does not divide {i.c} channels")
    c = i.c // (bs * bs)
    # output (n, h, by, w, bx, c) <- input (n, h, w, (by * bs + bx) * c + c)
    axes = [(i.n, i.h * i.w * i.c), (i.h, i.w * i.c), (bs, bs * c), (i.w, i.c), (bs, c), (c, 1)]
    return _layer(op, dt, [copy_call(dt, inp.index, out.index, axes)])


@lowering("SPACE_TO_DEPTH", dtypes=("int8", "float32"), kernels=("cg_strided_copy_s8", "cg_strided_copy_f32"))
def space_to_depth(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.SpaceToDepth, op)
    inp, (out,), dt = _io(ctx, op)
    i, bs = nhwc(inp.shape, "input"), op.block_size
    require(bs >= 1 and i.h % bs == 0 and i.w % bs == 0, f"SPACE_TO_DEPTH block {bs} does not divide {i.h}x{i.w}")
    # output (n, h, w, by, bx, c) <- input (n, h * bs + by, w * bs + bx, c)
    axes = [(i.n, i.h * i.w * i.c), (i.h // bs, bs * i.w * i.c), (i.w // bs, bs * i.c), (bs, i.w * i.c),
            (bs, i.c), (i.c, 1)]
    return _layer(op, dt, [copy_call(dt, inp.index, out.index, axes)])


def nearest_indices(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> list[int]:
    """TFLM ``GetNearestNeighbor`` for every output coordinate (float32 arithmetic as in the C++)."""
    f = np.float32
    if align_corners and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    else:
        scale = f(in_size) / f(out_size)
    offset = f(0.5) if half_pixel_centers else f(0.0)
    out = []
    for v in range(out_size):
        x = f(f(v) + offset) * scale
        idx = int(np.copysign(np.floor(abs(x) + 0.5), x)) if align_corners else int(np.floor(x))
        idx = min(idx, in_size - 1)
        out.append(max(idx, 0) if half_pixel_centers else idx)
    return out


@lowering("RESIZE_NEAREST_NEIGHBOR", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_resize_nearest_s8", "cg_resize_nearest_f32", "cg_resize_nearest_s16"))
def resize_nearest(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.ResizeNearestNeighbor, op)
    inp, (out,), dt = _io(ctx, op)
    i, o = nhwc(inp.shape, "input"), nhwc(out.shape, "output")
    require(i.n == o.n and i.c == o.c, "RESIZE_NEAREST_NEIGHBOR changes the batch or channel count")
    size = _ints(ctx, op, 1, "size")
    require(size == [o.h, o.w], f"RESIZE_NEAREST_NEIGHBOR size {size} differs from the output {o.h}x{o.w}")
    rows = nearest_indices(i.h, o.h, op.align_corners, op.half_pixel_centers)
    cols = nearest_indices(i.w, o.w, op.align_corners, op.half_pixel_centers)
    require(min(rows + cols, default=0) >= 0, "RESIZE_NEAREST_NEIGHBOR source index is negative")
    consts = (ConstArray(f"l{op.index}_rows", np.array(rows, dtype=np.int32), weight=False),
              ConstArray(f"l{op.index}_cols", np.array(cols, dtype=np.int32), weight=False))
    ctype = _ctype(dt)
    params = (("input", i), ("output", o), ("rows", ConstRef(consts[0].name)), ("cols", ConstRef(consts[1].name)))
    call = KernelCall(f"cg_resize_nearest_{dt}", "cg_resize_nearest_params", params,
                      ((f"const {ctype} *", TensorRef(inp.index)), (f"{ctype} *", TensorRef(out.index))))
    return _layer(op, dt, [call], consts)


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def bilinear_int(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool) -> list[int]:
    """TFLM ``ComputeInterpolationValuesInteger`` per output coordinate: flat (lower, upper, value - 1024 * lower)."""
    scale = _c_div((1 << 10) * in_size + out_size // 2, out_size)
    if align_corners and out_size > 1:
        scale = _c_div((1 << 10) * (in_size - 1) + (out_size - 1) // 2, out_size - 1)
    flat = []
    for v in range(out_size):
        scaled = v * scale + _c_div(scale, 2) - (1 << 9) if half_pixel_centers else v * scale
        lo = max(_c_div(scaled, 1 << 10), 0)
        hi = min(_c_div(scaled + (1 << 10) - 1, 1 << 10), in_size - 1)
        flat += [lo, hi, scaled - (1 << 10) * lo]
    return flat


def bilinear_float(in_size: int, out_size: int, align_corners: bool, half_pixel_centers: bool
                   ) -> tuple[list[int], list[float]]:
    """TFLM ``ComputeInterpolationValues`` (float32): flat (lower, upper) and the source coordinate per output."""
    f = np.float32
    scale = f(in_size) / f(out_size)
    if align_corners and out_size > 1:
        scale = f(in_size - 1) / f(out_size - 1)
    bounds_, pos = [], []
    for v in range(out_size):
        x = f(f(f(v) + f(0.5)) * scale) - f(0.5) if half_pixel_centers else f(f(v) * scale)
        bounds_ += [max(int(np.floor(x)), 0), min(int(np.ceil(x)), in_size - 1)]
        pos.append(float(x))
    return bounds_, pos


@lowering("RESIZE_BILINEAR", dtypes=("int8", "float32"), kernels=("cg_resize_bilinear_s8", "cg_resize_bilinear_f32"))
def resize_bilinear(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.ResizeBilinear, op)
    inp, (out,), dt = _io(ctx, op)
    i, o = nhwc(inp.shape, "input"), nhwc(out.shape, "output")
    require(i.n == o.n and i.c == o.c, "RESIZE_BILINEAR changes the batch or channel count")
    size = _ints(ctx, op, 1, "size")
    require(size == [o.h, o.w], f"RESIZE_BILINEAR size {size} differs from the output {o.h}x{o.w}")
    require(not (op.align_corners and op.half_pixel_centers),
            "RESIZE_BILINEAR with both align_corners and half_pixel_centers (TFLM refuses it)")
    x = op.index
    ctype = _ctype(dt)
    if dt == "s8":
        consts: tuple[ConstArray, ...] = (
            ConstArray(f"l{x}_rows", np.array(bilinear_int(i.h, o.h, op.align_corners, op.half_pixel_centers),
                                              np.int32), weight=False),
            ConstArray(f"l{x}_cols", np.array(bilinear_int(i.w, o.w, op.align_corners, op.half_pixel_centers),
                                              np.int32), weight=False),
        )
        params: tuple = (("input", i), ("output", o), ("rows", ConstRef(consts[0].name)),
                         ("cols", ConstRef(consts[1].name)))
        ptype = "cg_resize_bilinear_s8_params"
    else:
        rb, rp = bilinear_float(i.h, o.h, op.align_corners, op.half_pixel_centers)
        cb, cp = bilinear_float(i.w, o.w, op.align_corners, op.half_pixel_centers)
        consts = (ConstArray(f"l{x}_rows", np.array(rb, np.int32), weight=False),
                  ConstArray(f"l{x}_cols", np.array(cb, np.int32), weight=False),
                  ConstArray(f"l{x}_row_pos", np.array(rp, np.float32), weight=False),
                  ConstArray(f"l{x}_col_pos", np.array(cp, np.float32), weight=False))
        params = (("input", i), ("output", o), *((k, ConstRef(c.name)) for k, c in
                                                 zip(("rows", "cols", "row_pos", "col_pos"), consts, strict=True)))
        ptype = "cg_resize_bilinear_f32_params"
    call = KernelCall(f"cg_resize_bilinear_{dt}", ptype, params,
                      ((f"const {ctype} *", TensorRef(inp.index)), (f"{ctype} *", TensorRef(out.index))))
    return _layer(op, dt, [call], consts)


@lowering("GATHER", dtypes=("int8", "float32"), kernels=("cg_gather_s8", "cg_gather_f32"))
def gather(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = cast(ir.Gather, op)
    inp, (out,), dt = _io(ctx, op)
    coords = _ints(ctx, op, 1, "indices")
    rank = len(inp.shape)
    require(op.batch_dims == 0, "GATHER with batch_dims is not implemented")
    require(-rank <= op.axis < rank, f"GATHER axis {op.axis} is out of range")
    axis = op.axis % rank
    size = inp.shape[axis]
    require(all(0 <= k < size for k in coords), f"GATHER index out of range 0..{size - 1}")
    outer = int(np.prod(inp.shape[:axis], dtype=np.int64))
    inner = int(np.prod(inp.shape[axis + 1:], dtype=np.int64))
    require(outer * len(coords) * inner == out.size, "GATHER output size differs from the indices")
    const = ConstArray(f"l{op.index}_coords", np.array(coords, np.int32), weight=False)
    ctype = _ctype(dt)
    params = (("outer", outer), ("axis_size", size), ("inner", inner), ("count", len(coords)),
              ("coords", ConstRef(const.name)))
    call = KernelCall(f"cg_gather_{dt}", "cg_gather_params", params,
                      ((f"const {ctype} *", TensorRef(inp.index)), (f"{ctype} *", TensorRef(out.index))))
    return _layer(op, dt, [call], (const,))


@lowering("EXPAND_DIMS", dtypes=("any",), kernels=())
def expand_dims(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out = ctx.input(op, 0), ctx.output(op)
    if inp is None:
        raise Unsupported("EXPAND_DIMS has no input")
    require(inp.nbytes == out.nbytes, "EXPAND_DIMS changes the tensor size")
    require(inp.data is None, "EXPAND_DIMS of a constant tensor is not implemented (it should have been folded)")
    return Layer(op.index, op.op, dtype_key(inp), (), alias_of=inp.index, output=out.index)


def _minmax(ctx: LowerContext, op: ir.Operator, kind: str) -> Layer:
    a, b, out = ctx.input(op, 0), ctx.input(op, 1), ctx.output(op)
    if a is None or b is None:
        raise Unsupported(f"{op.op} needs two inputs")
    if all(int16.is_int16(t) for t in (a, b, out)):  # 16x8: TFLM picks raw int16 values as for int8
        dt = "s16"
    else:
        dt = same_dtype(op.op, a, b, out)
    ctype = _ctype(dt)
    consts, operands = [], []
    for k, t in enumerate((a, b)):
        if t.data is not None:
            c = ConstArray(f"l{op.index}_in{k}", np.ascontiguousarray(t.data).astype(t.dtype.np).reshape(-1),
                           source_tensor=t.index)
            consts.append(c)
            operands.append(ConstRef(c.name))
        else:
            operands.append(TensorRef(t.index))
    call = KernelCall(
        f"cg_{kind}_{dt}", "cg_broadcast_params", broadcast_params(a.shape, b.shape, out.shape),
        ((f"const {ctype} *", operands[0]), (f"const {ctype} *", operands[1]), (f"{ctype} *", TensorRef(out.index))),
    )
    return _layer(op, dt, [call], tuple(consts))


@lowering("MAXIMUM", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_maximum_s8", "cg_maximum_f32", "cg_maximum_s16"))
def maximum(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _minmax(ctx, op, "maximum")


@lowering("MINIMUM", dtypes=("int8", "float32", int16.DTYPE),
          kernels=("cg_minimum_s8", "cg_minimum_f32", "cg_minimum_s16"))
def minimum(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _minmax(ctx, op, "minimum")


# ------------------------------------------------------------------------------- bounds-proof extent rules


@bounds.extent("cg_strided_copy_params")
def _copy_extent(p: bounds.Params) -> bounds.Extents:
    counts, strides, offset = p["count"], p["in_stride"], p["in_offset"]
    total = int(np.prod(counts, dtype=np.int64))
    if total == 0:
        return bounds.Extents((0, 0))
    lo = offset + sum((c - 1) * s for c, s in zip(counts, strides, strict=True) if s < 0)
    hi = offset + sum((c - 1) * s for c, s in zip(counts, strides, strict=True) if s > 0)
    if lo < 0:
        raise bounds.BoundsError(f"strided copy reads input element {lo}",
                                 hint="this is a bug in the native backend; please report it with the model")
    return bounds.Extents((hi + 1, total))


@bounds.extent("cg_resize_nearest_params")
def _resize_extent(p: bounds.Params) -> bounds.Extents:
    i, o = p["input"], p["output"]
    return bounds.Extents((i.n * i.h * i.w * i.c, o.n * o.h * o.w * o.c), {"rows": o.h, "cols": o.w})


@bounds.extent("cg_resize_bilinear_s8_params", "cg_resize_bilinear_f32_params")
def _bilinear_extent(p: bounds.Params) -> bounds.Extents:
    i, o = p["input"], p["output"]
    per = 3 if "row_pos" not in p else 2
    extra = {"row_pos": o.h, "col_pos": o.w} if per == 2 else {}
    return bounds.Extents((i.n * i.h * i.w * i.c, o.n * o.h * o.w * o.c), {"rows": per * o.h, "cols": per * o.w,
                                                                           **extra})


@bounds.extent("cg_gather_params")
def _gather_extent(p: bounds.Params) -> bounds.Extents:
    n = p["outer"] * p["count"] * p["inner"]
    return bounds.Extents((p["outer"] * p["axis_size"] * p["inner"] if n else 0, n), {"coords": p["count"]})


@bounds.extent("cg_broadcast_params")
def _minmax_extent(p: bounds.Params) -> bounds.Extents:
    return bounds.Extents(bounds._broadcast_extents(p))
