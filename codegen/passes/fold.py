"""Constant folding: operators whose result is known at generation time become constant tensors.

An operator folds when every input is constant, or (SHAPE) when its result depends only on static shapes.
Typical case: Keras models with a dynamic batch dimension compute a RESHAPE's target shape at run time with
SHAPE -> STRIDED_SLICE -> PACK; after folding, the shape is a constant and none of it reaches the device.
The evaluators follow TFLite Micro's reference kernels (index arithmetic in :mod:`codegen.ir.semantics`).
Arithmetic folds only on unquantized int32/int64/float32 tensors, in the tensor's own type, as TFLite does.
Operators whose outputs nobody reads are dropped afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import cast

import numpy as np

from codegen import ir
from codegen.ir import semantics
from codegen.passes.base import GraphPass, register_pass, renumber

log = logging.getLogger(__name__)

Values = list[np.ndarray | None]
Evaluator = Callable[[ir.Graph, ir.Operator, Values], list[np.ndarray]]
FOLDERS: dict[str, Evaluator] = {}

_PLAIN = (ir.DType.INT32, ir.DType.INT64, ir.DType.FLOAT32)


def folder(*names: str) -> Callable[[Evaluator], Evaluator]:
    """Register the generation-time evaluator of TFLite builtin ``names``; registering a name twice is an error."""

    def deco(fn: Evaluator) -> Evaluator:
        for name in names:
            if name in FOLDERS:
                raise TypeError(f"constant folder for {name} registered twice")
            FOLDERS[name] = fn
        return fn

    return deco


def _arg(values: Values, i: int) -> np.ndarray:
    v = values[i] if i < len(values) else None
    if v is None:
        raise ValueError(f"input {i} is missing")
    return v


def _ints(v: np.ndarray) -> list[int]:
    return [int(x) for x in v.reshape(-1)]


@folder("SHAPE")
def _shape(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    shape = graph.tensors[op.inputs[0]].shape
    return [np.array(shape, dtype=graph.tensors[op.outputs[0]].dtype.np)]


@folder("STRIDED_SLICE")
def _strided_slice(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    op = cast(ir.StridedSlice, op)
    if op.ellipsis_mask or op.new_axis_mask or op.offset:
        raise ValueError("TFLM ignores the ellipsis/new-axis masks and offset; not folded")
    x = _arg(values, 0)
    axes = semantics.strided_slice_axes(
        x.shape, _ints(_arg(values, 1)), _ints(_arg(values, 2)), _ints(_arg(values, 3)),
        op.begin_mask, op.end_mask, op.shrink_axis_mask,
    )
    return [semantics.take_axes(x, axes)]


@folder("SLICE")
def _slice(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    x = _arg(values, 0)
    return [semantics.take_axes(x, semantics.slice_axes(x.shape, _ints(_arg(values, 1)), _ints(_arg(values, 2))))]


@folder("PACK")
def _pack(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    op = cast(ir.Pack, op)
    xs = [_arg(values, i) for i in range(len(op.inputs))]
    axis = op.axis + xs[0].ndim + 1 if op.axis < 0 else op.axis
    return [np.stack(xs, axis=axis)]


@folder("UNPACK")
def _unpack(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    op = cast(ir.Unpack, op)
    x = _arg(values, 0)
    return [np.take(x, k, axis=op.axis) for k in range(x.shape[op.axis])]


@folder("CONCATENATION")
def _concat(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    op = cast(ir.Concatenation, op)
    if op.activation is not ir.Activation.NONE:
        raise ValueError("fused activation")
    xs = [_arg(values, i) for i in range(len(op.inputs))]
    return [np.concatenate(xs, axis=op.axis)]


@folder("GATHER")
def _gather(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    op = cast(ir.Gather, op)
    return [semantics.gather(_arg(values, 0), _arg(values, 1), op.axis, op.batch_dims)]


@folder("REDUCE_PROD")
def _reduce_prod(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    # Keras computes the rows of a Dense on a rank-3 input this way; TFLM has no REDUCE_PROD kernel
    op = cast(ir.ReduceProd, op)
    x = _arg(values, 0)
    if x.dtype.kind not in "iu":
        raise ValueError("REDUCE_PROD folds only on integer tensors")
    axes = sorted({a % max(x.ndim, 1) for a in _ints(_arg(values, 1))}) if x.ndim else []
    return [np.prod(x, axis=tuple(axes), dtype=np.int64, keepdims=op.keep_dims).astype(x.dtype)]


@folder("TRANSPOSE")
def _transpose(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    x = _arg(values, 0)
    return [np.transpose(x, semantics.transpose_perm(_ints(_arg(values, 1)), x.ndim))]


@folder("RESHAPE", "SQUEEZE", "EXPAND_DIMS")
def _view(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    return [_arg(values, 0)]  # reshaped to the output tensor's shape by the pass


@folder("SPLIT")
def _split(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    x = _arg(values, 1)
    axis = int(_arg(values, 0).reshape(-1)[0])
    return list(np.split(x, len(op.outputs), axis=axis))


@folder("CAST")
def _cast(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    x = _arg(values, 0)
    out = graph.tensors[op.outputs[0]]
    if out.dtype is ir.DType.BOOL:
        return [x != 0]
    if np.issubdtype(x.dtype, np.floating) and np.issubdtype(out.dtype.np, np.integer):
        info = np.iinfo(out.dtype.np)
        if x.size and (np.nanmin(x) < info.min or np.nanmax(x) > info.max or np.isnan(x).any()):
            raise ValueError("CAST of an out-of-range float is undefined")
        return [np.trunc(x).astype(out.dtype.np)]
    return [x.astype(out.dtype.np)]


@folder("DEQUANTIZE")
def _dequantize(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
    x = _arg(values, 0)
    t = graph.tensors[op.inputs[0]]
    if t.dtype is ir.DType.FLOAT16:
        return [x.astype(np.float32)]
    if t.quant is None or t.quant.per_channel:
        raise ValueError("DEQUANTIZE of a constant without per-tensor quantization")
    scale, zp = t.quant.channel(0)
    # TFLM: static_cast<float>(scale * (value - zero_point)) with a double scale
    return [(np.float64(np.float32(scale)) * (x.astype(np.int64) - zp)).astype(np.float32)]


def _activation(x: np.ndarray, act: ir.Activation) -> np.ndarray:
    bounds = {
        ir.Activation.NONE: None, ir.Activation.RELU: (0, None), ir.Activation.RELU6: (0, 6),
        ir.Activation.RELU_N1_TO_1: (-1, 1),
    }
    if act not in bounds:
        raise ValueError(f"fused activation {act.value}")
    b = bounds[act]
    if b is None:
        return x
    lo, hi = b
    x = np.maximum(x, np.array(lo, dtype=x.dtype))
    return x if hi is None else np.minimum(x, np.array(hi, dtype=x.dtype))


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Evaluator:
    def evaluate(graph: ir.Graph, op: ir.Operator, values: Values) -> list[np.ndarray]:
        ts = [graph.tensors[i] for i in (*op.inputs[:2], op.outputs[0])]
        if any(t.dtype not in _PLAIN or t.quant is not None for t in ts) or len({t.dtype for t in ts}) != 1:
            raise ValueError("arithmetic folds only on unquantized int32/int64/float32 tensors of one type")
        a, b = _arg(values, 0), _arg(values, 1)
        with np.errstate(all="ignore"):
            out = fn(a, b).astype(ts[2].dtype.np)
        return [_activation(out, getattr(op, "activation", ir.Activation.NONE))]

    return evaluate


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer):
        if np.any(b == 0):
            raise ValueError("integer division by zero")
        return (np.abs(a) // np.abs(b)) * np.sign(a) * np.sign(b)  # C division truncates toward zero
    return a / b


def _floor_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) and np.any(b == 0):
        raise ValueError("integer division by zero")
    return np.floor_divide(a, b)


folder("ADD")(_binary(np.add))
folder("SUB")(_binary(np.subtract))
folder("MUL")(_binary(np.multiply))
folder("DIV")(_binary(_div))
folder("FLOOR_DIV")(_binary(_floor_div))
folder("MAXIMUM")(_binary(np.maximum))
folder("MINIMUM")(_binary(np.minimum))


def _foldable(graph: ir.Graph, op: ir.Operator) -> bool:
    if op.op not in FOLDERS or not op.outputs or any(t < 0 for t in op.outputs):
        return False
    if any(graph.tensors[t].is_variable for t in op.outputs):
        return False
    ins = [graph.tensors[i] for i in op.inputs if i >= 0]
    if isinstance(op, ir.Shape):
        return bool(ins) and all(d >= 0 for d in ins[0].shape)
    return all(t.is_constant for t in ins)


def evaluate(graph: ir.Graph, op: ir.Operator) -> list[np.ndarray] | None:
    """The outputs of ``op`` computed at generation time, or ``None`` when it cannot (or must not) fold."""
    if not _foldable(graph, op):
        return None
    values: Values = [graph.tensors[i].data if i >= 0 else None for i in op.inputs]
    try:
        results = FOLDERS[op.op](graph, op, values)
    except (ValueError, IndexError) as exc:
        log.debug("not folding operator %d (%s): %s", op.index, op.op, exc)
        return None
    outs = [graph.tensors[t] for t in op.outputs]
    if len(results) != len(outs):
        return None
    shaped = []
    for r, t in zip(results, outs, strict=True):
        r = np.asarray(r)
        if r.size != t.size:
            log.warning("not folding operator %d (%s): result has %d elements, tensor %d (%s) declares shape %s",
                        op.index, op.op, r.size, t.index, t.name, list(t.shape))
            return None
        r = r.astype(t.dtype.np).reshape(t.shape).copy()
        r.setflags(write=False)
        shaped.append(r)
    return shaped


@register_pass
class FoldConstants(GraphPass):
    """Replace an operator whose inputs are all constant (or, for SHAPE, whose input shape is static) by the
    constant tensors it computes."""

    name = "fold-constants"

    def match(self, graph: ir.Graph, op: ir.Operator) -> bool:
        # graph outputs stay computed: the generated code must still write them
        return not any(t in graph.outputs for t in op.outputs) and evaluate(graph, op) is not None

    def transform(self, graph: ir.Graph, op: ir.Operator) -> ir.Graph:
        results = evaluate(graph, op)
        if results is None:
            raise RuntimeError(f"operator {op.index} ({op.op}) matched but does not fold")
        tensors = list(graph.tensors)
        for t, r in zip(op.outputs, results, strict=True):
            tensors[t] = replace(tensors[t], data=r)
        log.debug("folded operator %d (%s)", op.index, op.op)
        graph = replace(graph, tensors=tuple(tensors))
        return renumber(graph, [o for o in graph.operators if o is not op])


@register_pass
class DropDeadOps(GraphPass):
    """Drop side-effect-free operators (those the folder knows) whose outputs nobody reads."""

    name = "drop-dead-ops"

    def match(self, graph: ir.Graph, op: ir.Operator) -> bool:
        return op.op in FOLDERS and all(t not in graph.outputs and not graph.consumers.get(t) for t in op.outputs)

    def transform(self, graph: ir.Graph, op: ir.Operator) -> ir.Graph:
        return renumber(graph, [o for o in graph.operators if o is not op])
