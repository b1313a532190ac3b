"""16x8 SPLIT, SPLIT_V, UNPACK, PACK, RESIZE_NEAREST_NEIGHBOR (copies of the int16 values), MAXIMUM, MINIMUM
(picks), RELU, RELU6 (TFLM's requantize-and-clamp), MUL/SUB by constants, BATCH_MATMUL (int64 accumulator) and
SQUARED_DIFFERENCE are bit-exact with TFLM."""

from __future__ import annotations

import numpy as np

from codegen import host
from codegen.backend.native import kernels
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build


def _split_pack(K, x):  # noqa: ANN001, ANN202
    import tensorflow as tf

    c = K.layers.Conv2D(4, 3, padding="same")(x[0])
    a, b = tf.split(c, 2, axis=3)
    p, q, r = tf.split(c, [1, -1, 2], axis=1)
    rows = tf.unstack(c, axis=1)
    return [a, b, p, q, r, tf.stack([rows[0], rows[3]], axis=2)]


SPEC = OpSpec("s16_split_pack", ((5, 6, 3),), _split_pack, quant="int16x8", input_range=(-2, 2))


def test_16x8_split_split_v_unpack_pack_match_tflm(build_cache) -> None:  # noqa: ANN001
    path = build(SPEC)
    graph = load_model(path)
    ops = {op.op for op in graph.operators}
    assert {"SPLIT", "SPLIT_V", "UNPACK", "PACK"} <= ops, ops
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(2)
    for k in range(6):
        bound = 32768 if k % 2 else 2000
        x = rng.integers(-bound, bound, size=graph.input_tensors[0].shape).astype(np.int16)
        for mine, theirs in zip(ours.predict([x]), ref.predict([x]), strict=True):
            assert mine.dtype == np.int16
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def test_registries_list_int16_split_pack() -> None:
    lowerings = kernels.load_lowerings()
    for op in ("SPLIT", "SPLIT_V", "UNPACK", "PACK", "RELU", "RELU6", "MAXIMUM", "MINIMUM", "RESIZE_NEAREST_NEIGHBOR",
               "BATCH_MATMUL", "SQUARED_DIFFERENCE"):
        assert "int16x8" in lowerings[op].dtypes


def _relu_minmax_resize(K, x):  # noqa: ANN001, ANN202
    import tensorflow as tf

    c = K.layers.Conv2D(4, 3, padding="same")(x[0])
    both = K.layers.Concatenate()([c, x[0] * 0.5])  # RELU after a concatenation stays a separate operator
    return [K.layers.ReLU()(both), K.layers.ReLU(6.0)(both), tf.maximum(c, c * 0.3), tf.minimum(c, c * 0.3),
            tf.image.resize(c, (7, 9), method="nearest"),
            tf.compat.v1.image.resize_nearest_neighbor(c, (10, 12), align_corners=True),
            c - tf.constant([0.5, -1.0, 2.0, 0.25])]  # MUL / SUB by constants (int16 constant operands)


SPEC2 = OpSpec("s16_relu_minmax_resize", ((5, 6, 4),), _relu_minmax_resize, quant="int16x8", input_range=(-8, 8))


def test_16x8_relu_relu6_maximum_minimum_resize_nearest_match_tflm(build_cache) -> None:  # noqa: ANN001
    path = build(SPEC2)
    graph = load_model(path)
    ops = {op.op: graph.tensors[op.inputs[0]].dtype.value for op in graph.operators}
    wanted = ("RELU", "RELU6", "MAXIMUM", "MINIMUM", "RESIZE_NEAREST_NEIGHBOR", "MUL")
    assert all(ops.get(op) == "int16" for op in wanted), ops
    assert any(graph.tensors[i].is_constant for op in graph.operators if op.op in ("MUL", "SUB", "ADD")
               for i in op.inputs)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(6)
    distinct = set()
    for k in range(8):
        bound = 32768 if k % 2 else 3000
        x = rng.integers(-bound, bound, size=graph.input_tensors[0].shape).astype(np.int16)
        for mine, theirs in zip(ours.predict([x]), ref.predict([x]), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
            distinct.update(mine.reshape(-1).tolist())
    assert len(distinct) > 500


def _matmul(K, x):  # noqa: ANN001, ANN202
    import tensorflow as tf

    scores = tf.matmul(x[0], x[1], transpose_b=True)
    return [scores, tf.matmul(scores, x[1])]


SPEC3 = OpSpec("s16_batch_matmul", ((6, 5), (7, 5)), _matmul, quant="int16x8", input_range=(-3, 3))


def test_16x8_batch_matmul_matches_tflm(build_cache) -> None:  # noqa: ANN001
    """int16 x int16 products summed in int64 (attention-like: Q K^T, then times V = K)."""
    path = build(SPEC3)
    graph = load_model(path)
    mm = [op for op in graph.operators if op.op == "BATCH_MATMUL"]
    assert len(mm) == 2 and all(graph.tensors[op.inputs[0]].dtype.value == "int16" for op in mm)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(9)
    distinct = set()
    for k in range(8):
        bound = 32768 if k % 2 else 4000
        xs = [rng.integers(-bound, bound, size=t.shape).astype(np.int16) for t in graph.input_tensors]
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
            distinct.update(mine.reshape(-1).tolist())
    assert len(distinct) > 100


def _sqdiff(K, x):  # noqa: ANN001, ANN202
    import tensorflow as tf

    return [tf.math.squared_difference(x[0], x[0] * 0.3), tf.math.squared_difference(x[0], x[1])]  # x[1] broadcast


SPEC4 = OpSpec("s16_squared_difference", ((4, 5), (1, 5)), _sqdiff, quant="int16x8", input_range=(-3, 3))


def test_16x8_squared_difference_matches_tflm(build_cache) -> None:  # noqa: ANN001
    """TFLM's int8 arithmetic with no left shift for int16 (7 bits for int8)."""
    path = build(SPEC4)
    graph = load_model(path)
    sq = [op for op in graph.operators if op.op == "SQUARED_DIFFERENCE"]
    assert len(sq) == 2 and all(graph.tensors[op.inputs[0]].dtype.value == "int16" for op in sq)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(12)
    distinct = set()
    for k in range(10):
        bound = 32768 if k % 2 else 4000
        xs = [rng.integers(-bound, bound, size=t.shape).astype(np.int16) for t in graph.input_tensors]
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
            distinct.update(mine.reshape(-1).tolist())
    assert len(distinct) > 100
