"""Small models built with TensorFlow for the foundation tests (float32, int8 per-channel, int8 per-tensor)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")


def build_models(out: Path) -> dict[str, Path]:
    import tensorflow as tf
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inp)
    x = keras.layers.DepthwiseConv2D(3, strides=2, padding="valid", activation="relu6")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(5)(x)
    out_t = keras.layers.Softmax()(x)
    model = keras.Model(inp, out_t)

    def rep():
        rng = np.random.default_rng(0)
        for _ in range(8):
            yield [rng.uniform(-1, 1, (1, 12, 12, 3)).astype(np.float32)]

    paths = {}
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    paths["float32"] = out / "tiny_float32.tflite"
    paths["float32"].write_bytes(conv.convert())
    for name, per_channel in (("int8_per_channel", True), ("int8_per_tensor", False)):
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        if not per_channel:
            conv._experimental_disable_per_channel = True
        paths[name] = out / f"tiny_{name}.tflite"
        paths[name].write_bytes(conv.convert())
    return paths
