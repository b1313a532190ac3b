"""16x8 SPLIT, SPLIT_V, UNPACK and PACK (copies of the int16 values, as TFLM) are bit-exact with TFLM."""

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
    for op in ("SPLIT", "SPLIT_V", "UNPACK", "PACK"):
        assert "int16x8" in lowerings[op].dtypes
