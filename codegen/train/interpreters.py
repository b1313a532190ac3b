"""Which interpreter scores a .tflite: the accuracy a user reads should be the accuracy the board will have.

* Accuracy: :class:`AccuracyModel` runs the TFLite Micro reference interpreter (the ``tflite-micro`` package), whose
  integer results the generated C and the board reproduce bit for bit. Models TFLM cannot run (float16 weights,
  dynamic-range "hybrid" models) fall back to TensorFlow Lite's reference kernels
  (``OpResolverType.BUILTIN_REF``), and the name says so.
* Latency on the host: :class:`codegen.train.quantize.HostModel`, TensorFlow Lite's default (XNNPACK) kernels, one
  thread; its int8 results can differ from TFLM's, so it is only used for timing (:data:`LATENCY_INTERPRETER`).
"""

from __future__ import annotations

import contextlib
import logging
import warnings

import numpy as np

from codegen.errors import ModelError

log = logging.getLogger(__name__)

TFLM = "TFLM reference"
TFLITE_REF = "TFLite reference kernels"
LATENCY_INTERPRETER = "TFLite default kernels (XNNPACK), 1 thread"
ARENA_BYTES = 16 * 1024 * 1024


def quantize_input(x: np.ndarray, dtype: np.dtype, scale: float, zero_point: int) -> np.ndarray:
    """Float inputs -> the model's input type (round half to even, then clamp), as TFLite's converter expects."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)
    return x.astype(dtype)


class AccuracyModel:
    """A .tflite for scoring: ``predict(x)`` takes float inputs (NHWC batch) and returns the raw output per sample.

    ``name`` is the interpreter used (:data:`TFLM`, or :data:`TFLITE_REF` when TFLM cannot run the model)."""

    def __init__(self, buf: bytes) -> None:
        self.buf = bytes(buf)
        self._tflm = None
        self._tfl = None
        try:
            self._open_tflm(self.buf)
        except (RuntimeError, ValueError, ImportError) as exc:
            copy = _static_copy(self.buf)  # shapes computed at run time (a Dense on a sequence): TFLM on a copy
            if copy is not None:
                with contextlib.suppress(RuntimeError, ValueError, ImportError):
                    self._open_tflm(copy)
                    return
            log.info("TFLM cannot run this model (%s); scoring with TFLite's reference kernels", exc)
            self._open_tflite_ref()

    def _open_tflm(self, buf: bytes) -> None:
        """TFLM on ``buf``, tried once on zeros (raises when TFLM cannot run it)."""
        from tflite_micro.python.tflite_micro import runtime

        from codegen.reference import quiet_stderr

        with quiet_stderr():
            interp = runtime.Interpreter.from_bytes(buf, arena_size=ARENA_BYTES)
            d = interp.get_input_details(0)
            interp.set_input(np.zeros(tuple(int(v) for v in d["shape"]), d["dtype"]), 0)
            interp.invoke()
        self._tflm = interp
        self.name = TFLM
        din, dout = d, interp.get_output_details(0)
        self.input_dtype = np.dtype(din["dtype"])
        self.input_shape = tuple(int(v) for v in din["shape"])
        qp = din["quantization_parameters"]
        self.input_scale = float(qp["scales"][0]) if len(qp["scales"]) else 0.0
        self.input_zero_point = int(qp["zero_points"][0]) if len(qp["zero_points"]) else 0
        self.output_dtype = np.dtype(dout["dtype"])

    def _open_tflite_ref(self) -> None:
        from codegen.train.tfenv import tf

        t = tf()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                interp = t.lite.Interpreter(
                    model_content=self.buf,
                    num_threads=1,
                    experimental_op_resolver_type=t.lite.experimental.OpResolverType.BUILTIN_REF,
                )
            interp.allocate_tensors()
        except (RuntimeError, ValueError) as exc:
            raise ModelError(f"no interpreter can run the model: {exc}", hint="check the .tflite file") from exc
        self._tfl = interp
        self.name = TFLITE_REF
        din, dout = interp.get_input_details()[0], interp.get_output_details()[0]
        self._in_index, self._out_index = din["index"], dout["index"]
        self.input_dtype = np.dtype(din["dtype"])
        self.input_shape = tuple(int(v) for v in din["shape"])
        self.input_scale, self.input_zero_point = (float(din["quantization"][0]), int(din["quantization"][1]))
        self.output_dtype = np.dtype(dout["dtype"])

    def quantize(self, x: np.ndarray) -> np.ndarray:
        return quantize_input(x, self.input_dtype, self.input_scale, self.input_zero_point)

    def invoke_raw(self, q: np.ndarray) -> np.ndarray:
        """One already-quantized sample (no batch axis) -> its raw output (no batch axis)."""
        q = np.ascontiguousarray(q.reshape(self.input_shape), dtype=self.input_dtype)
        if self._tflm is not None:
            self._tflm.set_input(q, 0)
            self._tflm.invoke()
            return np.array(self._tflm.get_output(0))[0]
        if self._tfl is None:
            raise RuntimeError("no interpreter was loaded")
        self._tfl.set_tensor(self._in_index, q)
        self._tfl.invoke()
        return np.array(self._tfl.get_tensor(self._out_index))[0]

    def top1(self, x: np.ndarray) -> np.ndarray:
        """Top-1 class per float input sample."""
        q = self.quantize(x)
        return np.asarray([int(np.argmax(self.invoke_raw(s))) for s in q], dtype=np.int64)


def reference_accuracy(buf: bytes, x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """(top-1 accuracy of a .tflite on float inputs ``x`` with labels ``y``, interpreter name)."""
    model = AccuracyModel(buf)
    if not len(y):
        return 0.0, model.name
    return float(np.mean(model.top1(x) == y)), model.name


def _static_copy(buf: bytes) -> bytes | None:
    """The model with TensorFlow Lite's run-time shapes written in (:mod:`codegen.reference_static`), or ``None``."""
    from codegen.reference_static import static_copy

    try:
        return static_copy(buf)
    except Exception as exc:  # noqa: BLE001 - no run-time shapes, or TensorFlow Lite cannot resolve them either
        log.debug("no static copy of the model: %s", exc)
        return None
