"""Keras -> TFLite conversion: fp32, float16, dynamic-range and full-int8 variants, QAT models, inspection.

Full-int8 conversion uses a representative dataset drawn from the training split and produces int8 inputs and
outputs (no QUANTIZE/DEQUANTIZE at the graph edges), with only TFLITE_BUILTINS_INT8 kernels allowed.
:func:`inspect_tflite` reads the produced flatbuffer with the TFLite schema to report the emitted operators,
tensor types and weight sparsity.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from codegen.errors import CodegenError
from codegen.train.tfenv import tf

log = logging.getLogger(__name__)

PTQ_MODES = ("fp32", "fp16", "dynamic", "int8")

# Operators whose weight input (index 1) is counted for sparsity.
WEIGHT_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def representative_samples(x: np.ndarray, count: int = 200, seed: int = 0) -> np.ndarray:
    """A fixed random choice of ``count`` inputs used to calibrate activation ranges."""
    n = min(count, len(x))
    idx = np.sort(np.random.default_rng(seed).choice(len(x), size=n, replace=False))
    return x[idx].astype(np.float32)


def convert(model: Any, mode: str, calibration: np.ndarray | None = None) -> bytes:
    """Convert a Keras model (plain, pruned-and-stripped, or quantization-aware) to a TFLite flatbuffer.

    mode: "fp32", "fp16" (float16 weights), "dynamic" (int8 weights, float activations) or "int8" (full
    integer, int8 input and output; needs ``calibration`` unless the model is quantization-aware).
    """
    if mode not in PTQ_MODES:
        raise CodegenError(f"unknown conversion mode {mode!r}", hint=f"use one of {', '.join(PTQ_MODES)}")
    t = tf()
    converter = t.lite.TFLiteConverter.from_keras_model(model)
    if mode == "fp16":
        converter.optimizations = [t.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [t.float16]
    elif mode == "dynamic":
        converter.optimizations = [t.lite.Optimize.DEFAULT]
    elif mode == "int8":
        converter.optimizations = [t.lite.Optimize.DEFAULT]
        if calibration is not None:
            samples = calibration.astype(np.float32)

            def gen() -> Iterator[list[np.ndarray]]:
                for s in samples:
                    yield [s[None, ...]]

            converter.representative_dataset = gen
        elif not _is_qat(model):
            raise CodegenError(
                "full-int8 conversion needs calibration data",
                hint="pass representative samples (the training set) or a QAT model",
            )
        converter.target_spec.supported_ops = [t.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = t.int8
        converter.inference_output_type = t.int8
    try:
        from codegen.reference import quiet_stderr
        from codegen.train.tfenv import debug_enabled

        # the MLIR quantizer prints "fully_quantize: 0, inference_type: 6 ..." to fd 2: shown with --debug only
        quiet = contextlib.nullcontext() if debug_enabled() else quiet_stderr()
        with warnings.catch_warnings(), quiet:
            warnings.simplefilter(
                "ignore"
            )  # "Statistics for quantized inputs were expected" is expected here
            return bytes(converter.convert())
    except Exception as exc:  # noqa: BLE001 - converter errors are many types; report them uniformly
        raise CodegenError(
            f"TFLite conversion ({mode}) of {model.name} failed: {exc}",
            hint="the model uses a layer without an int8 TFLite kernel; simplify the model",
        ) from exc


def _is_qat(model: Any) -> bool:
    return any(layer.__class__.__name__.startswith("Quantize") for layer in model.layers)


# -- inspection ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorSummary:
    name: str
    dtype: str
    shape: tuple[int, ...]
    scale: float | None
    zero_point: int | None


@dataclass(frozen=True)
class TFLiteSummary:
    """What the converter emitted: operators in order, graph input/output types, weight sparsity."""

    size_bytes: int
    operators: tuple[str, ...]
    inputs: tuple[TensorSummary, ...]
    outputs: tuple[TensorSummary, ...]
    weight_count: int
    zero_weights: int
    layer_sparsity: tuple[tuple[str, float], ...]

    @property
    def op_counts(self) -> dict[str, int]:
        return dict(sorted(Counter(self.operators).items()))

    @property
    def sparsity(self) -> float:
        return self.zero_weights / self.weight_count if self.weight_count else 0.0

    @property
    def fully_int8(self) -> bool:
        return all(t.dtype == "INT8" for t in (*self.inputs, *self.outputs))

    def to_json(self) -> dict[str, object]:
        return {
            "size_bytes": self.size_bytes,
            "op_counts": self.op_counts,
            "inputs": [_tensor_json(t) for t in self.inputs],
            "outputs": [_tensor_json(t) for t in self.outputs],
            "weight_count": self.weight_count,
            "zero_weights": self.zero_weights,
            "sparsity": round(self.sparsity, 4),
        }


def _tensor_json(t: TensorSummary) -> dict[str, object]:
    return {
        "name": t.name,
        "dtype": t.dtype,
        "shape": list(t.shape),
        "scale": t.scale,
        "zero_point": t.zero_point,
    }


def _schema() -> Any:
    tf()
    from tensorflow.lite.python import schema_py_generated

    return schema_py_generated


def inspect_tflite(buf: bytes) -> TFLiteSummary:
    """Parse a flatbuffer with the TFLite schema (no interpreter) and summarise it."""
    s = _schema()
    try:
        model = s.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    except Exception as exc:  # noqa: BLE001 - corrupt flatbuffers raise arbitrary errors
        raise CodegenError(f"not a TFLite flatbuffer: {exc}", hint="give a .tflite file") from exc
    op_names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    type_names = {v: k for k, v in vars(s.TensorType).items() if not k.startswith("_")}
    sub = model.subgraphs[0]

    def tensor(i: int) -> TensorSummary:
        t = sub.tensors[i]
        q = t.quantization
        scale = float(q.scale[0]) if q is not None and q.scale is not None and len(q.scale) else None
        zp = int(q.zeroPoint[0]) if q is not None and q.zeroPoint is not None and len(q.zeroPoint) else None
        name = t.name.decode() if isinstance(t.name, bytes) else str(t.name)
        shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
        return TensorSummary(name, type_names.get(t.type, str(t.type)), shape, scale, zp)

    ops: list[str] = []
    total = zeros = 0
    per_layer: list[tuple[str, float]] = []
    for op in sub.operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = op_names.get(builtin, f"CUSTOM({code.customCode})")
        ops.append(name)
        if name in WEIGHT_OPS and op.inputs is not None and len(op.inputs) > 1 and op.inputs[1] >= 0:
            w = sub.tensors[op.inputs[1]]
            data = model.buffers[w.buffer].data if w.buffer < len(model.buffers) else None
            if data is None or len(data) == 0:
                continue
            dtype = {"INT8": np.int8, "FLOAT32": np.float32, "FLOAT16": np.float16}.get(
                type_names.get(w.type, "")
            )
            if dtype is None:
                continue
            arr = np.frombuffer(bytes(bytearray(data)), dtype=dtype)
            nz = int(np.count_nonzero(arr == 0))
            total += arr.size
            zeros += nz
            per_layer.append((tensor(op.inputs[1]).name, nz / arr.size))
    return TFLiteSummary(
        size_bytes=len(buf),
        operators=tuple(ops),
        inputs=tuple(tensor(i) for i in sub.inputs),
        outputs=tuple(tensor(i) for i in sub.outputs),
        weight_count=total,
        zero_weights=zeros,
        layer_sparsity=tuple(per_layer),
    )


# -- running a .tflite on the host ---------------------------------------------------------------------------


class HostModel:
    """A .tflite on the host TFLite interpreter, taking float inputs and returning float scores (inputs are
    quantized and outputs dequantized when the model has integer edges)."""

    def __init__(self, buf: bytes, num_threads: int = 1) -> None:
        t = tf()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter deprecation notice
            self.interpreter = t.lite.Interpreter(model_content=buf, num_threads=num_threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.input_shape = tuple(int(d) for d in self.input["shape"][1:])

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        dtype = self.input["dtype"]
        if np.issubdtype(dtype, np.integer):
            scale, zp = self.input["quantization"]
            info = np.iinfo(dtype)
            q = np.round(x / scale) + zp
            return np.clip(q, info.min, info.max).astype(dtype)
        return x.astype(dtype)

    def dequantize_output(self, y: np.ndarray) -> np.ndarray:
        if np.issubdtype(self.output["dtype"], np.integer):
            scale, zp = self.output["quantization"]
            return (y.astype(np.float32) - zp) * scale
        return y.astype(np.float32)

    def invoke_raw(self, q: np.ndarray) -> np.ndarray:
        """Run one already-quantized sample (no batch axis); returns the raw output."""
        self.interpreter.set_tensor(self.input["index"], q[None, ...])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self.output["index"])[0]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Float scores for a batch of float samples (one invocation per sample)."""
        q = self.quantize_input(x)
        return np.stack([self.dequantize_output(self.invoke_raw(s)) for s in q]) if len(q) else np.zeros((0,))


def tflite_accuracy(buf: bytes, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of a .tflite on float inputs ``x`` with labels ``y``."""
    scores = HostModel(buf).predict(x)
    return float(np.mean(np.argmax(scores, axis=-1) == y)) if len(y) else 0.0
