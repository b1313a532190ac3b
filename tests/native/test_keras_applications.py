"""Models people bring: random-weight Keras applications, int8 PTQ, generated and bit-exact with TFLM.

EfficientNet-B0 needs constant folding (its squeeze-excite reshapes compute their target shape with SHAPE ->
STRIDED_SLICE -> PACK); MobileNetV3-Small needs int8 HARD_SWISH. Its batch-norm statistics are first set
from the calibration data: with the initial statistics the activations vanish layer after layer, and the
resulting scales (around 1e-8) make TFLM and TFLite abort in Prepare, so nothing could be compared (the
HARD_SWISH arithmetic at such scales is pinned down in test_hard_swish_scales.py). Small inputs keep
conversion and compilation short; the converted models are cached under tests/.cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.backend.native.program import native_graph
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from codegen.verify import random_input

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "native"
SIZE = 32


def _build(name: str) -> Path:
    import tensorflow as tf
    import tf_keras as keras

    key = hashlib.sha256(repr((name, SIZE, tf.__version__, 2)).encode()).hexdigest()[:16]
    path = CACHE / f"app_{name}-{key}.tflite"
    if path.exists():
        return path
    keras.utils.set_random_seed(0)
    make = {"efficientnet_b0": keras.applications.EfficientNetB0,
            "mobilenet_v3_small": keras.applications.MobileNetV3Small}[name]
    model = make(weights=None, input_shape=(SIZE, SIZE, 3), classes=10)
    xs = np.random.default_rng(0).uniform(0, 255, (8, SIZE, SIZE, 3)).astype(np.float32)
    if name == "mobilenet_v3_small":
        _set_batch_norm_statistics(keras, model, xs)

    def rep():  # noqa: ANN202
        for i in range(4):
            yield [xs[i : i + 1]]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    data = conv.convert()
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def _set_batch_norm_statistics(keras, model, xs: np.ndarray) -> None:  # noqa: ANN001
    """Each batch norm's moving mean and variance := the statistics of its input on ``xs`` (in order)."""
    for bn in (layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)):
        acts = keras.Model(model.inputs, bn.input)(xs, training=False).numpy()
        axes = tuple(range(acts.ndim - 1))
        gamma, beta, _, _ = bn.get_weights()
        bn.set_weights([gamma, beta, acts.mean(axis=axes), acts.var(axis=axes) + 1e-3])


@pytest.mark.parametrize(
    ("name", "needs"),
    [("efficientnet_b0", {"SHAPE", "STRIDED_SLICE", "PACK"}), ("mobilenet_v3_small", {"HARD_SWISH"})],
)
def test_keras_application_int8_is_bit_exact_with_tflm(name: str, needs: set[str], build_cache) -> None:  # noqa: ANN001
    path = _build(name)
    graph = load_model(path)
    assert needs <= set(graph.op_set)
    assert not {"SHAPE", "STRIDED_SLICE", "PACK"} & set(native_graph(graph).op_set)  # folded away
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = [random_input(t.shape, t.dtype, rng) for t in graph.input_tensors]
        for mine, theirs in zip(ours.predict(x), ref.predict(x), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
