"""Built-in checks of a conversion: the float TFLite against onnxruntime, the int8 model's accuracy change.

onnxruntime runs the original ONNX model (input shape fixed, before any rewrite) as the float reference. Inputs
are made in the converted model's layout (NHWC) and permuted back to the ONNX layout for onnxruntime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from codegen.errors import ModelError


def channel_last_perm(rank: int) -> tuple[int, ...]:
    """Axes that take an ONNX NC... tensor to N...C (identity below rank 3)."""
    return (0, *range(2, rank), 1) if rank >= 3 else tuple(range(rank))


def model_layout_shape(onnx_shape: tuple[int, ...], nchw_input: bool) -> tuple[int, ...]:
    """The converted model's input shape for an ONNX input shape."""
    if nchw_input:
        return onnx_shape
    return tuple(onnx_shape[i] for i in channel_last_perm(len(onnx_shape)))


def to_onnx_layout(x: np.ndarray, onnx_rank: int, nchw_input: bool) -> np.ndarray:
    """A batch in the converted model's layout -> the same batch in the ONNX layout."""
    if nchw_input or onnx_rank < 3:
        return x
    perm = channel_last_perm(onnx_rank)
    inverse = tuple(int(i) for i in np.argsort(perm))
    return np.ascontiguousarray(x.transpose(inverse))


class OnnxReference:
    """The ONNX model on onnxruntime (CPU, one thread, graph optimisations off: the plain float reference)."""

    def __init__(self, proto: Any) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"onnxruntime cannot load the ONNX model: {first}",
                             hint="check the model with onnx.checker and re-export it") from exc
        self.input_name = self.session.get_inputs()[0].name

    def run(self, x_onnx: np.ndarray) -> np.ndarray:
        """Outputs for a batch (one sample per call: the model has batch size 1)."""
        outs = [self.session.run(None, {self.input_name: s[None].astype(np.float32)})[0] for s in x_onnx]
        return np.concatenate(outs).astype(np.float32) if outs else np.zeros((0,), np.float32)


@dataclass(frozen=True)
class Agreement:
    """Float TFLite vs onnxruntime on one set of inputs."""

    inputs: str
    samples: int
    max_abs_diff: float
    max_abs_reference: float

    def to_json(self) -> dict[str, object]:
        return {"inputs": self.inputs, "samples": self.samples, "max_abs_diff": self.max_abs_diff,
                "max_abs_reference": self.max_abs_reference}


def output_to_model_layout(ref: np.ndarray, model_shape: tuple[int, ...]) -> np.ndarray:
    """ONNX outputs (batch first) -> the converted model's output layout: onnx2tf keeps tensors of rank >= 3
    channel-last, so an NCHW output map comes out NHWC (rank 2 outputs are unchanged)."""
    if ref.ndim >= 3:
        channel_last = ref.transpose(channel_last_perm(ref.ndim))
        if tuple(channel_last.shape[1:]) == tuple(model_shape):
            return np.ascontiguousarray(channel_last)
    if tuple(ref.shape[1:]) == tuple(model_shape):
        return ref
    raise ModelError(f"the converted model's output shape {tuple(model_shape)} does not match the ONNX output "
                     f"{tuple(ref.shape[1:])}", hint="report this model; conversion changed its output")


def compare(name: str, tflite_float: bytes, reference: OnnxReference, x_model: np.ndarray, onnx_rank: int,
            nchw_input: bool) -> Agreement:
    """Run the same inputs through the float TFLite and onnxruntime; report the largest difference."""
    from codegen.train.quantize import HostModel

    model = HostModel(tflite_float)
    got = model.predict(x_model)
    ref = output_to_model_layout(reference.run(to_onnx_layout(x_model, onnx_rank, nchw_input)),
                                 tuple(int(d) for d in model.output["shape"][1:]))
    return Agreement(name, len(x_model), float(np.max(np.abs(got - ref))) if got.size else 0.0,
                     float(np.max(np.abs(ref))) if ref.size else 0.0)


def onnx_accuracy(reference: OnnxReference, x_model: np.ndarray, y: np.ndarray, onnx_rank: int,
                  nchw_input: bool) -> float:
    """Top-1 accuracy of the ONNX model (onnxruntime) on inputs in the converted model's layout."""
    scores = reference.run(to_onnx_layout(x_model, onnx_rank, nchw_input))
    return float(np.mean(np.argmax(scores.reshape(len(y), -1), axis=-1) == y)) if len(y) else 0.0
