"""Shape rules of the layout and min/max operators (TRANSPOSE, REVERSE_V2, slices, splits, PACK/UNPACK,
depth/space moves, RESIZE_NEAREST_NEIGHBOR, MAXIMUM, MINIMUM), with TFLM's index semantics
(:mod:`codegen.ir.semantics`)."""

from __future__ import annotations

from typing import cast

from codegen import ir
from codegen.ir import semantics
from codegen.validation.rules import OpCheck, RuleResult, shape_rule


def _ints(c: OpCheck, i: int, what: str) -> list[int]:
    return [int(v) for v in c.int_const(i, what).reshape(-1)]


@shape_rule("TRANSPOSE", inputs=2)
def _transpose(c: OpCheck) -> RuleResult:
    x = c.input(0)
    try:
        perm = semantics.transpose_perm(_ints(c, 1, "permutation"), len(x.shape))
    except ValueError as exc:
        c.fail(str(exc))
    return tuple(x.shape[a] for a in perm)


@shape_rule("REVERSE_V2", inputs=2)
def _reverse(c: OpCheck) -> RuleResult:
    x, axes = c.input(0), c.input(1, "axes")
    c.rank(axes, (1,), "axes")
    try:
        semantics.reverse_axes(_ints(c, 1, "axes"), len(x.shape))
    except ValueError as exc:
        c.fail(str(exc))
    return tuple(x.shape)


@shape_rule("STRIDED_SLICE", inputs=4)
def _strided_slice(c: OpCheck) -> RuleResult:
    op = cast(ir.StridedSlice, c.op)
    x = c.input(0)
    rank = len(x.shape)
    begin, end, strides = _ints(c, 1, "begin"), _ints(c, 2, "end"), _ints(c, 3, "strides")
    c.require(len(begin) == len(end) == len(strides) == rank,
              f"begin/end/strides have {len(begin)}/{len(end)}/{len(strides)} values for rank {rank}")
    c.require(0 not in strides, "a stride is 0")
    if op.ellipsis_mask or op.new_axis_mask or op.offset:
        return None  # TFLM ignores these; the kernels refuse them
    axes = semantics.strided_slice_axes(x.shape, begin, end, strides, op.begin_mask, op.end_mask,
                                        op.shrink_axis_mask)
    return tuple(n for d, (_, n, _) in enumerate(axes) if not op.shrink_axis_mask & (1 << d))


@shape_rule("SLICE", inputs=3)
def _slice(c: OpCheck) -> RuleResult:
    x = c.input(0)
    begin, size = _ints(c, 1, "begin"), _ints(c, 2, "size")
    c.require(len(begin) == len(size) == len(x.shape), f"begin/size do not have {len(x.shape)} values")
    try:
        return tuple(n for _, n, _ in semantics.slice_axes(x.shape, begin, size))
    except ValueError as exc:
        c.fail(str(exc))


def _split_shapes(c: OpCheck, x: ir.Tensor, axis: int, sizes: list[int]) -> list[tuple[int, ...]]:
    axis = c.axis(axis, len(x.shape))
    c.require(sum(sizes) == x.shape[axis] and min(sizes, default=0) >= 0,
              f"split sizes {sizes} do not add up to axis {axis} of size {x.shape[axis]}")
    return [tuple(n if d == axis else s for d, s in enumerate(x.shape)) for n in sizes]


