"""Model readers: a file in, a :class:`codegen.ir.Graph` out."""

from __future__ import annotations

from pathlib import Path

from codegen.ir import Graph


def load_model(path: str | Path) -> Graph:
    """Read a model file into the IR: ``.tflite`` directly, Keras ``.h5``/``.keras`` through a float32 conversion."""
    p = Path(path)
    if p.suffix.lower() == ".onnx":  # converted by `codegen convert` (codegen/convert/), never read here
        from codegen.errors import ModelError

        raise ModelError(f"{p} is an ONNX model; convert it to .tflite first",
                         hint=f"codegen convert --model {p} --out {p.with_suffix('.tflite')} --dataset digits")
    if p.suffix.lower() in (".h5", ".keras", ".hdf5"):
        from codegen.frontend.keras import read_keras

        return read_keras(p)
    from codegen.frontend.tflite import read_tflite

    return read_tflite(p)
