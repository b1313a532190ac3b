"""A copy of a model with run-time shapes that TFLM can run: the shapes TensorFlow Lite resolves, written in.

With an unknown batch dimension the TFLite converter may compute a RESHAPE's target at run time (a ``Dense`` on a
rank-3 input: SHAPE -> GATHER -> REDUCE_PROD -> PACK) and store placeholder shapes for the tensors it leaves
dynamic (``shape_signature`` -1). TFLM refuses such a model: it has no REDUCE_PROD kernel and takes every shape
from the file. :func:`static_copy` lets TensorFlow Lite allocate the model for its stored input shapes (batch 1)
and writes what it computed into a copy: each dynamic tensor's shape, and each shape computation's result as a
constant buffer in place of the operators that computed it. The arithmetic of every other operator, and all
weights and quantization, are the original's; the codegen frontend is not involved, so the copy is an
independent reference for codegen's own shape inference (:mod:`codegen.frontend.shapes`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

#: TFLite TensorType codes of the integer tensors a shape computation produces (INT32, INT64)
_SHAPE_TYPES = {2: np.int32, 4: np.int64}


class NoRunTimeShapes(ValueError):
    """The model has no tensor with a run-time shape: there is nothing to resolve."""


def _schema() -> Any:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


def run_time_shapes(data: bytes) -> set[int]:
    """Indices of the tensors that an operator writes and whose shape signature has a -1."""
    sg = _schema().ModelT.InitFromPackedBuf(data, 0).subgraphs[0]
    return _dynamic(sg)


def _dynamic(sg: Any) -> set[int]:
    produced = {int(t) for op in sg.operators or [] for t in (op.outputs if op.outputs is not None else [])}
    return {i for i, t in enumerate(sg.tensors or []) if i in produced and t.shapeSignature is not None
            and -1 in list(t.shapeSignature)}


def static_copy(data: bytes) -> bytes:
    """``data`` (a .tflite) with its run-time shapes resolved by TensorFlow Lite for the stored input shapes.
    Raises :class:`NoRunTimeShapes` when no operator output has a -1 in its shape signature."""
    import flatbuffers

    s = _schema()
    model = s.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    ops = list(sg.operators or [])
    dynamic = _dynamic(sg)
    if not dynamic:
        raise NoRunTimeShapes("the model has no run-time shapes")
    shapes, values = _resolve(data)
    constant = {i for i, t in enumerate(sg.tensors)
                if t.buffer > 0 and model.buffers[t.buffer].data is not None and len(model.buffers[t.buffer].data)}
    graph_outputs = {int(t) for t in (sg.outputs if sg.outputs is not None else [])}
    kept = []
    for op in ops:
        ins = [int(t) for t in (op.inputs if op.inputs is not None else []) if t >= 0]
        outs = [int(t) for t in op.outputs]
        code = model.operatorCodes[op.opcodeIndex]
        is_shape = max(int(code.builtinCode), int(code.deprecatedBuiltinCode)) == s.BuiltinOperator.SHAPE
        shape_math = all(sg.tensors[t].type in _SHAPE_TYPES and not _quantized(sg.tensors[t]) for t in outs)
        graph_out = any(t in graph_outputs for t in outs)  # a graph output stays computed
        if shape_math and not graph_out and (is_shape or all(t in constant for t in ins)) and all(
            t in values for t in outs
        ):
            for t in outs:  # the result becomes a constant buffer; the operator goes
                buf = s.BufferT()
                little = np.dtype(_SHAPE_TYPES[sg.tensors[t].type]).newbyteorder("<")
                buf.data = np.frombuffer(np.ascontiguousarray(values[t], dtype=little).tobytes(), np.uint8)
                model.buffers.append(buf)
                sg.tensors[t].buffer = len(model.buffers) - 1
                constant.add(t)
            continue
        kept.append(op)
    sg.operators = kept
    for t in dynamic:
        sg.tensors[t].shape = [int(d) for d in shapes[t]]
        sg.tensors[t].shapeSignature = None
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _quantized(t: Any) -> bool:
    q = t.quantization
    return q is not None and q.scale is not None and len(q.scale) > 0


def _resolve(data: bytes) -> tuple[dict[int, tuple[int, ...]], dict[int, np.ndarray]]:
    """Every tensor's shape after TensorFlow Lite's Prepare, and the integer tensors' values after one inference
    on zeros (shape computations do not depend on the input values)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import warnings

    import tensorflow as tf

    warnings.filterwarnings("ignore", module="tensorflow")
    interp = tf.lite.Interpreter(
        model_content=data, experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
        experimental_preserve_all_tensors=True,
    )
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
    interp.invoke()
    shapes: dict[int, tuple[int, ...]] = {}
    values: dict[int, np.ndarray] = {}
    for d in interp.get_tensor_details():
        shapes[d["index"]] = tuple(int(x) for x in d["shape"])
        if d["dtype"] in (np.int32, np.int64):
            try:
                values[d["index"]] = np.array(interp.get_tensor(d["index"]))
            except ValueError:  # a tensor without data (never written)
                continue
    return shapes, values
