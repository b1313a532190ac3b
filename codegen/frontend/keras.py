"""Read a Keras model (.h5 / .keras) by converting it to a float32 TFLite flatbuffer in memory.

Quantized deployment needs calibration data; `codegen train` (or tf.lite.TFLiteConverter with a representative
dataset) makes int8 models. Here a Keras model is read as it is: float32.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from codegen import ir
from codegen.errors import ModelError

log = logging.getLogger(__name__)


def read_keras(path: Path) -> ir.Graph:
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist", hint="check the path given to --model")
    head = path.read_bytes()[:8]
    if path.suffix.lower() in (".h5", ".hdf5") and not head.startswith(b"\x89HDF"):
        raise ModelError(f"{path} is not an HDF5 file", hint="give a Keras .h5 model or a .tflite file")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as keras

    from codegen.frontend.tflite import parse_tflite

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # h5py and Keras raise many kinds of errors for broken files
        raise ModelError(f"{path} cannot be loaded as a Keras model: {type(exc).__name__}: {exc}".splitlines()[0],
                         hint="check the file; custom layers are not supported, export to .tflite instead") from exc
    log.info("converting Keras model %s to float32 TFLite", path)
    try:
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    except Exception as exc:
        raise ModelError(f"{path}: TFLite conversion failed: {exc}".splitlines()[0],
                         hint="convert the model to .tflite yourself and pass that file") from exc
    return parse_tflite(bytes(data), name=path.stem, source=str(path))
