"""Structural checks of a graph (indices, kinds, shapes, quantization) and the driver of the shape rules."""

from __future__ import annotations

import math

from codegen import ir
from codegen.errors import InconsistentModelError
from codegen.validation.rules import OpInvalid, check_operator, variable_inputs

HINT = "the model file is inconsistent (edited or corrupted?); re-export it with the TFLite converter"

#: Largest tensor the generated C can address with its int32 sizes and offsets.
MAX_TENSOR_BYTES = 2**31 - 1

_ZP_RANGE = {
    ir.DType.INT8: (-128, 127), ir.DType.UINT8: (0, 255), ir.DType.INT16: (-32768, 32767), ir.DType.INT4: (-8, 7),
}


def _fmt(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def validate_graph(graph: ir.Graph) -> None:
    """Raise :class:`InconsistentModelError` (one line) on the first inconsistency in ``graph``."""
    where = graph.source or graph.name

    def fail(message: str) -> None:
        raise InconsistentModelError(f"{where}: {message}", hint=HINT)

    n = len(graph.tensors)
    _check_io(graph, n, fail)
    written = set(graph.inputs)
    used: set[int] = set(graph.inputs) | set(graph.outputs)
    for pos, op in enumerate(graph.operators):
        label = f"operator {op.index} ({op.op})"
        if not op.outputs:
            fail(f"{label} has no outputs")
        for k, t in enumerate(op.inputs):
            if t == -1:
                continue
            if not 0 <= t < n:
                fail(f"{label} input {k} refers to tensor {t}, but the graph has {n} tensors")
            tensor = graph.tensors[t]
            state_inputs = variable_inputs(op.op)
            if tensor.is_variable and state_inputs is not None and k not in state_inputs:
                fail(f"{label} input {k} is tensor {t} ({tensor.name}), a variable (state) tensor, which only an "
                     "operator that keeps state (SVDF, LSTM) may read at its state input")
            if state_inputs and k in state_inputs and not tensor.is_variable:
                fail(f"{label} input {k} is its state, tensor {t} ({tensor.name}), which is not a variable tensor "
                     "(TFLite is_variable): the state must persist across inferences")
            if not tensor.is_constant and not tensor.is_variable and t not in written:
                fail(f"{label} reads tensor {t} ({tensor.name}) before any operator writes it")
            used.add(t)
        for k, t in enumerate(op.outputs):
            if not 0 <= t < n:
                fail(f"{label} output {k} refers to tensor {t}, but the graph has {n} tensors")
            tensor = graph.tensors[t]
            if tensor.is_constant:
                fail(f"{label} writes tensor {t} ({tensor.name}), which is a constant")
            if tensor.is_variable:
                fail(f"{label} writes tensor {t} ({tensor.name}), which is a variable (state) tensor: only the "
                     "operator that owns it updates it, through its state input")
            if t in graph.inputs:
                fail(f"{label} writes tensor {t} ({tensor.name}), which is a graph input")
            if t in written:
                fail(f"{label} writes tensor {t} ({tensor.name}), which is already written before")
            written.add(t)
            used.add(t)
        del pos
    for k, t in enumerate(graph.outputs):
        if t not in written:
            fail(f"graph output {k} (tensor {t}, {graph.tensors[t].name}) is never written by an operator")
    for t in sorted(used):
        _check_tensor(graph.tensors[t], fail)
    for op in graph.operators:
        try:
            check_operator(graph, op)
        except OpInvalid as exc:
            fail(f"operator {op.index} ({op.op}): {exc}")


def _check_io(graph: ir.Graph, n: int, fail) -> None:  # noqa: ANN001 - a local closure
    if not graph.outputs:
        fail("the graph has no outputs")
    for what, indices in (("input", graph.inputs), ("output", graph.outputs)):
        for k, t in enumerate(indices):
            if not 0 <= t < n:
                fail(f"graph {what} {k} refers to tensor {t}, but the graph has {n} tensors")
            if graph.tensors[t].is_constant:
                fail(f"graph {what} {k} (tensor {t}, {graph.tensors[t].name}) is a constant buffer")
            if graph.tensors[t].is_variable:
                fail(f"graph {what} {k} (tensor {t}, {graph.tensors[t].name}) is a variable (state) tensor")


def _check_tensor(t: ir.Tensor, fail) -> None:  # noqa: ANN001
    label = f"tensor {t.index} ({t.name})"
    lowest = 0 if t.is_constant else 1
    if any(d < lowest for d in t.shape):
        fail(f"{label} has shape {_fmt(t.shape)}: every dimension must be at least {lowest}")
    if t.nbytes > MAX_TENSOR_BYTES:
        fail(f"{label} has {t.nbytes} bytes, more than a microcontroller can address ({MAX_TENSOR_BYTES})")
    q = t.quant
    if q is None:
        return
    if not all(math.isfinite(s) for s in q.scale):
        fail(f"{label} has a quantization scale that is not finite")
    if t.is_constant:
        if any(s < 0 for s in q.scale):
            fail(f"{label} has a negative quantization scale")
    elif any(s <= 0 for s in q.scale):
        fail(f"{label} has a quantization scale <= 0 ({min(q.scale):g})")
    lo, hi = _ZP_RANGE.get(t.dtype, (-(2**63), 2**63 - 1))
    if any(not lo <= z <= hi for z in q.zero_point):
        fail(f"{label} is {t.dtype.value} but has a zero point outside [{lo}, {hi}]")
    if q.per_channel:
        rank = len(t.shape)
        if not 0 <= q.axis < rank:
            fail(f"{label} is quantized per channel along dimension {q.axis}, but has rank {rank}")
        if t.shape[q.axis] != len(q.scale):
            fail(f"{label} has {len(q.scale)} per-channel scales, but dimension {q.axis} has size "
                 f"{t.shape[q.axis]}")
