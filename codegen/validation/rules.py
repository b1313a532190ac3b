"""Shape rules: one function per operator recomputes its output shape from its inputs and parameters.

See :mod:`codegen.validation` for how to add a rule. A rule only reads the graph; it raises through
:meth:`OpCheck.fail` (the framework prefixes the operator index and name) and returns the expected output
shape(s). Arity (how many operands, which may be absent) and the integer parameters every op family shares
(strides, dilations, filter sizes, depth multiplier >= 1) are checked before the rule runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn, cast

import numpy as np

from codegen import ir

Shape = tuple[int, ...]
RuleResult = Shape | list[Shape] | None

#: Integer operator parameters that must be >= 1 wherever an operator has them.
POSITIVE_PARAMS = ("stride_h", "stride_w", "dilation_h", "dilation_w", "filter_h", "filter_w", "depth_multiplier")


class OpInvalid(Exception):
    """Raised by a rule: the operator is inconsistent. The message names what disagrees (no operator prefix)."""


@dataclass(frozen=True)
class ShapeRule:
    op: str
    fn: Callable[[OpCheck], RuleResult]
    min_inputs: int
    max_inputs: int
    outputs: int
    optional: frozenset[int] = field(default_factory=frozenset)
    variable: frozenset[int] = field(default_factory=frozenset)


SHAPE_RULES: dict[str, ShapeRule] = {}


def shape_rule(
    *ops: str, inputs: int | tuple[int, int] = 1, outputs: int = 1, optional: tuple[int, ...] = (),
    variable: tuple[int, ...] = (),
) -> Callable[[Callable[[OpCheck], RuleResult]], Callable[[OpCheck], RuleResult]]:
    """Register the shape rule of one or more TFLite builtin operators (a name registered twice is an error).

    ``inputs`` is the exact number of input operands or a (min, max) range; ``optional`` lists the input
    positions that may be absent (-1); ``outputs`` is the exact number of outputs; ``variable`` lists the input
    positions that are the operator's state: there, and only there, a variable tensor (``is_variable``, kept
    across inferences) is read, and it must be one (TFLM's Prepare checks the same).
    """
    lo, hi = (inputs, inputs) if isinstance(inputs, int) else inputs

    def deco(fn: Callable[[OpCheck], RuleResult]) -> Callable[[OpCheck], RuleResult]:
        for op in ops:
            if op in SHAPE_RULES:
                raise TypeError(f"shape rule for {op} registered twice")
            SHAPE_RULES[op] = ShapeRule(op, fn, lo, hi, outputs, frozenset(optional), frozenset(variable))
        return fn

    return deco


def _fmt(shape: Shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


class OpCheck:
    """What a rule sees: the operator, its operands, and helpers that fail with a clear message."""

    def __init__(self, graph: ir.Graph, op: ir.Operator) -> None:
        self.graph = graph
        self.op = op

    # -- failing
    @staticmethod
    def fail(message: str) -> NoReturn:
        raise OpInvalid(message)

    def require(self, cond: bool, message: str) -> None:
        if not cond:
            raise OpInvalid(message)

    # -- operands
    def optional(self, i: int) -> ir.Tensor | None:
        if i >= len(self.op.inputs) or self.op.inputs[i] < 0:
            return None
        return self.graph.tensors[self.op.inputs[i]]

    def input(self, i: int, what: str = "") -> ir.Tensor:
        t = self.optional(i)
        if t is None:
            self.fail(f"input {i}{' (' + what + ')' if what else ''} is missing")
        return t

    def output(self, i: int = 0) -> ir.Tensor:
        return self.graph.tensors[self.op.outputs[i]]

    def const(self, i: int, what: str) -> np.ndarray:
        """The constant data of input ``i`` (an integer tensor such as axes, paddings or a shape)."""
        t = self.input(i, what)
        if t.data is None:
            self.fail(f"{what} (tensor {t.index}) must be a constant tensor")
        return t.data

    def int_const(self, i: int, what: str) -> np.ndarray:
        data = self.const(i, what)
        t = self.input(i, what)
        self.require(t.dtype in (ir.DType.INT32, ir.DType.INT64),
                     f"{what} (tensor {t.index}) must be int32 or int64, not {t.dtype.value}")
        return data.astype(np.int64)

    def rank(self, t: ir.Tensor, ranks: tuple[int, ...], what: str) -> None:
        if len(t.shape) not in ranks:
            want = " or ".join(str(r) for r in ranks)
            self.fail(f"{what} (tensor {t.index}) must have rank {want}, has shape {_fmt(t.shape)}")

    def axis(self, axis: int, rank: int, what: str = "axis") -> int:
        if not -rank <= axis < max(rank, 1):
            self.fail(f"{what} {axis} is out of range for rank {rank}")
        return axis % max(rank, 1)

    def broadcast(self, a: Shape, b: Shape) -> Shape:
        """NumPy/TFLite broadcasting of two shapes."""
        n = max(len(a), len(b))
        a4, b4 = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
        out = []
        for x, y in zip(a4, b4, strict=True):
            if x != y and 1 not in (x, y):
                self.fail(f"input shapes {_fmt(a)} and {_fmt(b)} do not broadcast")
            out.append(y if x == 1 else x)
        return tuple(out)


def variable_inputs(op: str) -> frozenset[int] | None:
    """Input positions of operator ``op`` that hold its state (variable tensors): empty for stateless ops, ``None``
    for an operator without a shape rule (only ``analyze`` reads it; no backend generates it)."""
    rule = SHAPE_RULES.get(op)
    return rule.variable if rule is not None else None


def check_operator(graph: ir.Graph, op: ir.Operator) -> None:
    """Arity, shared integer parameters, and the op's own shape rule (if any); raises :class:`OpInvalid`."""
    for name in POSITIVE_PARAMS:
        value = getattr(op, name, None)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise OpInvalid(f"{name.replace('_', ' ')} is {value}, must be at least 1")
    for name, value in vars(op).items():
        if isinstance(value, float) and not math.isfinite(value):
            raise OpInvalid(f"{name.replace('_', ' ')} is {value}, must be a finite number")
    rule = SHAPE_RULES.get(op.op)
    if rule is None:
        return
    n = len(op.inputs)
    if not rule.min_inputs <= n <= rule.max_inputs:
        want = str(rule.min_inputs) if rule.min_inputs == rule.max_inputs else (
            f"{rule.min_inputs} to {rule.max_inputs}" if rule.max_inputs < 1 << 20 else f"at least {rule.min_inputs}")
        raise OpInvalid(f"has {n} inputs, expected {want}")
    for i, t in enumerate(op.inputs):
        if t < 0 and i not in rule.optional:
            raise OpInvalid(f"input {i} is missing (index {t})")
        if t >= 0 and i in rule.variable and not graph.tensors[t].is_variable:
            raise OpInvalid(f"input {i} (tensor {t}, {graph.tensors[t].name}) is the operator's state, but is not a "
                            "variable tensor")
    if rule.outputs >= 0 and len(op.outputs) != rule.outputs:  # -1: any number (SPLIT, UNPACK)
        raise OpInvalid(f"has {len(op.outputs)} outputs, expected {rule.outputs}")
    result = rule.fn(OpCheck(graph, op))
    if result is None:
        return
    expected = result if isinstance(result, list) else [result]
    for k, shape in enumerate(expected):
        got = graph.tensors[op.outputs[k]].shape
        if tuple(got) != tuple(shape):
            raise OpInvalid(
                f"output {k} (tensor {op.outputs[k]}) has shape {_fmt(got)}, but its inputs and parameters give "
                f"{_fmt(tuple(shape))}"
            )


# ------------------------------------------------------------------------------------------- helpers


def _window_out(c: OpCheck, padding: ir.Padding, size: int, k: int, stride: int, dilation: int, axis: str) -> int:
    eff = (k - 1) * dilation + 1
    if padding is ir.Padding.SAME:
        return (size + stride - 1) // stride
    out = (size - eff + stride) // stride
    if out < 1:
        c.fail(f"the {axis} window ({eff} with dilation) is larger than the input {axis} {size} (VALID padding)")
    return out


def _nhwc(c: OpCheck, i: int, what: str = "input") -> ir.Tensor:
    t = c.input(i, what)
    c.rank(t, (4,), what)
    return t


# ------------------------------------------------------------------------------------------- conv family


@shape_rule("CONV_2D", inputs=(2, 3), optional=(2,))
def _conv2d(c: OpCheck) -> RuleResult:
    op = cast(ir.Conv2D, c.op)
    x, w = _nhwc(c, 0), _nhwc(c, 1, "filter")
    n, h, wd, ch = x.shape
    oc, kh, kw, kc = w.shape
    c.require(ch % kc == 0, f"input channels {ch} are not a multiple of the filter depth {kc}")
    groups = ch // kc
    c.require(oc % groups == 0, f"{oc} filters cannot be split into {groups} groups")
    _bias(c, oc)
    oh = _window_out(c, op.padding, h, kh, op.stride_h, op.dilation_h, "height")
    ow = _window_out(c, op.padding, wd, kw, op.stride_w, op.dilation_w, "width")
    return (n, oh, ow, oc)


@shape_rule("DEPTHWISE_CONV_2D", inputs=(2, 3), optional=(2,))
def _depthwise(c: OpCheck) -> RuleResult:
    op = cast(ir.DepthwiseConv2D, c.op)
    x, w = _nhwc(c, 0), _nhwc(c, 1, "filter")
    n, h, wd, ch = x.shape
    one, kh, kw, oc = w.shape
    c.require(one == 1, f"depthwise filter shape {_fmt(w.shape)} must start with 1")
    c.require(oc % ch == 0, f"filter channels {oc} are not a multiple of the input channels {ch}")
    _bias(c, oc)
    oh = _window_out(c, op.padding, h, kh, op.stride_h, op.dilation_h, "height")
    ow = _window_out(c, op.padding, wd, kw, op.stride_w, op.dilation_w, "width")
    return (n, oh, ow, oc)


def _bias(c: OpCheck, channels: int) -> None:
    b = c.optional(2)
    if b is not None:
        c.require(b.size == channels, f"bias (tensor {b.index}) has {b.size} values for {channels} output channels")


@shape_rule("FULLY_CONNECTED", inputs=(2, 3), optional=(2,))
def _fully_connected(c: OpCheck) -> RuleResult:
    op = cast(ir.FullyConnected, c.op)
    x, w = c.input(0), c.input(1, "weights")
    c.rank(w, (2,), "weights")
    units, depth = w.shape
    _bias(c, units)
    c.require(x.size % depth == 0, f"input {_fmt(x.shape)} ({x.size} values) is not a multiple of the weights "
                                   f"depth {depth}")
    if op.keep_num_dims:
        c.require(x.shape[-1:] == (depth,), f"input {_fmt(x.shape)} must end in the weights depth {depth}")
        return (*x.shape[:-1], units)
    batches = x.size // depth
    out = c.output()
    # TFLite stores (batches, units); accept any layout with the same count that ends in `units`
    if out.size != batches * units or out.shape[-1:] != (units,):
        c.fail(f"output (tensor {out.index}) has shape {_fmt(out.shape)}, but its input and weights give "
               f"{_fmt((batches, units))}")
    return None


# ------------------------------------------------------------------------------------------- pooling


@shape_rule("AVERAGE_POOL_2D", "MAX_POOL_2D")
def _pool(c: OpCheck) -> RuleResult:
    op = cast(ir.Pool2D, c.op)
    x = _nhwc(c, 0)
    n, h, w, ch = x.shape
    oh = _window_out(c, op.padding, h, op.filter_h, op.stride_h, 1, "height")
    ow = _window_out(c, op.padding, w, op.filter_w, op.stride_w, 1, "width")
    return (n, oh, ow, ch)


def reduced_shape(c: OpCheck, shape: Shape, axes: np.ndarray, keep_dims: bool) -> Shape:
    """The output shape of a reduction (MEAN, SUM, ...) over ``axes``."""
    rank = len(shape)
    resolved = {c.axis(int(a), rank) for a in axes.reshape(-1)}
    if keep_dims:
        return tuple(1 if d in resolved else s for d, s in enumerate(shape))
    return tuple(s for d, s in enumerate(shape) if d not in resolved)


@shape_rule("MEAN", "REDUCE_PROD", inputs=2)
def _mean(c: OpCheck) -> RuleResult:
    op = cast(ir.Mean | ir.ReduceProd, c.op)
    x = c.input(0)
    axes = c.int_const(1, "axes")
    return reduced_shape(c, x.shape, axes, op.keep_dims)


# ------------------------------------------------------------------------------------------- element-wise


@shape_rule("ADD", "SUB", "MUL", inputs=2)
def _binary(c: OpCheck) -> RuleResult:
    return c.broadcast(c.input(0).shape, c.input(1).shape)


@shape_rule("CONCATENATION", inputs=(1, 1 << 20))
def _concat(c: OpCheck) -> RuleResult:
    op = cast(ir.Concatenation, c.op)
    ins = [c.input(i) for i in range(len(op.inputs))]
    rank = len(ins[0].shape)
    c.require(rank >= 1, "cannot concatenate scalars")
    axis = c.axis(op.axis, rank)
    total = 0
    for k, t in enumerate(ins):
        c.require(len(t.shape) == rank, f"input {k} has rank {len(t.shape)}, input 0 has rank {rank}")
        for d in range(rank):
            if d != axis and t.shape[d] != ins[0].shape[d]:
                c.fail(f"input {k} has shape {_fmt(t.shape)}, which differs from input 0 {_fmt(ins[0].shape)} "
                       f"outside the concatenation axis {axis}")
        total += t.shape[axis]
    return tuple(total if d == axis else s for d, s in enumerate(ins[0].shape))


@shape_rule("SOFTMAX", "LOGISTIC", "TANH", "RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH", "QUANTIZE", "DEQUANTIZE")
def _same_shape(c: OpCheck) -> RuleResult:
    x = c.input(0)
    if c.op.op == "SOFTMAX":
        c.require(len(x.shape) >= 1, "SOFTMAX needs an input of rank >= 1")
    return x.shape


# ------------------------------------------------------------------------------------------- shape ops


def resolve_new_shape(c: OpCheck, new: list[int], count: int) -> Shape:
    """TFLite RESHAPE: at most one -1, which takes the remaining element count."""
    unknown = [i for i, d in enumerate(new) if d == -1]
    c.require(len(unknown) <= 1, f"new shape {_fmt(tuple(new))} has more than one -1")
    c.require(all(d >= 0 or d == -1 for d in new), f"new shape {_fmt(tuple(new))} has a negative dimension")
    known = 1
    for d in new:
        if d != -1:
            known *= d
    if unknown:
        c.require(known > 0 and count % known == 0,
                  f"new shape {_fmt(tuple(new))} does not divide the {count} input values")
        new = [count // known if d == -1 else d for d in new]
    return tuple(new)


@shape_rule("RESHAPE", inputs=(1, 2), optional=(1,))
def _reshape(c: OpCheck) -> RuleResult:
    op = cast(ir.Reshape, c.op)
    x, out = c.input(0), c.output()
    c.require(out.size == x.size, f"output (tensor {out.index}) {_fmt(out.shape)} holds {out.size} values, "
                                  f"the input {_fmt(x.shape)} {x.size}")
    shape_t = c.optional(1)
    if shape_t is not None:
        if shape_t.data is None:
            return None  # a computed shape: only the element count can be checked
        new = [int(v) for v in c.int_const(1, "shape").reshape(-1)]
    elif op.new_shape:
        new = list(op.new_shape)
    else:
        return None
    resolved = resolve_new_shape(c, new, x.size)
    c.require(int(np.prod(resolved, dtype=np.int64)) == x.size,
              f"new shape {_fmt(resolved)} does not hold the {x.size} input values")
    return resolved


@shape_rule("SQUEEZE")
def _squeeze(c: OpCheck) -> RuleResult:
    op = cast(ir.Squeeze, c.op)
    x = c.input(0)
    rank = len(x.shape)
    if not op.squeeze_dims:
        return tuple(s for s in x.shape if s != 1)
    dims = {c.axis(d, rank, "squeeze dimension") for d in op.squeeze_dims}
    for d in dims:
        c.require(x.shape[d] == 1, f"squeeze dimension {d} has size {x.shape[d]}, not 1")
    return tuple(s for d, s in enumerate(x.shape) if d not in dims)


@shape_rule("PAD", inputs=2)
def _pad(c: OpCheck) -> RuleResult:
    x = c.input(0)
    pads = c.int_const(1, "paddings")
    rank = len(x.shape)
    c.require(pads.shape == (rank, 2), f"paddings have shape {_fmt(pads.shape)}, expected {_fmt((rank, 2))} "
                                       f"for an input of rank {rank}")
    c.require(bool((pads >= 0).all()), "paddings must not be negative")
    return tuple(int(s + pads[d, 0] + pads[d, 1]) for d, s in enumerate(x.shape))


from codegen.validation import rules_layout, rules_sequence  # noqa: E402, F401  (register the layout and sequence ops' rules)
