"""``codegen camera run``: classify live frames on the board and print what it says, frame by frame.

Each frame goes through the preprocessing recorded for the model (:mod:`codegen.train.sidecar`: resize, crop,
channels, mean/scale), is quantized like the model's input tensor and sent with INFER over the serial protocol.
The reply gives the output tensor and the device's counter ticks (cycles on a real board, executed instructions
on the emulated one). With ``check`` each reply is compared, byte for byte, with the generated C compiled for
the host on the same input.

Python API (scripting your own loop)::

    from codegen.camera.run import Classifier
    from codegen.hil.client import connect

    clf = Classifier("models/digits_int8.tflite")          # reads digits_int8.preprocess.json
    with connect("socket://127.0.0.1:5555") as dev:
        dev.info()
        reply = dev.infer(clf.prepare(frame_bgr))          # bytes of the quantized input tensor
        label, confidence = clf.decode(reply.outputs[0])
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from codegen.errors import CodegenError, DeviceError
from codegen.hil.validate import counter_unit
from codegen.train.datasets import Preprocess, apply_preprocess
from codegen.train.sidecar import ModelPreprocess, read_sidecar

log = logging.getLogger(__name__)


class Classifier:
    """A classifier model on the host side of a board: frame -> input bytes, output bytes -> label.

    ``preprocess`` defaults to the record next to the model (``NAME.preprocess.json``), then to ``recorded``
    (e.g. a project's manifest), then to plain 0..1 scaling (with a warning).
    """

    def __init__(
        self,
        model: str | Path,
        preprocess: Preprocess | None = None,
        classes: tuple[str, ...] | None = None,
        recorded: ModelPreprocess | None = None,
    ) -> None:
        from codegen.frontend import load_model

        self.path = Path(model)
        self.graph = load_model(self.path)
        if len(self.graph.inputs) != 1 or len(self.graph.outputs) != 1:
            raise CodegenError(f"{self.path.name} has several inputs or outputs",
                               hint="the camera commands take single-input image classifiers")
        self.tin, self.tout = self.graph.input_tensors[0], self.graph.output_tensors[0]
        shape = [int(d) for d in self.tin.shape]
        if len(shape) != 4:
            raise CodegenError(f"{self.path.name} takes input of shape {shape}, not an image",
                               hint="the camera commands take image classifiers (NHWC input)")
        self.record = read_sidecar(self.path) or recorded
        if preprocess is None:
            if self.record is None:
                log.warning("no preprocessing recorded for %s: feeding pixels scaled to 0..1 "
                            "(train with `codegen train` to record it)", self.path.name)
            preprocess = self.record.preprocess if self.record is not None else Preprocess()
        from dataclasses import replace

        self.preprocess = replace(preprocess, size=(shape[1], shape[2]), channels=shape[3])
        self.classes = classes or (self.record.classes if self.record is not None else ())

    @property
    def input_bytes(self) -> int:
        return int(np.prod([max(int(d), 1) for d in self.tin.shape])) * self.tin.dtype.np.itemsize

    def to_float(self, frame_bgr: np.ndarray) -> np.ndarray:
        """BGR uint8 frame (OpenCV) -> float network input (H, W, C), preprocessed like the training images."""
        rgb = np.ascontiguousarray(frame_bgr[..., ::-1], dtype=np.float32)[None]
        return apply_preprocess(rgb, self.preprocess)[0]

    def prepare(self, frame_bgr: np.ndarray) -> bytes:
        """BGR uint8 frame -> the bytes of the model's input tensor (quantized for an int8 model)."""
        x = self.to_float(frame_bgr)
        if self.tin.quant is None:
            return x.astype(self.tin.dtype.np).tobytes()
        from codegen.hil.validate import quantize

        return quantize(x, self.tin.quant, self.tin.dtype.np).tobytes()

    def scores(self, output: bytes) -> np.ndarray:
        raw = np.frombuffer(output, dtype=self.tout.dtype.np)
        if self.tout.quant is None:
            return raw.astype(np.float32)
        from codegen.hil.validate import dequantize

        return dequantize(raw, self.tout.quant)

    def decode(self, output: bytes) -> tuple[str, float]:
        """Output tensor bytes -> (label, confidence: the top output value, a probability after softmax)."""
        s = self.scores(output)
        i = int(np.argmax(s))
        return self.label(i), float(s[i])

    def label(self, index: int) -> str:
        return self.classes[index] if 0 <= index < len(self.classes) else str(index)


@dataclass(frozen=True)
class FrameResult:
    frame: int
    time_s: float
    label: str
    class_index: int
    confidence: float
    ticks: int
    device_ms: float | None
    host_equal: bool | None  # None: not checked

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class RunReport:
    model: str
    source: str
    board: str
    counter_kind: str
    counter_hz: int
    frames: tuple[FrameResult, ...]
    checked: bool

    @property
    def mismatches(self) -> int:
        return sum(1 for f in self.frames if f.host_equal is False)

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "source": self.source,
            "board": self.board,
            "counter_kind": self.counter_kind,
            "counter_hz": self.counter_hz,
            "checked_against_host_c": self.checked,
            "mismatches": self.mismatches if self.checked else None,
            "frames": [f.to_json() for f in self.frames],
        }


