"""Constant folding: each folded operator equals TensorFlow Lite's reference kernel on the same input.

Every case is a one-operator TensorFlow function converted to TFLite; TFLite's reference interpreter runs it on
an input, and the fold evaluator runs it with that input as a constant. The two must be identical.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from codegen import ir
from codegen.frontend.tflite import parse_tflite
from codegen.passes import run_pipeline
from codegen.passes.fold import evaluate

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "fold"

# (name, input shape, input dtype, TensorFlow function of the input, the TFLite operator it becomes)
CASES: list[tuple[str, tuple[int, ...], str, Callable, str]] = [
    ("strided_slice_shrink", (4,), "int32", lambda tf, x: tf.strided_slice(x, [1], [2], [1], shrink_axis_mask=1),
     "STRIDED_SLICE"),
    ("strided_slice_masks", (5, 6, 3), "float32",
     lambda tf, x: tf.strided_slice(x, [1, -5, 0], [-1, 6, 2], [2, 2, 1], begin_mask=4, end_mask=1), "STRIDED_SLICE"),
    ("strided_slice_negative_stride", (7, 4), "int32",
     lambda tf, x: tf.strided_slice(x, [-2, 3], [0, 0], [-2, -1], end_mask=2), "STRIDED_SLICE"),
    ("slice", (4, 5, 3), "float32", lambda tf, x: tf.slice(x, [1, 0, 1], [2, -1, 2]), "SLICE"),
    ("pack_axis1", (3, 4), "int32", lambda tf, x: tf.stack([x, x * 2, x + 1], axis=1), "PACK"),
    ("unpack", (3, 4), "float32", lambda tf, x: tf.unstack(x, axis=1)[2], "UNPACK"),
    ("concat", (2, 3), "int32", lambda tf, x: tf.concat([x, x * 3], axis=0), "CONCATENATION"),
    ("gather_axis1", (3, 6), "float32", lambda tf, x: tf.gather(x, [5, 0, 2, 2], axis=1), "GATHER"),
    ("gather_batch_dims", (2, 5, 3), "int32",
     lambda tf, x: tf.gather(x, [[4, 0], [1, 1]], axis=1, batch_dims=1), "GATHER"),
    ("transpose", (2, 3, 4), "float32", lambda tf, x: tf.transpose(x, [2, 0, 1]), "TRANSPOSE"),
    ("split", (6, 4), "int32", lambda tf, x: tf.split(x, 3, axis=0)[1], "SPLIT"),
    ("cast_float_to_int", (10,), "float32", lambda tf, x: tf.cast(x * 7.0, tf.int32), "CAST"),
    ("cast_int_to_float", (10,), "int32", lambda tf, x: tf.cast(x, tf.float32), "CAST"),
    ("add_int32", (5,), "int32", lambda tf, x: x + tf.constant([1, -2, 3, -4, 2**31 - 1]), "ADD"),
    ("sub_float", (5,), "float32", lambda tf, x: x - tf.constant([0.1, -2.5, 3.0, 1e-3, 7.0]), "SUB"),
    ("mul_int32", (5,), "int32", lambda tf, x: x * tf.constant([3, -2, 0, 7, 65536]), "MUL"),
    ("div_float", (6,), "float32", lambda tf, x: tf.constant([3.0, -7.0, 0.5, 9.0, 11.0, -0.25]) / x, "DIV"),
    ("floor_div_int32", (6,), "int32", lambda tf, x: tf.math.floordiv(x, tf.constant([3, -7, 2, 5, -1, 4])),
     "FLOOR_DIV"),
    ("maximum_float", (6,), "float32", lambda tf, x: tf.maximum(x, tf.constant([0.0, 1, -1, 2, -2, 0.5])), "MAXIMUM"),
    ("minimum_int32", (6,), "int32", lambda tf, x: tf.minimum(x, tf.constant([0, 1, -1, 2, -2, 5])), "MINIMUM"),
    ("reduce_prod", (3, 4, 2), "int32", lambda tf, x: tf.reduce_prod(tf.clip_by_value(x, -3, 3), axis=[0, 2]),
     "REDUCE_PROD"),
    ("reduce_prod_keep_dims", (3, 4), "int32", lambda tf, x: tf.reduce_prod(tf.minimum(x, 9), axis=-1, keepdims=True),
     "REDUCE_PROD"),
]


def _build(name: str, shape: tuple[int, ...], dtype: str, fn: Callable) -> bytes:
    import inspect

    import tensorflow as tf

    key = hashlib.sha256(repr((name, shape, dtype, inspect.getsource(fn), tf.__version__)).encode()).hexdigest()[:16]
    path = CACHE / f"{name}-{key}.tflite"
    if path.exists():
        return path.read_bytes()

    @tf.function(input_signature=[tf.TensorSpec(shape, getattr(tf, dtype))])
    def f(x):  # noqa: ANN001, ANN202
        return fn(tf, x)

    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    data = conv.convert()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


def _input(shape: tuple[int, ...], dtype: str, rng: np.random.Generator) -> np.ndarray:
    if dtype == "int32":
        return rng.integers(-50, 50, size=shape, dtype=np.int32)
    return (rng.standard_normal(size=shape) * 4).astype(np.float32)


def _tflite(data: bytes, x: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    interp = tf.lite.Interpreter(
        model_content=data, experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF
    )
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_folded_operator_equals_tflite_reference(case: tuple) -> None:
    name, shape, dtype, fn, opname = case
    data = _build(name, shape, dtype, fn)
    graph = parse_tflite(data, name=name)
    assert opname in graph.op_set, f"the converter did not emit {opname}: {graph.op_set}"
    rng = np.random.default_rng(3)
    for _ in range(3):
        x = _input(shape, dtype, rng)
        x.setflags(write=False)
        expected = _tflite(data, x)
        tensors = list(graph.tensors)
        tensors[graph.inputs[0]] = replace(tensors[graph.inputs[0]], data=x)
        g = replace(graph, tensors=tuple(tensors))
        values: dict[int, np.ndarray] = {}
        for op in g.operators:  # fold the whole chain (a case may hold a few ops, e.g. x * 2 before PACK)
            results = evaluate(g, op)
            assert results is not None, f"operator {op.op} did not fold"
            tensors = list(g.tensors)
            for t, r in zip(op.outputs, results, strict=True):
                tensors[t] = replace(tensors[t], data=r)
                values[t] = r
            g = replace(g, tensors=tuple(tensors))
        got = values[graph.outputs[0]]
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got.reshape(expected.shape), expected)


def test_shape_chain_of_a_dynamic_batch_reshape_folds_away() -> None:
    """SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE (Keras Reshape with a dynamic batch): after the native passes
    only the RESHAPE is left, with a constant target shape."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, 4, 6), tf.float32)])
    def f(x):  # noqa: ANN001, ANN202
        return tf.reshape(x, tf.stack([tf.shape(x)[0], 3, 8])) * 2.0

    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    graph = parse_tflite(conv.convert(), name="dynamic_reshape")
    assert {"SHAPE", "STRIDED_SLICE", "PACK"} <= set(graph.op_set)
    folded = run_pipeline(graph, "native")
    assert folded.op_set == ["MUL", "RESHAPE"]
    reshape = next(op for op in folded.operators if op.op == "RESHAPE")
    shape_t = folded.tensors[reshape.inputs[1]]
    assert shape_t.is_constant and shape_t.data.tolist() == [1, 3, 8]


def test_quantized_arithmetic_and_graph_outputs_are_not_folded() -> None:
    """Arithmetic on int8 constants would need the quantized kernels: it stays; graph outputs stay computed."""
    q = ir.QuantParams(scale=(0.5,), zero_point=(0,))
    const = np.array([1, 2], dtype=np.int8)
    tensors = (
        ir.Tensor(0, "a", (2,), ir.DType.INT8, data=const, quant=q),
        ir.Tensor(1, "b", (2,), ir.DType.INT8, data=const, quant=q),
        ir.Tensor(2, "sum", (2,), ir.DType.INT8, quant=q),
        ir.Tensor(3, "x", (2,), ir.DType.FLOAT32),
        ir.Tensor(4, "shape", (1,), ir.DType.INT32),
    )
    ops = (ir.Add(index=0, inputs=(0, 1), outputs=(2,)), ir.Shape(index=1, inputs=(3,), outputs=(4,)))
    graph = ir.Graph("g", tensors, ops, inputs=(3,), outputs=(2, 4))
    assert evaluate(graph, ops[0]) is None
    assert evaluate(graph, ops[1]) is not None  # foldable in itself ...
    assert run_pipeline(graph, "native").op_set == ["ADD", "SHAPE"]  # ... but a graph output stays computed
