"""Independent checks of converted models: TensorFlow Lite's interpreter and onnxruntime called directly."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def tflite_run(path: Path, x: np.ndarray) -> np.ndarray:
    """Float outputs of a float .tflite for a batch of inputs (one invocation per sample)."""
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    ys = []
    for s in x:
        interp.set_tensor(inp["index"], s[None].astype(np.float32))
        interp.invoke()
        ys.append(interp.get_tensor(out["index"])[0].copy())
    return np.stack(ys)


def tflite_io(path: Path) -> tuple[dict, dict]:
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(path))
    return interp.get_input_details()[0], interp.get_output_details()[0]


def onnxruntime_run(path: Path, x_nchw: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: s[None].astype(np.float32)})[0] for s in x_nchw])


def float_agreement(onnx_path: Path, float_tflite: Path, shape_nchw: tuple[int, ...], samples: int = 10,
                    seed: int = 3) -> float:
    """max |TFLite(NHWC) - onnxruntime(NCHW)| on random inputs (uniform 0..1 and standard normal)."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.random((samples, *shape_nchw[1:])), rng.standard_normal((samples, *shape_nchw[1:]))])
    x = x.astype(np.float32)
    ref = onnxruntime_run(onnx_path, x)
    got = tflite_run(float_tflite, x.transpose(0, 2, 3, 1))
    if ref.ndim == 4:  # an NCHW output map comes out NHWC
        ref = ref.transpose(0, 2, 3, 1)
    return float(np.max(np.abs(ref - got)))


def tflite_ops(path: Path) -> list[str]:
    from codegen.train.quantize import inspect_tflite

    return list(inspect_tflite(path.read_bytes()).operators)
