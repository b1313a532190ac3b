"""Generation-time bounds proof: every kernel call reads and writes inside the buffers it is given.

After lowering and memory planning, :func:`prove` evaluates, for each kernel call, how many elements the C
kernel touches through each pointer argument, with the same formulas as its loops (an *extent rule* per kernel,
keyed by kernel name or, for kernel families sharing a parameter struct, by the struct type), and checks:

- an activation tensor argument: the extent fits the tensor (``nbytes``), and the tensor lies inside the arena;
- a constant argument (filter, bias, multipliers named in the parameters): the extent fits the constant;
- a variable (state) tensor argument: the extent fits the tensor, which lies inside the static state buffer
  (the planner keeps state out of the arena);
- the scratch argument: the extent fits the layer's planned scratch, inside the arena;
- every graph input/output and every planned buffer lies inside the arena.

Anything unproven raises :class:`BoundsError` (exit 2): the emitter then writes nothing. A kernel without an
extent rule is refused too, so a new kernel needs one: write a function that takes the call's parameters (a
dict; nested structs such as ``cg_dims`` arrive as :class:`Dims`, arrays as tuples) and returns one element
count per pointer argument in call order (``None`` for arguments it does not touch; variants with fewer
arguments, e.g. without scratch, use the leading ones) and, for constant arrays named in the
parameters (e.g. ``multiplier``), their element counts::

    @extent("cg_my_op_s8")
    def _my_op(p: Params) -> Extents:
        return Extents(args=(p["size"], p["size"]))

:func:`arena_regions` lists, per layer, the arena regions its kernels may touch: the ``CG_CHECK_BOUNDS`` build
of the generated network poisons the rest of the arena with AddressSanitizer around each layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from codegen import ir
from codegen.backend.native.layers import ConstArray, ConstRef, Dims, KernelCall, Layer, Literal, ScratchRef, TensorRef
from codegen.backend.native.planner import MemoryPlan
from codegen.compress.huffman import SCRATCH_BYTES as HUFFMAN_SCRATCH_BYTES
from codegen.errors import CodegenError

Params = dict[str, Any]

_ELEM = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "int32_t": 4, "int64_t": 8, "float": 4, "void": 1}


class BoundsError(CodegenError):
    """A kernel call could read or write outside its buffers: nothing is emitted."""


@dataclass(frozen=True)
class Extents:
    """Elements touched through each pointer argument (``None``: not touched), and through constant arrays
    named in the parameters."""

    args: tuple[int | None, ...]
    params: dict[str, int] = field(default_factory=dict)


ExtentFn = Callable[[Params], Extents]
EXTENTS: dict[str, ExtentFn] = {}


def extent(*names: str) -> Callable[[ExtentFn], ExtentFn]:
    """Register the extent rule of kernels (by C function name) or of a parameter struct type."""

    def deco(fn: ExtentFn) -> ExtentFn:
        for name in names:
            if name in EXTENTS:
                raise TypeError(f"extent rule for {name} registered twice")
            EXTENTS[name] = fn
        return fn

    return deco


def _params(call: KernelCall) -> Params:
    def conv(v: Any) -> Any:
        if isinstance(v, tuple) and v and isinstance(v[0], tuple) and len(v[0]) == 2 and isinstance(v[0][0], str):
            return {k: conv(x) for k, x in v}
        return v

    params = {k: conv(v) for k, v in call.params}
    # integer arguments passed as C literals (e.g. a block count), as "#arg<k>"
    params.update({f"#arg{k}": int(op.text.rstrip("u")) for k, (_, op) in enumerate(call.args)
                   if isinstance(op, Literal) and op.text.rstrip("u").lstrip("-").isdigit()})
    return params


def _elem_size(ctype: str) -> int:
    base = ctype.replace("const", "").replace("*", "").strip()
    return _ELEM.get(base, 1)


def _vol(d: Dims, batch: int | None = None) -> int:
    return (d.n if batch is None else batch) * d.h * d.w * d.c


def _prod(xs: tuple[int, ...] | list[int]) -> int:
    n = 1
    for x in xs:
        n *= int(x)
    return n


# --------------------------------------------------------------------------------------------- rules


@extent("cg_conv2d_s8_params", "cg_conv2d_f32_params")
def _conv(p: Params) -> Extents:
    i, f, o = p["input"], p["filter"], p["output"]
    batch = max(i.n, o.n)
    k = f.h * f.w * max(f.c, i.c)
    args: tuple[int | None, ...] = (
        _vol(i, batch), max(f.n, o.c) * k, o.c, _vol(o, batch), 2 * _pad4(f.h * f.w * i.c),  # two int8 patches
    )
    return Extents(args, {"multiplier": o.c, "shift": o.c})


def _pad4(n: int) -> int:
    return (n + 3) // 4 * 4


@extent("cg_conv2d_dsp_s8", "cg_conv2d_dsp_w8_s8")
def _conv_dsp(p: Params) -> Extents:
    """cg_conv2d_dsp_s8 (weights widened to int16) and cg_conv2d_dsp_w8_s8 (int8): kernel rows padded to 4
    steps, output channels (and the bias) to groups of 4 (extents count elements)."""
    i, f, o = p["input"], p["filter"], p["output"]
    batch = max(i.n, o.n)
    k = f.h * _pad4(f.w * max(f.c, i.c))
    cp = _pad4(max(f.n, o.c))
    args: tuple[int | None, ...] = (
        _vol(i, batch), cp * k, cp, _vol(o, batch),
        2 * k * 2 + 2 * cp * 4,  # scratch in bytes: two int16 patches, the int32 sums of two pixels
    )
    return Extents(args, {"multiplier": o.c, "shift": o.c, "out_stage": 4 * o.c})


@extent("cg_conv2d_dsp_24r_s8")
def _conv_dsp_24r(p: Params) -> Extents:
    """cg_conv2d_dsp_24r_s8: cg_conv2d_dsp_s8's arguments and scratch, the filter the generator's stream."""
    dense = _conv_dsp(p)
    a = dense.args
    return Extents((a[0], None, a[2], a[3], a[4]), dense.params)


@extent("cg_conv2d_dsp_c1_s8")
def _conv_dsp_c1(p: Params) -> Extents:
    """cg_conv2d_dsp_c1_s8: cg_conv2d_dsp_s8's arguments with the taps packed without per-row padding (the first
    4a of each row's 4a + r values, then the values left of all rows, padded to 4 steps)."""
    i, f, o = p["input"], p["filter"], p["output"]
    batch = max(i.n, o.n)
    row = f.w * max(f.c, i.c)
    k = f.h * (row // 4 * 4) + _pad4(f.h * (row % 4))
    cp = _pad4(max(f.n, o.c))
    args: tuple[int | None, ...] = (_vol(i, batch), cp * k, cp, _vol(o, batch), 2 * k * 2 + 2 * cp * 4)
    return Extents(args, {"multiplier": o.c, "shift": o.c, "out_stage": 4 * o.c})


@extent("cg_conv2d_dsp_24_s8")
def _conv_dsp_24(p: Params) -> Extents:
    """cg_conv2d_dsp_24_s8: cg_conv2d_dsp_s8's arguments, but the filter is the generator's self-delimiting
    stream (read to its end, not a function of the parameters) and the scratch adds the patch extension."""
    dense = _conv_dsp(p)
    f, i = p["filter"], p["input"]
    k = f.h * _pad4(f.w * max(f.c, i.c))
    a = dense.args
    return Extents((a[0], None, a[2], a[3], (a[4] or 0) + 8 * k), dense.params)


@extent("cg_conv2d_dsp_cols_s8")
def _conv_dsp_cols(p: Params) -> Extents:
    """cg_conv2d_dsp_cols_s8: cg_conv2d_dsp_s8's arguments, the filter the generator's stream (its reach and its
    offsets checked by :data:`LAYOUTS`), the scratch sized for the densest stream (KH * KW * I steps padded to 4)."""
    dense = _conv_dsp(p)
    f, i, o = p["filter"], p["input"], p["output"]
    scratch = 2 * _pad4(f.h * f.w * max(f.c, i.c)) * 2 + 2 * _pad4(max(f.n, o.c)) * 4
    a = dense.args
    return Extents((a[0], None, a[2], a[3], scratch), dense.params)


@extent("cg_conv2d_cols_s8")
def _conv_cols(p: Params) -> Extents:
    """cg_conv2d_cols_s8: cg_conv2d_s8's arguments and scratch, the filter the generator's stream (its reach and its
    tables checked by :data:`LAYOUTS`)."""
    a = _conv(p).args
    return Extents((a[0], None, a[2], a[3], a[4]), {"multiplier": p["output"].c, "shift": p["output"].c})


@extent("cg_conv2d_dsp_sparse_s8")
def _conv_dsp_sparse(p: Params) -> Extents:
    """Input, the sparse groups (the byte count the kernel is given: it never reads past it; how many it reads
    depends on the bitmaps, checked by :data:`LAYOUTS`), that count, bias (groups of 4), output, the scratch of
    ``#arg6`` groups per block, the block count."""
    from codegen.backend.native.lower.conv_blocks import scratch_bytes

    i, f, o = p["input"], p["filter"], p["output"]
    batch = max(i.n, o.n)
    k = f.h * _pad4(f.w * max(f.c, i.c))
    cp = _pad4(max(f.n, o.c))
    block = min(max(p["#arg6"], 1), cp // 4)
    args = (_vol(i, batch), p["#arg2"], None, cp, _vol(o, batch), scratch_bytes(k, block), None)
    return Extents(args, {"multiplier": o.c, "shift": o.c, "out_stage": 4 * o.c})


@extent("cg_depthwise_conv2d_dsp_s8")
def _depthwise_dsp(p: Params) -> Extents:
    """One int32 stream per group of 4 channels (bias, 16-bit weight pairs, output parameters); scratch: the
    ring of padded input rows."""
    from codegen.backend.native.lower.packing import depthwise_dsp_ring_bytes

    i, f, o = p["input"], p["filter"], p["output"]
    batch = max(i.n, o.n)
    packed = _pad4(o.c) // 4 * (16 + 2 * f.h * f.w)
    ring = depthwise_dsp_ring_bytes(
        i.w, f.h, f.w, o.w, o.c, p["stride_w"], p["dilation_h"], p["dilation_w"], p["pad_w"]
    )
    return Extents((_vol(i, batch), packed, _vol(o, batch), ring))


@extent("cg_fully_connected_dsp_s8")
def _fc_dsp(p: Params) -> Extents:
    """Packed int8 filter and bias: units padded to a multiple of 8, depth to 4 (the input is read in words up
    to depth // 4 and the rest bytewise); no scratch."""
    b, d, u = p["batches"], p["in_depth"], p["out_depth"]
    u8 = -(-u // 8) * 8
    return Extents((b * d, u8 * _pad4(d), u8, b * u), {"multiplier": u, "shift": u, "out_stage": 3 * u8})


@extent("cg_depthwise_conv2d_s8_params", "cg_depthwise_conv2d_f32_params")
def _depthwise(p: Params) -> Extents:
    i, f, o = p["input"], p["filter"], p["output"]
    batch = max(i.n, o.n)
    c = max(o.c, f.c, i.c * p["depth_multiplier"])
    # scratch: a row of input zero points
    return Extents((_vol(i, batch), f.h * f.w * c, c, _vol(o, batch), i.c), {"multiplier": c, "shift": c})


@extent("cg_fully_connected_s8_params", "cg_fully_connected_f32_params")
def _fc(p: Params) -> Extents:
    b, d, u = p["batches"], p["in_depth"], p["out_depth"]
    return Extents((b * d, u * d, u, b * u, d), {"multiplier": u, "shift": u})


@extent("cg_fully_connected_huffman_s8")
def _fc_huffman(p: Params) -> Extents:
    """Input, blob (the decoder never reads outside the byte count it is given: not an extent), bias, output,
    the decoder's tables as scratch."""
    b, d, u = p["batches"], p["in_depth"], p["out_depth"]
    return Extents((b * d, None, u, b * u, HUFFMAN_SCRATCH_BYTES), {"multiplier": u, "shift": u})


@extent("cg_fully_connected_dsp_24_s8")
def _fc_dsp_24(p: Params) -> Extents:
    """The filter is the generator's self-delimiting stream; the scratch the widened input (24 B per 4 inputs)."""
    b, d, u = p["batches"], p["in_depth"], p["out_depth"]
    return Extents((b * d, None, u, b * u, 24 * ((d + 3) // 4)), {"multiplier": u, "shift": u})


@extent("cg_fully_connected_sparse_s8")
def _fc_sparse(p: Params) -> Extents:
    """Input, packed weights (masks plus the non-zero weights: how many bytes depends on the masks, checked by
    :data:`LAYOUTS`), bias, output."""
    b, d, u = p["batches"], p["in_depth"], p["out_depth"]
    return Extents((b * d, None, u, b * u), {"multiplier": u, "shift": u})


def _fc_sparse_layout(p: Params, values: Any) -> int | None:
    from codegen.backend.native.lower.stream import sparse_read_bytes  # lower imports this module

    return sparse_read_bytes(values, p["out_depth"], p["in_depth"])


def _conv_sparse_layout(p: Params, values: Any) -> int | None:
    from codegen.backend.native.lower.conv_blocks import read_bytes  # lower imports this module

    f, i = p["filter"], p["input"]
    read = read_bytes(values, _pad4(f.n) // 4, f.h * _pad4(f.w * max(f.c, i.c)))
    return read if read == p["#arg2"] else None  # the kernel refuses any other byte count at run time


def _conv_cols_layout(p: Params, values: Any) -> int | None:
    from codegen.backend.native.lower.columns import read_bytes  # lower imports this module

    f, i = p["filter"], p["input"]
    return read_bytes(f.n, i.w, i.c, f.h, f.w, p["dilation_h"], p["dilation_w"], values)


def _conv_cols_s8_layout(p: Params, values: Any) -> int | None:
    from codegen.backend.native.lower.columns_s8 import read_bytes  # lower imports this module

    f, i = p["filter"], p["input"]
    return read_bytes(f.n, i.w, i.c, f.h, f.w, p["dilation_h"], p["dilation_w"], values)


#: kernels whose reach into a constant depends on its contents: kernel -> (argument index, rule giving the bytes
#: the kernel reads from that constant's values, None if they point outside it)
LAYOUTS: dict[str, tuple[int, Callable[[Params, Any], int | None]]] = {
    "cg_fully_connected_sparse_s8": (1, _fc_sparse_layout),
    "cg_conv2d_dsp_sparse_s8": (1, _conv_sparse_layout),
    "cg_conv2d_dsp_cols_s8": (1, _conv_cols_layout),
    "cg_conv2d_cols_s8": (1, _conv_cols_s8_layout),
}


@extent("cg_pool_s8_params", "cg_pool_f32_params")
def _pool(p: Params) -> Extents:
    i, o = p["input"], p["output"]
    batch = max(i.n, o.n)
    return Extents((_vol(i, batch), _vol(o, batch)))


@extent("cg_mean_s8_params", "cg_mean_f32_params")
def _mean(p: Params) -> Extents:
    i = p["input"]
    return Extents((_vol(i), i.n * i.c))


def _broadcast_extents(s: Params) -> tuple[int, int, int]:
    """Elements read from input 1, input 2 and written, for ``cg_broadcast_params`` ``s``."""
    if not s["broadcast"]:
        return s["size"], s["size"], s["size"]
    dims = s["out_dims"]
    out = _prod(dims)
    if out == 0:
        return 0, 0, 0
    reach = [1 + sum((dims[d] - 1) * s[key][d] for d in range(4)) for key in ("in1_stride", "in2_stride")]
    return reach[0], reach[1], max(out, s["size"])


@extent("cg_add_s8_params", "cg_mul_s8_params", "cg_binary_f32_params")
def _binary(p: Params) -> Extents:
    a, b, out = _broadcast_extents(p["shape"])
    scratch = 2 * 256 if p["shape"]["size"] >= 1024 else 0  # cg_add_s8_get_scratch_size, in int32
    return Extents((a, b, out, scratch))


@extent("cg_add_dsp_s8")
def _add_dsp(p: Params) -> Extents:
    """Same-shape inputs; the two rescaling tables: 2 * 256 int32."""
    n = p["base"]["shape"]["size"]
    return Extents((n, n, 2 * 256, n))


@extent("cg_mul_dsp_s8")
def _mul_dsp(p: Params) -> Extents:
    """Same-shape inputs and output."""
    n = p["base"]["shape"]["size"]
    return Extents((n, n, n))


@extent("cg_concatenation_params")
def _concat(p: Params) -> Extents:
    outer, copy, stride, offset = p["outer"], p["copy_size"], p["out_stride"], p["out_offset"]
    if outer <= 0 or copy <= 0:
        return Extents((0, 0))
    if offset < 0 or stride < 0:
        raise BoundsError(f"concatenation offset {offset} or stride {stride} is negative",
                          hint="this is a bug in the native backend; please report it with the model")
    return Extents((outer * copy, offset + (outer - 1) * stride + copy))


@extent("cg_pad_params")
def _pad(p: Params) -> Extents:
    ins, before, after = p["in_dims"], p["before"], p["after"]
    if min(*before, *after) < 0:
        raise BoundsError("negative PAD amounts", hint="this is a bug in the native backend; please report it")
    out = _prod([ins[d] + before[d] + after[d] for d in range(4)])
    return Extents((None, _prod(ins), out))  # argument 0 is the pad value, passed by value


@extent("cg_softmax_s8_params", "cg_softmax_f32_params")
def _softmax(p: Params) -> Extents:
    n = p["rows"] * p["depth"]
    return Extents((n, n))


@extent("cg_softmax_s16_params")
def _softmax_s16(p: Params) -> Extents:
    n = p["rows"] * p["depth"]
    return Extents((n, n), {"exp_lut": 513, "one_over_one_plus_x_lut": 513})


@extent("cg_sigmoid_s16_params")
def _sigmoid_s16(p: Params) -> Extents:
    return Extents((p["size"], p["size"]), {"sigmoid_table": 256})


@extent("cg_unary_f32_params", "cg_requant_s8_params", "cg_affine_params", "cg_logistic_s8_params",
        "cg_tanh_s8_params", "cg_leaky_relu_s8_params", "cg_hard_swish_s8_params")
def _elementwise(p: Params) -> Extents:
    return Extents((p["size"], p["size"]))


def rule_for(call: KernelCall) -> ExtentFn | None:
    return EXTENTS.get(call.kernel) or EXTENTS.get(call.params_type)


# --------------------------------------------------------------------------------------------- the proof


def prove(
    graph: ir.Graph,
    layers: tuple[Layer, ...] | list[Layer],
    plan: MemoryPlan,
    consts: dict[str, ConstArray] | None = None,
) -> None:
    """Raise :class:`BoundsError` unless every kernel call stays inside its buffers (see the module docstring)."""
    consts = consts if consts is not None else {c.name: c for layer in layers for c in layer.consts}
    arena = plan.arena_bytes
    offsets = dict(plan.tensor_offsets)
    scratch_offsets = dict(plan.scratch_offsets)
    where = graph.source or graph.name

    def fail(message: str) -> None:
        raise BoundsError(f"{where}: {message}; nothing was written",
                          hint="this is a bug in the native backend; please report it with the model")

    for b in plan.buffers:
        if b.offset < 0 or b.offset + b.size > arena:
            fail(f"planned buffer {b.key} [{b.offset}, {b.offset + b.size}) lies outside the {arena}-byte arena")
    for t in (*graph.inputs, *graph.outputs):
        if t not in offsets:
            fail(f"graph input/output tensor {t} has no place in the arena")
        if offsets[t] + graph.tensors[t].nbytes > arena:
            fail(f"graph input/output tensor {t} ends beyond the {arena}-byte arena")

    for t, offset in plan.state_offsets:
        if offset < 0 or offset + graph.tensors[t].nbytes > plan.state_bytes:
            fail(f"variable tensor {t} ends beyond the {plan.state_bytes}-byte state buffer")
    state = dict(plan.state_offsets)

    for layer in layers:
        label = f"layer {layer.index} ({layer.op})"
        _check_shifts(label, layer, where)
        for call in layer.calls:
            rule = rule_for(call)
            if rule is None:
                fail(f"{label}: kernel {call.kernel} has no extent rule in codegen/backend/native/bounds.py")
            ext = rule(_params(call))
            if len(ext.args) < len(call.args):
                fail(f"{label}: the extent rule of {call.kernel} describes {len(ext.args)} arguments, the call "
                     f"passes {len(call.args)}")
            for k, ((ctype, operand), count) in enumerate(zip(call.args, ext.args[: len(call.args)], strict=True)):
                if count is None or operand is None:
                    continue
                if count < 0:
                    fail(f"{label}: {call.kernel} argument {k} has a negative extent {count}")
                need = count * _elem_size(ctype)
                if isinstance(operand, TensorRef) and operand.tensor in state:
                    t = graph.tensors[operand.tensor]
                    if need > t.nbytes:
                        fail(f"{label}: {call.kernel} argument {k} touches {need} bytes of state tensor {t.index} "
                             f"({t.name}), which holds {t.nbytes}")
                    continue
                _check_operand(label, call.kernel, k, operand, need, layer, graph, offsets, scratch_offsets,
                               consts, arena, fail)
            if call.kernel in LAYOUTS:
                k, reach = LAYOUTS[call.kernel]
                operand = call.args[k][1]
                c = consts.get(operand.name) if isinstance(operand, ConstRef) else None
                if c is None:
                    fail(f"{label}: {call.kernel} argument {k} is not a known constant")
                need = reach(_params(call), c.values)
                if need is None or need > c.nbytes:
                    fail(f"{label}: {call.kernel} would read "
                         f"{'beyond' if need is None else need} bytes of {c.name}, which holds {c.nbytes}")
            p = dict(call.params)
            for name, count in ext.params.items():
                ref = p.get(name)
                if isinstance(ref, ConstRef):
                    c = consts.get(ref.name)
                    if c is None:
                        fail(f"{label}: {call.kernel} parameter {name} names the unknown constant {ref.name}")
                    if count * c.values.itemsize > c.nbytes:
                        fail(f"{label}: {call.kernel} reads {count} values of {name} ({ref.name}), which holds "
                             f"{c.values.size}")


#: shift amounts the C kernels apply (cg_requantize, cg_shl_wrap, cg_rounding_divide_by_pot) without undefined
#: behaviour
SHIFT_RANGE = (-31, 31)


def _check_shifts(label: str, layer: Layer, where: str) -> None:
    """Every requantization shift (parameters named ``*shift``/``*exponent`` and ``*_shift`` arrays) is in
    :data:`SHIFT_RANGE`: larger ones come from quantization scales too far apart for 32-bit arithmetic."""
    lo, hi = SHIFT_RANGE
    values: list[tuple[str, int]] = []
    for call in layer.calls:
        for name, value in call.params:
            if name.endswith(("shift", "exponent")) and isinstance(value, int):
                values.append((name, value))
    for c in layer.consts:
        if c.name.endswith("_shift") and c.values.size:
            values += [(c.name, int(c.values.min())), (c.name, int(c.values.max()))]
    for name, value in values:
        if not lo <= value <= hi:
            raise BoundsError(
                f"{where}: {label}: requantization {name} is {value}, outside [{lo}, {hi}]",
                hint="the model's quantization scales are too far apart for 32-bit fixed-point arithmetic; "
                "re-quantize it with a representative dataset",
            )


def _check_operand(label: str, kernel: str, k: int, operand: Any, need: int, layer: Layer, graph: ir.Graph,
                   offsets: dict[int, int], scratch_offsets: dict[int, int], consts: dict[str, ConstArray],
                   arena: int, fail: Callable[[str], None]) -> None:
    what = f"{label}: {kernel} argument {k}"
    if isinstance(operand, TensorRef):
        t = graph.tensors[operand.tensor]
        if operand.tensor not in offsets:
            fail(f"{what} is tensor {t.index}, which has no place in the arena")
        if need > t.nbytes:
            fail(f"{what} touches {need} bytes of tensor {t.index} ({t.name}), which holds {t.nbytes}")
        if offsets[operand.tensor] + t.nbytes > arena:
            fail(f"{what}: tensor {t.index} ends beyond the {arena}-byte arena")
    elif isinstance(operand, ConstRef):
        c = consts.get(operand.name)
        if c is None:
            fail(f"{what} names the unknown constant {operand.name}")
        elif need > c.nbytes:
            fail(f"{what} reads {need} bytes of constant {operand.name}, which holds {c.nbytes}")
    elif isinstance(operand, ScratchRef):
        if need > layer.scratch_bytes:
            fail(f"{what} uses {need} bytes of scratch, the layer plans {layer.scratch_bytes}")
        if need and layer.index not in scratch_offsets:
            fail(f"{what} uses scratch, but the plan gives the layer none")
        if need and scratch_offsets[layer.index] + layer.scratch_bytes > arena:
            fail(f"{what}: the scratch buffer ends beyond the {arena}-byte arena")


def arena_regions(
    graph: ir.Graph, layer: Layer, position: int, plan: MemoryPlan
) -> list[tuple[int, int]]:
    """Arena regions (offset, bytes) that the kernels of ``layer`` (at ``position`` in the layer list) may touch:
    its output, its tensor arguments, its scratch and the constants decoded for it. Sorted and merged."""
    offsets = dict(plan.tensor_offsets)
    regions: list[tuple[int, int]] = []
    if layer.output in offsets:  # what the layer hook may read, also for aliases (no kernel call)
        regions.append((offsets[layer.output], graph.tensors[layer.output].nbytes))
    for call in layer.calls:
        for _, operand in call.args:
            if isinstance(operand, TensorRef) and operand.tensor in offsets:
                regions.append((offsets[operand.tensor], graph.tensors[operand.tensor].nbytes))
            elif isinstance(operand, ScratchRef) and layer.scratch_bytes:
                regions.append((dict(plan.scratch_offsets)[layer.index], layer.scratch_bytes))
    for b in plan.buffers:
        if b.kind == "decode" and b.first == position:
            regions.append((b.offset, b.size))
    merged: list[tuple[int, int]] = []
    for off, size in sorted(r for r in regions if r[1] > 0):
        if merged and off <= merged[-1][0] + merged[-1][1]:
            last_off, last_size = merged[-1]
            merged[-1] = (last_off, max(last_off + last_size, off + size) - last_off)
        else:
            merged.append((off, size))
    return merged