def format_frame(r: FrameResult, counter_kind: str, counter_hz: int = 0) -> str:
    unit, per_instruction = counter_unit(counter_kind)
    if unit == "icount ticks" and per_instruction:
        unit = f"ticks (emulated board: {r.ticks / per_instruction:,.0f} instructions)"
    elif unit == "instructions":
        unit = "instructions (emulated board)"
    at = f" at {counter_hz / 1e6:g} MHz" if counter_hz else ""
    ms = f" = {r.device_ms:.2f} ms{at}" if r.device_ms is not None else ""
    check = "" if r.host_equal is None else ("; host C: equal" if r.host_equal else "; host C: DIFFERENT")
    return f"frame {r.frame}: {r.label} ({r.confidence:.2f}), {r.ticks:,} {unit}{ms}{check}"


def run_frames(
    source: str,
    client: object,
    clf: Classifier,
    *,
    frames: int | None = None,
    check: bool = False,
    preview: bool = True,
    on_frame: Callable[[FrameResult, str, int], None] | None = None,
) -> RunReport:
    """Send frames of ``source`` to the device behind ``client`` (a connected
    :class:`codegen.hil.client.DeviceClient`) and collect the results."""
    from codegen.camera.sources import Preview, open_source

    if frames is not None and frames < 1:
        raise CodegenError("--frames must be at least 1", hint="e.g. --frames 20")
    info = client.info()  # type: ignore[attr-defined]
    if info.model_sha256.lower() != clf.graph.sha256.lower():
        raise DeviceError(
            f"the device runs another model (sha256 {info.model_sha256[:12]}...), not {clf.path.name} "
            f"({clf.graph.sha256[:12]}...)",
            hint="flash the firmware generated from this model, or pass the model the firmware was built from",
        )
    if not info.net_ok:
        raise DeviceError("the network failed to initialise on the device", hint="rebuild and check the arena size")
    host_c = None
    if check:
        from codegen.hil.sources import host_c_fns

        host_c = host_c_fns(clf.graph)[0]
    results: list[FrameResult] = []
    window = Preview("codegen camera run", preview)
    try:
        with open_source(source) as src:
            for frame in _limit(src.frames(), frames):
                data = clf.prepare(frame.image)
                reply = client.infer(data)  # type: ignore[attr-defined]
                out = reply.outputs[0]
                label, conf = clf.decode(out)
                equal = None if host_c is None else host_c(data) == out
                r = FrameResult(
                    frame=frame.index,
                    time_s=round(frame.time_s, 3),
                    label=label,
                    class_index=int(np.argmax(clf.scores(out))),
                    confidence=round(conf, 4),
                    ticks=int(reply.cycles),
                    device_ms=reply.cycles * 1000.0 / info.counter_hz if info.counter_hz else None,
                    host_equal=equal,
                )
                results.append(r)
                if on_frame is not None:
                    on_frame(r, info.counter_kind, info.counter_hz)
                if not window.show(frame.image, f"{label} {conf:.2f}"):
                    break
    finally:
        window.close()
    if not results:
        raise CodegenError(f"the source {source} gave no frames", hint="check the video file or the camera")
    return RunReport(
        model=clf.path.name,
        source=str(source),
        board=info.board,
        counter_kind=info.counter_kind,
        counter_hz=info.counter_hz,
        frames=tuple(results),
        checked=check,
    )


def _limit(it: Iterator, n: int | None) -> Iterator:
    for i, x in enumerate(it):
        if n is not None and i >= n:
            return
        yield x