@shape_rule("SPLIT", inputs=2, outputs=-1)
def _split(c: OpCheck) -> RuleResult:
    x, n = c.input(1), len(c.op.outputs)
    axis = _ints(c, 0, "axis")[0]
    dim = x.shape[c.axis(axis, len(x.shape))]
    c.require(n > 0 and dim % n == 0, f"axis of size {dim} cannot be split into {n} equal parts")
    return _split_shapes(c, x, axis, [dim // n] * n)


@shape_rule("SPLIT_V", inputs=3, outputs=-1)
def _split_v(c: OpCheck) -> RuleResult:
    x = c.input(0)
    sizes, axis = _ints(c, 1, "size_splits"), _ints(c, 2, "axis")[0]
    c.require(len(sizes) == len(c.op.outputs), f"{len(sizes)} sizes for {len(c.op.outputs)} outputs")
    if -1 in sizes:
        c.require(sizes.count(-1) == 1, "more than one size is -1")
        dim = x.shape[c.axis(axis, len(x.shape))]
        sizes = [dim - sum(s for s in sizes if s != -1) if s == -1 else s for s in sizes]
    return _split_shapes(c, x, axis, sizes)


@shape_rule("PACK", inputs=(1, 1 << 20))
def _pack(c: OpCheck) -> RuleResult:
    op = cast(ir.Pack, c.op)
    ins = [c.input(i) for i in range(len(op.inputs))]
    for k, t in enumerate(ins):
        c.require(t.shape == ins[0].shape, f"input {k} has shape {list(t.shape)}, input 0 {list(ins[0].shape)}")
    axis = c.axis(op.axis, len(ins[0].shape) + 1)
    shape = list(ins[0].shape)
    shape.insert(axis, len(ins))
    return tuple(shape)


@shape_rule("UNPACK", outputs=-1)
def _unpack(c: OpCheck) -> RuleResult:
    op = cast(ir.Unpack, c.op)
    x = c.input(0)
    axis = c.axis(op.axis, len(x.shape))
    c.require(x.shape[axis] == len(op.outputs), f"axis {axis} has {x.shape[axis]} values, {len(op.outputs)} outputs")
    return [tuple(s for d, s in enumerate(x.shape) if d != axis)] * len(op.outputs)


@shape_rule("DEPTH_TO_SPACE", "SPACE_TO_DEPTH")
def _depth_space(c: OpCheck) -> RuleResult:
    bs = int(getattr(c.op, "block_size", 0))
    x = c.input(0)
    c.rank(x, (4,), "input")
    n, h, w, ch = x.shape
    c.require(bs >= 1, f"block size {bs} must be at least 1")
    if c.op.op == "DEPTH_TO_SPACE":
        c.require(ch % (bs * bs) == 0, f"{ch} channels are not a multiple of block size {bs} squared")
        return (n, h * bs, w * bs, ch // (bs * bs))
    c.require(h % bs == 0 and w % bs == 0, f"height {h} / width {w} are not multiples of block size {bs}")
    return (n, h // bs, w // bs, ch * bs * bs)


@shape_rule("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", inputs=2)
def _resize(c: OpCheck) -> RuleResult:
    x = c.input(0)
    c.rank(x, (4,), "input")
    size = _ints(c, 1, "size")
    c.require(len(size) == 2 and min(size) >= 1, f"size {size} must be two positive values")
    return (x.shape[0], size[0], size[1], x.shape[3])


@shape_rule("MAXIMUM", "MINIMUM", inputs=2)
def _minmax(c: OpCheck) -> RuleResult:
    return c.broadcast(c.input(0).shape, c.input(1).shape)


@shape_rule("PRELU", "SQUARED_DIFFERENCE", inputs=2)
def _broadcast_binary(c: OpCheck) -> RuleResult:
    return c.broadcast(c.input(0).shape, c.input(1).shape)


@shape_rule("EXP", "RSQRT")
def _unary(c: OpCheck) -> RuleResult:
    return c.input(0).shape


@shape_rule("GATHER", inputs=2)
def _gather(c: OpCheck) -> RuleResult:
    op = cast(ir.Gather, c.op)
    x, idx = c.input(0), c.input(1, "indices")
    axis = c.axis(op.axis, len(x.shape))
    batch = op.batch_dims + len(idx.shape) if op.batch_dims < 0 else op.batch_dims
    c.require(0 <= batch <= min(axis, len(idx.shape)), f"batch_dims {op.batch_dims} is out of range")
    if idx.data is not None and idx.data.size:
        c.require(int(idx.data.min()) >= 0 and int(idx.data.max()) < x.shape[axis],
                  f"an index is outside 0..{x.shape[axis] - 1}")
    return (*x.shape[:axis], *idx.shape[batch:], *x.shape[axis + 1:])


@shape_rule("EXPAND_DIMS", inputs=2)
def _expand_dims(c: OpCheck) -> RuleResult:
    x = c.input(0)
    axis = _ints(c, 1, "axis")
    c.require(len(axis) == 1, "axis must hold one value")
    shape = list(x.shape)
    shape.insert(c.axis(axis[0], len(shape) + 1), 1)
    return tuple(shape)


@shape_rule("TRANSPOSE_CONV", inputs=(3, 4), optional=(3,))
def _transpose_conv(c: OpCheck) -> RuleResult:
    w, x = c.input(1, "filter"), c.input(2)
    computed = c.input(0, "output shape").data is None  # e.g. SHAPE -> PACK for a dynamic batch: folded later
    shape = list(c.output().shape) if computed else _ints(c, 0, "output shape")
    c.rank(w, (4,), "filter")
    c.rank(x, (4,), "input")
    c.require(len(shape) == 4, f"output shape {shape} must have 4 values")
    c.require(w.shape[3] == x.shape[3], f"filter depth {w.shape[3]} differs from the input channels {x.shape[3]}")
    c.require(shape[3] == w.shape[0] and shape[0] == x.shape[0], f"output shape {shape} does not match filter/input")
    b = c.optional(3)
    if b is not None:
        c.require(b.size == w.shape[0], f"bias (tensor {b.index}) has {b.size} values for {w.shape[0]} channels")
    return tuple(shape)


@shape_rule("BATCH_MATMUL", inputs=2)
def _batch_matmul(c: OpCheck) -> RuleResult:
    op = cast(ir.BatchMatMul, c.op)
    a, b = c.input(0), c.input(1)
    c.require(len(a.shape) >= 2 and len(b.shape) >= 2, "operands must have rank >= 2")
    rows, depth = (a.shape[-1], a.shape[-2]) if op.adj_x else (a.shape[-2], a.shape[-1])
    depth_b, cols = (b.shape[-1], b.shape[-2]) if op.adj_y else (b.shape[-2], b.shape[-1])
    c.require(depth == depth_b, f"depths {depth} and {depth_b} differ")
    return (*c.broadcast(a.shape[:-2], b.shape[:-2]), rows, cols)


@shape_rule("ARG_MAX", "ARG_MIN", inputs=2)
def _arg_min_max(c: OpCheck) -> RuleResult:
    x = c.input(0)
    axis = _ints(c, 1, "axis")
    c.require(len(axis) == 1, "axis must hold one value")
    a = c.axis(axis[0], len(x.shape))
    return (*x.shape[:a], *x.shape[a + 1:])
