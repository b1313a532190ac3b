"""Shape inference for the tensors a converter left dynamic (a ``shape_signature`` with -1).

A Keras model has an unknown batch dimension, so the TFLite converter may compute a shape at run time. A ``Dense``
on a rank-3 input (a sequence model: one Dense per time step) becomes

    SHAPE -> GATHER -> REDUCE_PROD -> PACK ---------------> RESHAPE [-1, -1] -> FULLY_CONNECTED -> RESHAPE
                    \\-> CONCATENATION (with the units) ----------------------------------------------^

and the file stores placeholder shapes for the dynamic tensors: each -1 written as 1 (``[1, 1]`` for the first
RESHAPE's output, which really holds ``[3, 22]``). TFLite recomputes those shapes in its operators' Prepare once
the input shapes are known; this module does the same for the inputs' stored shapes (batch 1), in execution
order, before the graph is validated: shape tensors are evaluated with the constant folder's evaluators
(:mod:`codegen.passes.fold`), RESHAPE and FULLY_CONNECTED take TFLite's output shapes, other operators the shape
their validation rule recomputes. A tensor changes only if it is dynamic and the inferred shape has the
signature's rank and agrees with it on every static dimension; otherwise it keeps the stored shape and the
validation judges it (so a genuinely inconsistent model is still refused).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from codegen import ir

log = logging.getLogger(__name__)

Shape = tuple[int, ...]


def resolve_dynamic_shapes(graph: ir.Graph, signatures: dict[int, Shape]) -> ir.Graph:
    """``graph`` with the shapes of its dynamic tensors (``signatures``: tensor index -> shape signature with at
    least one -1) inferred from the graph inputs' stored shapes; the graph itself when nothing is dynamic."""
    for k, t in enumerate(graph.inputs):
        sig = signatures.get(t, ())
        if any(d == -1 for d in sig[1:]) and 0 <= t < len(graph.tensors):
            x = graph.tensors[t]
            log.warning("%s: graph input %d (%s) has a dimension only known at run time (shape signature %s): "
                        "the code is generated for the stored shape %s; give the model a fixed input shape "
                        "(e.g. keras.Input((49, 10)) instead of (None, 10)) to generate it for another",
                        graph.source or graph.name, k, x.name, list(sig), list(x.shape))
    produced = {t for op in graph.operators for t in op.outputs}
    dynamic = {t: s for t, s in signatures.items() if t in produced and 0 <= t < len(graph.tensors)}
    if not dynamic:
        return graph
    tensors = list(graph.tensors)
    known: dict[int, np.ndarray] = {}  # values of the shape tensors computed so far
    for op in graph.operators:
        current = replace(graph, tensors=tuple(tensors))
        values = _values(current, op, known)
        if values is not None:
            for t, v in zip(op.outputs, values, strict=True):
                if t in dynamic:
                    _set(tensors, dynamic, t, tuple(v.shape), op)
                elif v.size == tensors[t].size:
                    v = v.reshape(tensors[t].shape)  # e.g. a REDUCE_PROD that keeps its dimensions
                else:
                    continue
                known[t] = v
            continue
        if not any(t in dynamic for t in op.outputs):
            continue
        for t, shape in zip(op.outputs, _output_shapes(current, op, known), strict=False):
            if shape is not None:
                _set(tensors, dynamic, t, shape, op)
    return replace(graph, tensors=tuple(tensors))


def _set(tensors: list[ir.Tensor], dynamic: dict[int, Shape], t: int, shape: Shape, op: ir.Operator) -> None:
    sig = dynamic.get(t)
    if sig is None or tensors[t].shape == shape:
        return
    if len(sig) != len(shape) or any(s not in (-1, d) for s, d in zip(sig, shape, strict=True)) or min(
        shape, default=1
    ) < 1:
        log.debug("operator %d (%s): inferred shape %s of tensor %d does not fit its signature %s", op.index,
                  op.op, list(shape), t, list(sig))
        return
    log.debug("tensor %d (%s): dynamic shape %s resolved to %s", t, tensors[t].name, list(tensors[t].shape),
              list(shape))
    tensors[t] = replace(tensors[t], shape=shape)


