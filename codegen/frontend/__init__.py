"""Model readers: a file in, a :class:`codegen.ir.Graph` out."""

from __future__ import annotations

from pathlib import Path

from codegen.errors import ModelError
from codegen.ir import Graph


def load_model(path: str | Path) -> Graph:
    """Read a model file into the IR. ``.tflite`` files are read directly."""
    p = Path(path)
    if p.suffix.lower() in (".h5", ".keras", ".hdf5"):
        raise ModelError(
            f"{p} is a Keras model; codegen generates code from TFLite flatbuffers",
            hint="convert it first: `codegen train` writes .tflite variants, or use tf.lite.TFLiteConverter",
        )
    from codegen.frontend.tflite import read_tflite

    return read_tflite(p)