def _values(graph: ir.Graph, op: ir.Operator, known: dict[int, np.ndarray]) -> list[np.ndarray] | None:
    """The integer outputs of a shape computation (SHAPE, GATHER, REDUCE_PROD, PACK, ...), or ``None``."""
    from codegen.passes.fold import FOLDERS

    fn = FOLDERS.get(op.op)
    if fn is None or not op.outputs or any(t < 0 for t in op.outputs):
        return None
    outs = [graph.tensors[t] for t in op.outputs]
    if any(t.dtype not in (ir.DType.INT32, ir.DType.INT64) or t.quant is not None for t in outs):
        return None  # only shape arithmetic: data tensors are computed on the device
    if isinstance(op, ir.Shape):
        if not op.inputs or op.inputs[0] < 0:
            return None
        values: list[np.ndarray | None] = [None]
    else:
        values = [graph.tensors[i].data if i >= 0 and graph.tensors[i].is_constant else known.get(i)
                  for i in op.inputs]
        if any(v is None for i, v in zip(op.inputs, values, strict=True) if i >= 0):
            return None
    try:
        results = fn(graph, op, values)
    except Exception as exc:  # noqa: BLE001 - the graph is not validated yet: anything odd leaves the shape alone
        log.debug("operator %d (%s) not evaluated for shapes: %s", op.index, op.op, exc)
        return None
    if len(results) != len(outs):
        return None
    return [np.asarray(r).astype(t.dtype.np) for r, t in zip(results, outs, strict=True)]


def _output_shapes(graph: ir.Graph, op: ir.Operator, known: dict[int, np.ndarray]) -> list[Shape | None]:
    """The output shapes TFLite's Prepare gives ``op`` (``None`` where unknown)."""
    from codegen.validation.rules import SHAPE_RULES, OpCheck

    ins = graph.op_inputs(op)
    if isinstance(op, ir.Reshape):
        return [_reshape(op, ins, known)]
    if isinstance(op, ir.FullyConnected):
        return [_fully_connected(op, ins)]
    rule = SHAPE_RULES.get(op.op)
    if rule is None:
        return []
    try:
        result = rule.fn(OpCheck(graph, op))
    except Exception as exc:  # noqa: BLE001 - OpInvalid, or anything odd in a graph not validated yet
        log.debug("operator %d (%s): no shape inferred: %s", op.index, op.op, exc)
        return []
    if result is None:
        return []
    return [tuple(int(d) for d in s) for s in (result if isinstance(result, list) else [result])]


def _reshape(op: ir.Reshape, ins: list[ir.Tensor | None], known: dict[int, np.ndarray]) -> Shape | None:
    x = ins[0] if ins else None
    if x is None:
        return None
    shape_t = ins[1] if len(ins) > 1 else None
    if shape_t is not None:
        data = shape_t.data if shape_t.is_constant else known.get(shape_t.index)
        if data is None:
            return None
        new = [int(v) for v in np.asarray(data).reshape(-1)]
    elif op.new_shape:
        new = list(op.new_shape)
    else:
        return None
    unknown = [i for i, d in enumerate(new) if d == -1]
    rest = int(np.prod([d for d in new if d != -1], dtype=np.int64))
    if len(unknown) > 1 or any(d < -1 for d in new):
        return None
    if unknown:
        if rest <= 0 or x.size % rest:
            return None
        new[unknown[0]] = x.size // rest
    return tuple(new)


def _fully_connected(op: ir.FullyConnected, ins: list[ir.Tensor | None]) -> Shape | None:
    x, w = (ins + [None, None])[:2]
    if x is None or w is None or len(w.shape) != 2 or w.shape[1] < 1 or x.size % w.shape[1]:
        return None
    units, depth = w.shape
    if op.keep_num_dims:
        return (*x.shape[:-1], units)
    return (x.size // depth, units)
