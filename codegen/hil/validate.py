"""Hardware-in-the-loop validation: does the board compute what the host computes, and how fast?

One run sends N inputs to a device (real board on a serial port, or the emulated STM32F405 on a TCP socket),
and compares every device output with two host computations of the same int8 model: the TFLite Micro reference
interpreter and the generated C compiled for the host. With a float model it also measures the accuracy lost by
quantization, so one report carries the four-way chain float -> int8 reference -> generated C on host -> device.

The device is reached through the small :class:`Target` interface (``info``, ``infer``, ``profile``,
``layer_outputs``); :mod:`codegen.hil.device` adapts the serial client to it, tests use in-process fakes.
Host computations are plain callables ``bytes -> bytes`` so that they can be swapped as well.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from codegen import __version__
from codegen.errors import CodegenError, DeviceError
from codegen.ir import DType, Graph, QuantParams, Tensor
from codegen.tolerance import FloatTolerance, float_tolerance

log = logging.getLogger(__name__)

TOOL_VERSION = f"codegen {__version__}"


# ----------------------------------------------------------------------------------------------------------------
# What the device tells us


@dataclass(frozen=True)
class DeviceInfo:
    """Answer to INFO: which model and tool the firmware was built from, and how it counts time."""

    model_sha256: str
    tool_version: str
    board: str = ""
    counter_kind: str = "cycles"          # "cycles", "instructions (QEMU icount)", "SysTick ticks (...)"
    counter_hz: int = 0                   # rate of the counter; 0 = unknown
    num_layers: int = 0
    input_bytes: int = 0
    output_bytes: int = 0


@dataclass(frozen=True)
class Inference:
    """One INFER answer: raw output bytes and the counter ticks the inference took."""

    output: bytes
    cycles: int


@dataclass(frozen=True)
class LinkStats:
    """Link health seen by the client: frames rejected by CRC, retries, resets (READY seen mid-run)."""

    crc_errors: int = 0
    retries: int = 0
    timeouts: int = 0
    resets: int = 0


class DeviceResetError(DeviceError):
    """The device announced READY in the middle of a run: it rebooted and lost its state."""


class Target(Protocol):
    """What validation needs from a device."""

    def info(self) -> DeviceInfo: ...

    def infer(self, data: bytes) -> Inference: ...

    def profile(self, data: bytes) -> tuple[tuple[str, int], ...]:
        """(layer name, counter ticks) per layer for one inference on ``data``."""
        ...

    def layer_outputs(self, data: bytes) -> tuple[bytes, ...]:
        """Raw output of every layer for one inference on ``data``."""
        ...

    def link_stats(self) -> LinkStats: ...


HostFn = Callable[[bytes], bytes]


# ----------------------------------------------------------------------------------------------------------------
# Configuration and results


@dataclass(frozen=True)
class ValidationConfig:
    samples: int = 100
    seed: int = 0
    cooldown_s: float = 0.0
    on_reset: str = "abort"               # "abort" or "resume"
    profile: bool = True
    max_divergence_checks: int = 3        # samples for which per-layer dumps are compared
    progress: bool = True

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise CodegenError(f"--samples must be at least 1, got {self.samples}", hint="e.g. --samples 100")
        if self.on_reset not in ("abort", "resume"):
            raise CodegenError(f"unknown reset policy {self.on_reset!r}", hint="use 'abort' or 'resume'")


@dataclass(frozen=True)
class Comparison:
    """How well two sources agree over all samples (``b`` is compared against ``a``)."""

    a: str
    b: str
    samples: int
    exact: int
    max_abs_diff: int | float
    top1_agree: int
    within: int | None = None  # samples within the float tolerance (None: bit-exactness required)

    @property
    def agreed(self) -> bool:
        """Every sample exact, or within the float tolerance where one applies."""
        return self.exact == self.samples or (self.within is not None and self.within == self.samples)

    @property
    def exact_rate(self) -> float:
        return self.exact / self.samples if self.samples else 0.0

    @property
    def top1_rate(self) -> float:
        return self.top1_agree / self.samples if self.samples else 0.0

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "exact_rate": self.exact_rate, "top1_rate": self.top1_rate}


@dataclass(frozen=True)
class LatencyStats:
    count: int
    unit: str                             # "cycles", "instructions" or "icount ticks" (see counter_unit)
    counter_hz: int
    mean: float
    min: int
    max: int
    p50: float
    p99: float
    per_instruction: float | None = None  # counts per executed instruction, when the counter is tied to them

    def ms(self, ticks: float) -> float | None:
        return ticks * 1000.0 / self.counter_hz if self.counter_hz else None

    def instructions(self, ticks: float) -> float | None:
        """Executed instructions for a count (emulated boards only; None for real cycles)."""
        return ticks / self.per_instruction if self.per_instruction else None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = asdict(self)
        keys = ("mean", "min", "max", "p50", "p99")
        out["ms"] = {k: self.ms(getattr(self, k)) for k in keys}
        if self.per_instruction:
            out["instructions"] = {k: self.instructions(getattr(self, k)) for k in keys}
        return out


@dataclass(frozen=True)
class LayerProfile:
    index: int
    name: str
    cycles: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Divergence:
    """First layer whose device output differs from the host generated C, for one sample."""

    sample: int
    layer: int | None                     # None: layers agree, only the final output differs
    layer_name: str
    differing_bytes: int
    max_abs_diff: int

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SampleResult:
    index: int
    label: int | None
    device_top1: int
    reference_top1: int | None
    host_c_top1: int | None
    float_top1: int | None
    exact_vs_reference: bool | None
    exact_vs_host_c: bool | None
    max_abs_diff: int
    cycles: int


@dataclass(frozen=True)
class ValidationReport:
    model: str
    model_sha256: str
    board: str
    device: DeviceInfo
    input_source: str
    samples: tuple[SampleResult, ...]
    comparisons: tuple[Comparison, ...]
    accuracy: tuple[tuple[str, float], ...]        # (source, accuracy against labels)
    latency: LatencyStats
    layers: tuple[LayerProfile, ...]
    divergences: tuple[Divergence, ...]
    link: LinkStats
    resets_resumed: int = 0
    files: tuple[str, ...] = field(default=())
    tolerance: str = ""  # the float tolerance outputs were compared with (codegen.tolerance); "" = bit-exact

    @property
    def device_exact_rate(self) -> float:
        """Exact-match rate of the device against the strictest host source available."""
        rates = [c.exact_rate for c in self.comparisons if c.b == "device"]
        return min(rates) if rates else 0.0

    @property
    def passed(self) -> bool:
        return bool(self.samples) and all(c.agreed for c in self.comparisons if c.b == "device")

    def comparison(self, a: str, b: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.a == a and c.b == b), None)

    def to_json(self) -> dict[str, object]:
        return {
            "tool_version": TOOL_VERSION,
            "model": self.model,
            "model_sha256": self.model_sha256,
            "board": self.board,
            "device": asdict(self.device),
            "input_source": self.input_source,
            "passed": self.passed,
            "device_exact_rate": self.device_exact_rate,
            "tolerance": self.tolerance,
            "comparisons": [c.to_json() for c in self.comparisons],
            "accuracy": dict(self.accuracy),
            "latency": self.latency.to_json(),
            "layers": [lp.to_json() for lp in self.layers],
            "divergences": [d.to_json() for d in self.divergences],
            "link": asdict(self.link),
            "resets_resumed": self.resets_resumed,
            "samples": [asdict(s) for s in self.samples],
            "files": list(self.files),
        }


# ----------------------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class InputSet:
    """Quantized inputs (raw bytes as the device expects them), optional labels and float inputs."""

    source: str
    data: tuple[bytes, ...]
    labels: tuple[int, ...] | None = None
    floats: np.ndarray | None = None      # float32 inputs for a float model, one row per sample


def _random_tensor(tin: Tensor, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    dt = tin.dtype.np
    shape = (n, *[max(int(d), 1) for d in tin.shape])
    if tin.dtype is DType.FLOAT32:
        arr = rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)
        return arr, arr
    info = np.iinfo(dt)
    arr = rng.integers(info.min, int(info.max) + 1, size=shape, dtype=np.int64).astype(dt)
    return arr, dequantize(arr, tin.quant) if tin.quant else None


def random_inputs(graph: Graph, n: int, seed: int = 0) -> InputSet:
    """``n`` inputs drawn uniformly over each input type's range (seeded, so runs repeat).

    With several inputs, each sample is every input's bytes concatenated in graph order (as INFER carries them);
    float inputs (for the accuracy-drop measurement) are kept for single-input models only.
    """
    rng = np.random.default_rng(seed)
    drawn = [_random_tensor(t, n, rng) for t in graph.input_tensors]
    data = tuple(b"".join(arr[k].tobytes() for arr, _ in drawn) for k in range(n))
    floats = drawn[0][1] if len(drawn) == 1 else None
    return InputSet(f"random (seed {seed})", data, None, floats)


def quantize(x: np.ndarray, quant: QuantParams, dtype: np.dtype) -> np.ndarray:
    """Float values -> integer tensor values with per-tensor quantization parameters (round half to even)."""
    scale, zp = quant.scale[0], quant.zero_point[0]
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(dtype)


def dequantize(q: np.ndarray, quant: QuantParams) -> np.ndarray:
    return ((q.astype(np.float32) - quant.zero_point[0]) * quant.scale[0]).astype(np.float32)


@dataclass(frozen=True)
class _TensorSamples:
    quantized: np.ndarray                 # samples x tensor shape, the input's dtype
    floats: np.ndarray | None             # the same samples as float32 (for a float model), if known
    labels: tuple[int, ...] | None
    source: str


def _image_samples(graph: Graph, tin: Tensor, spec: str, n: int, seed: int) -> _TensorSamples:
    """Test samples of an image dataset (see :mod:`codegen.train.datasets`) for the NHWC input ``tin``."""
    from dataclasses import replace

    from codegen.train.datasets import Preprocess, Subset, load_dataset
    from codegen.train.sidecar import read_sidecar

    shape = [int(d) for d in tin.shape]
    if len(shape) != 4:
        raise CodegenError(f"--dataset {spec} needs an image input (NHWC); input {tin.name} of {graph.name} has "
                           f"shape {list(tin.shape)}",
                           hint="pass a .npy file of samples for it, or use --samples N for random inputs")
    recorded = read_sidecar(graph.source) if graph.source else None  # preprocessing recorded by `codegen train`
    pre = replace(recorded.preprocess if recorded else Preprocess(), size=(shape[1], shape[2]), channels=shape[3])
    ds = load_dataset(spec, pre, Subset(train=1, test=n, seed=seed))
    x = ds.x_test[:n].astype(np.float32).reshape(-1, *shape[1:])
    y = tuple(int(v) for v in ds.y_test[:n])
    return _TensorSamples(_quantized(tin, x, spec), x, y, f"dataset {spec} (test split, {len(y)} samples)")


def _quantized(tin: Tensor, x: np.ndarray, spec: str) -> np.ndarray:
    if tin.dtype is DType.FLOAT32:
        return x.astype(np.float32)
    if tin.quant is None:
        raise CodegenError(f"input tensor {tin.name} is {tin.dtype.value} without quantization parameters, so "
                           f"--dataset {spec} cannot be quantized for it", hint="use --samples N for random inputs")
    return quantize(x, tin.quant, tin.dtype.np)


def _npy_samples(tin: Tensor, path: Path, n: int) -> _TensorSamples:
    """Samples from a .npy file: float values are quantized with the input's parameters, integer values of the
    input's own type are taken as they are (already quantized)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise CodegenError(f"cannot read --dataset {path}: {exc}",
                           hint="pass a .npy file written by numpy.save (numbers, no objects)") from exc
    shape = [max(int(d), 1) for d in tin.shape]
    size = int(np.prod(shape))
    if arr.ndim < 1 or arr.shape[0] == 0 or int(np.prod(arr.shape[1:])) != size or arr.dtype.kind not in "biuf":
        raise CodegenError(f"--dataset {path} holds an array of shape {list(arr.shape)} ({arr.dtype}); input "
                           f"{tin.name} takes samples of shape {list(tin.shape)}",
                           hint=f"save an array of shape [samples, {', '.join(str(d) for d in shape)}]")
    arr = arr[:n].reshape(-1, *shape)
    if arr.dtype.kind == "f" or tin.dtype is DType.FLOAT32:
        x = arr.astype(np.float32)
        return _TensorSamples(_quantized(tin, x, str(path)), x, None, f"{path.name} ({len(x)} samples)")
    info = np.iinfo(tin.dtype.np)
    if arr.dtype != tin.dtype.np and (int(arr.min()) < info.min or int(arr.max()) > info.max):
        raise CodegenError(f"--dataset {path} holds {arr.dtype} values in [{int(arr.min())}, {int(arr.max())}], "
                           f"outside input {tin.name}'s {tin.dtype.value} range",
                           hint=f"save float values (quantized here) or {tin.dtype.value} values")
    q = arr.astype(tin.dtype.np)
    floats = dequantize(q, tin.quant) if tin.quant else None
    return _TensorSamples(q, floats, None, f"{path.name} ({len(q)} samples, {tin.dtype.value} as given)")


def dataset_inputs(graph: Graph, specs: str | Sequence[str], n: int, seed: int = 0) -> InputSet:
    """``n`` samples per input from ``specs``, one per graph input in graph order: an image dataset name (see
    :mod:`codegen.train.datasets`; test split, preprocessed as recorded by ``codegen train``) or a ``.npy`` file of
    samples. Inputs with fewer samples shorten the run to the smallest count. Labels and float inputs (for the
    accuracy measurements) are kept for single-input models."""
    specs = [specs] if isinstance(specs, str) else list(specs)
    tins = graph.input_tensors
    if len(specs) != len(tins):
        names = ", ".join(t.name for t in tins)
        raise CodegenError(f"{graph.name} has {len(tins)} input(s) ({names}) but {len(specs)} --dataset value(s) "
                           "were given", hint="pass --dataset once per input, in this order, or --samples N for "
                           "random inputs")
    parts = [_npy_samples(t, Path(spec), n) if spec.endswith(".npy") else _image_samples(graph, t, spec, n, seed)
             for t, spec in zip(tins, specs, strict=True)]
    m = min(len(p.quantized) for p in parts)
    data = tuple(b"".join(p.quantized[k].tobytes() for p in parts) for k in range(m))
    single = parts[0] if len(parts) == 1 else None
    labels = single.labels[:m] if single and single.labels else None
    floats = single.floats[:m] if single and single.floats is not None else None
    source = parts[0].source if single else "; ".join(f"{t.name}: {p.source}" for t, p in zip(tins, parts, strict=True))
    if any(len(p.quantized) > m for p in parts):
        source += f" (first {m} samples of each)"
    return InputSet(source, data, labels, floats)


# ----------------------------------------------------------------------------------------------------------------
# The run


def split_outputs(graph: Graph, raw: bytes) -> list[np.ndarray]:
    """Concatenated raw output bytes (an INFER reply) -> one flat array per graph output, in order."""
    out, off = [], 0
    for t in graph.output_tensors:
        n = int(np.prod([max(int(d), 1) for d in t.shape])) * t.dtype.np.itemsize
        out.append(np.frombuffer(raw[off : off + n], dtype=t.dtype.np))
        off += n
    if off != len(raw):
        out.append(np.frombuffer(raw[off:], dtype=np.uint8))  # a size mismatch never compares equal
    return out


def _values(graph: Graph, raw: bytes) -> np.ndarray:
    """Every output's values in one flat array (one output: its own dtype; several: float64, exact for int8/16/32)."""
    parts = split_outputs(graph, raw)
    return parts[0] if len(parts) == 1 else np.concatenate([p.astype(np.float64) for p in parts])


def _max_abs(a: np.ndarray, b: np.ndarray) -> int | float:
    if a.shape != b.shape:
        return math.inf
    diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
    m = float(diff.max()) if diff.size else 0.0
    return int(m) if np.issubdtype(a.dtype, np.integer) else m


_PER_INSTRUCTION = re.compile(r"(\d{1,3}(?:\.\d{1,6})?) per instruction")


def counter_unit(counter_kind: str) -> tuple[str, float | None]:
    """What a device's counter counts: (unit, counts per executed instruction or None).

    Real boards count cycles (DWT). The emulated RV32 board counts executed instructions (minstret under
    -icount shift=0). The emulated STM32F405 counts SysTick ticks of its 168 MHz virtual clock under -icount
    shift=3: 1.344 per executed instruction, which its firmware states in the counter kind. The string comes over
    the serial link, so a factor outside (0.01, 100] is ignored.
    """
    if "instruction" not in counter_kind:
        return "cycles", None
    m = _PER_INSTRUCTION.search(counter_kind)
    if "tick" in counter_kind and m and 0.01 < float(m.group(1)) <= 100.0:
        return "icount ticks", float(m.group(1))
    return "instructions", 1.0


def latency_stats(cycles: Sequence[int], counter_kind: str, counter_hz: int) -> LatencyStats:
    arr = np.asarray(cycles, dtype=np.float64)
    unit, per_instruction = counter_unit(counter_kind)
    if arr.size == 0:
        return LatencyStats(0, unit, counter_hz, 0.0, 0, 0, 0.0, 0.0, per_instruction)
    return LatencyStats(
        count=int(arr.size), unit=unit, counter_hz=counter_hz, mean=float(arr.mean()), min=int(arr.min()),
        max=int(arr.max()), p50=float(np.percentile(arr, 50)), p99=float(np.percentile(arr, 99)),
        per_instruction=per_instruction,
    )


def latency_unit_text(lat: LatencyStats) -> str:
    """The unit of a latency figure, said honestly (report headers, plot axes)."""
    if lat.unit == "icount ticks":
        return (f"SysTick ticks under QEMU icount ({lat.per_instruction:g} per executed instruction; "
                "not real cycles)")
    if lat.unit == "instructions":
        return "instructions (QEMU icount, not real cycles)"
    return lat.unit


def check_identity(info: DeviceInfo, graph: Graph, tool_version: str = TOOL_VERSION) -> None:
    """Refuse a device whose firmware was built from another model or another tool version."""
    if info.model_sha256.lower() != graph.sha256.lower():
        raise DeviceError(
            f"the device runs a different model: device sha256 {info.model_sha256}, "
            f"{Path(graph.source).name or graph.name} sha256 {graph.sha256}",
            hint="flash firmware generated from this model (codegen generate + codegen flash), or pass the "
            "model the firmware was built from",
        )
    if info.tool_version != tool_version:
        raise DeviceError(
            f"the firmware was generated by {info.tool_version!r}, this is {tool_version!r}",
            hint="regenerate and reflash the project with this codegen version",
        )


class _Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self._bar = None
        if enabled:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc="validate", unit="inf", leave=False)

    def update(self, **postfix: object) -> None:
        if self._bar is not None:
            self._bar.update(1)
            if postfix:
                self._bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _infer_with_policy(target: Target, data: bytes, graph: Graph, config: ValidationConfig,
                       resumed: list[int], index: int) -> Inference:
    while True:
        try:
            return target.infer(data)
        except DeviceResetError as exc:
            if config.on_reset != "resume" or resumed[0] >= 3:
                raise DeviceResetError(
                    f"the device reset during inference {index + 1} ({exc.message})",
                    hint="check the power supply and the stack/arena size, or rerun with --on-reset resume",
                ) from exc
            resumed[0] += 1
            log.warning("device reset during inference %d; checking INFO and resuming", index + 1)
            check_identity(target.info(), graph)


def validate(
    target: Target,
    graph: Graph,
    inputs: InputSet,
    *,
    reference: HostFn | None = None,
    host_c: HostFn | None = None,
    float_model: Callable[[np.ndarray], np.ndarray] | None = None,
    host_layers: Callable[[bytes], tuple[bytes, ...]] | None = None,
    layer_names: Sequence[str] = (),
    config: ValidationConfig | None = None,
    board: str = "",
    clock_hz: int = 0,
    sleep: Callable[[float], None] | None = None,
) -> ValidationReport:
    """Run every input on ``target`` and compare with the host sources given; see the module docstring."""
    import time

    config = config or ValidationConfig(samples=len(inputs.data))
    sleep = sleep or time.sleep
    odts = {t.dtype.np for t in graph.output_tensors}
    odt = odts.pop() if len(odts) == 1 else np.dtype(np.float64)

    info = target.info()
    check_identity(info, graph)
    counter_hz = info.counter_hz or clock_hz

    names = ["device"] + (["reference"] if reference else []) + (["host_c"] if host_c else [])
    outputs: dict[str, list[np.ndarray]] = {k: [] for k in names}
    cycles: list[int] = []
    float_top1: list[int] | None = [] if float_model is not None and inputs.floats is not None else None
    results: list[SampleResult] = []
    resumed = [0]
    progress = _Progress(len(inputs.data), config.progress)
    mismatches = 0
    try:
        for i, data in enumerate(inputs.data):
            inf = _infer_with_policy(target, data, graph, config, resumed, i)
            dev = _values(graph, inf.output)
            outputs["device"].append(dev)
            cycles.append(inf.cycles)
            ref = _values(graph, reference(data)) if reference else None
            hc = _values(graph, host_c(data)) if host_c else None
            if ref is not None:
                outputs["reference"].append(ref)
            if hc is not None:
                outputs["host_c"].append(hc)
            ft = None
            if float_top1 is not None and float_model is not None and inputs.floats is not None:
                ft = int(np.argmax(float_model(inputs.floats[i : i + 1]).reshape(-1)))
                float_top1.append(ft)
            strict = hc if hc is not None else ref
            mad = _max_abs(strict, dev) if strict is not None else 0
            exact_ref = None if ref is None else bool(np.array_equal(ref, dev))
            exact_hc = None if hc is None else bool(np.array_equal(hc, dev))
            if exact_ref is False or exact_hc is False:
                mismatches += 1
            results.append(SampleResult(
                index=i, label=inputs.labels[i] if inputs.labels else None, device_top1=int(np.argmax(dev)),
                reference_top1=None if ref is None else int(np.argmax(ref)),
                host_c_top1=None if hc is None else int(np.argmax(hc)), float_top1=ft,
                exact_vs_reference=exact_ref, exact_vs_host_c=exact_hc,
                max_abs_diff=int(mad) if not isinstance(mad, float) or math.isfinite(mad) else -1,
                cycles=inf.cycles,
            ))
            progress.update(mismatches=mismatches)
            if config.cooldown_s > 0:
                sleep(config.cooldown_s)
    finally:
        progress.close()

    comparisons = []
    tol = float_tolerance(graph) if odt == np.float32 else None
    for a, b in (("reference", "host_c"), ("reference", "device"), ("host_c", "device")):
        if a in outputs and b in outputs:
            comparisons.append(_compare(a, b, outputs[a], outputs[b], tol))

    accuracy: list[tuple[str, float]] = []
    if inputs.labels:
        labels = np.asarray(inputs.labels)
        if float_top1:
            accuracy.append(("float", float(np.mean(np.asarray(float_top1) == labels))))
        for k in ("reference", "host_c", "device"):
            if k in outputs:
                top = np.asarray([int(np.argmax(o)) for o in outputs[k]])
                accuracy.append((k, float(np.mean(top == labels))))
    if float_top1 and "reference" in outputs:
        top = [int(np.argmax(o)) for o in outputs["reference"]]
        comparisons.insert(0, Comparison("float", "reference", len(top), 0, math.nan,
                                         sum(int(a == b) for a, b in zip(float_top1, top, strict=True))))

    layers: tuple[LayerProfile, ...] = ()
    if config.profile:
        layers = _profile(target, inputs.data[0], layer_names)

    names = tuple(lp.name for lp in layers) or tuple(layer_names)
    divergences = _find_divergences(target, inputs.data, results, host_layers, names, config)

    return ValidationReport(
        model=graph.source or graph.name, model_sha256=graph.sha256, board=board or info.board, device=info,
        input_source=inputs.source, samples=tuple(results), comparisons=tuple(comparisons),
        accuracy=tuple(accuracy), latency=latency_stats(cycles, info.counter_kind, counter_hz), layers=layers,
        divergences=divergences, link=target.link_stats(), resets_resumed=resumed[0],
        tolerance=tol.describe() if tol else "",
    )


def _compare(a: str, b: str, xs: list[np.ndarray], ys: list[np.ndarray],
             tol: FloatTolerance | None = None) -> Comparison:
    exact = sum(int(np.array_equal(x, y)) for x, y in zip(xs, ys, strict=True))
    mad = max((_max_abs(x, y) for x, y in zip(xs, ys, strict=True)), default=0)
    top1 = sum(int(np.argmax(x) == np.argmax(y)) for x, y in zip(xs, ys, strict=True))
    within = None if tol is None else sum(int(tol.within(y, x)) for x, y in zip(xs, ys, strict=True))
    return Comparison(a, b, len(xs), exact, mad, top1, within)


def _profile(target: Target, data: bytes, layer_names: Sequence[str]) -> tuple[LayerProfile, ...]:
    try:
        per_layer = target.profile(data)
    except DeviceResetError:
        raise
    except DeviceError as exc:
        log.warning("per-layer profile unavailable: %s", exc)
        return ()
    return tuple(LayerProfile(i, name or (layer_names[i] if i < len(layer_names) else f"layer{i}"), int(c))
                 for i, (name, c) in enumerate(per_layer))


def _find_divergences(target: Target, data: Sequence[bytes], results: Sequence[SampleResult],
                      host_layers: Callable[[bytes], tuple[bytes, ...]] | None, layer_names: Sequence[str],
                      config: ValidationConfig) -> tuple[Divergence, ...]:
    bad = [r.index for r in results if r.exact_vs_host_c is False or r.exact_vs_reference is False]
    if not bad or host_layers is None:
        return ()
    found = []
    for i in bad[: config.max_divergence_checks]:
        dev_layers = target.layer_outputs(data[i])
        host = host_layers(data[i])
        found.append(first_divergence(i, dev_layers, host, layer_names))
    return tuple(found)


def first_divergence(sample: int, device: Sequence[bytes], host: Sequence[bytes],
                     layer_names: Sequence[str] = ()) -> Divergence:
    """The first layer whose raw output differs between device and host (byte-wise, int8 differences)."""
    for layer, (d, h) in enumerate(zip(device, host, strict=False)):
        if d != h:
            da = np.frombuffer(d, dtype=np.int8)
            ha = np.frombuffer(h, dtype=np.int8)
            n = min(da.size, ha.size)
            diff = np.abs(da[:n].astype(np.int16) - ha[:n].astype(np.int16))
            differing = int(np.count_nonzero(diff)) + abs(da.size - ha.size)
            name = layer_names[layer] if layer < len(layer_names) else f"layer{layer}"
            return Divergence(sample, layer, name, differing, int(diff.max()) if n else 0)
    return Divergence(sample, None, "", 0, 0)


# ----------------------------------------------------------------------------------------------------------------
# Report files and text


def write_report(report: ValidationReport, out_dir: Path, plots: bool = True) -> ValidationReport:
    """Write validation.json, samples.csv, layers.csv and PNG plots; returns the report listing the files."""
    from dataclasses import replace

    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    samples_csv = out_dir / "samples.csv"
    with samples_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "label", "device_top1", "reference_top1", "host_c_top1", "float_top1",
                    "exact_vs_reference", "exact_vs_host_c", "max_abs_diff", report.latency.unit, "ms"])
        for s in report.samples:
            ms = report.latency.ms(s.cycles)
            w.writerow([s.index, _blank(s.label), s.device_top1, _blank(s.reference_top1), _blank(s.host_c_top1),
                        _blank(s.float_top1), _blank(s.exact_vs_reference), _blank(s.exact_vs_host_c),
                        s.max_abs_diff, s.cycles, "" if ms is None else f"{ms:.4f}"])
    files.append(samples_csv)
    if report.layers:
        layers_csv = out_dir / "layers.csv"
        with layers_csv.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["layer", "op", report.latency.unit, "ms", "share"])
            total = sum(lp.cycles for lp in report.layers) or 1
            for lp in report.layers:
                ms = report.latency.ms(lp.cycles)
                w.writerow([lp.index, lp.name, lp.cycles, "" if ms is None else f"{ms:.4f}",
                            f"{lp.cycles / total:.4f}"])
        files.append(layers_csv)
    if plots:
        from codegen.hil.plots import write_plots

        files.extend(write_plots(report, out_dir))
    json_path = out_dir / "validation.json"
    files.append(json_path)
    report = replace(report, files=tuple(str(f) for f in files))
    json_path.write_text(json.dumps(_jsonable(report.to_json()), indent=2, sort_keys=True) + "\n")
    return report


def _blank(v: object) -> object:
    return "" if v is None else v


def _jsonable(obj: object) -> object:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    return obj


def format_report(report: ValidationReport) -> str:
    """A human-readable summary (tables as plain text)."""
    lat = report.latency
    lines = [
        f"model   {report.model}  (sha256 {report.model_sha256[:16]}...)",
        f"board   {report.board}  firmware {report.device.tool_version}",
        f"inputs  {report.input_source}",
        "",
        f"{'check':<24}{'exact':>14}{'max|diff|':>11}{'top-1 agree':>14}",
    ]
    for c in report.comparisons:
        exact = "-" if c.a == "float" else f"{c.exact}/{c.samples} {100 * c.exact_rate:5.1f}%"
        mad = "-" if c.a == "float" else str(c.max_abs_diff)
        lines.append(f"{c.a + ' -> ' + c.b:<24}{exact:>14}{mad:>11}{100 * c.top1_rate:>13.1f}%")
    if report.accuracy:
        lines.append("")
        acc = dict(report.accuracy)
        lines.append("accuracy vs labels: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in report.accuracy))
        if "float" in acc and "reference" in acc:
            lines.append(f"accuracy drop float -> int8: {100 * (acc['float'] - acc['reference']):.2f} points")
    lines.append("")
    keys = ("mean", "min", "max", "p50", "p99")
    lines.append(f"latency per inference ({lat.count} runs), {latency_unit_text(lat)}:")
    lines.append(f"  {'':<8}" + "".join(f"{k:>14}" for k in keys))
    short = {"instructions": "instr", "icount ticks": "ticks"}.get(lat.unit, "cycles")
    lines.append(f"  {short:<8}" + "".join(f"{getattr(lat, k):>14,.0f}" for k in keys))
    if lat.unit == "icount ticks":
        instr = [lat.instructions(getattr(lat, k)) or 0.0 for k in keys]
        lines.append(f"  {'instr':<8}" + "".join(f"{v:>14,.0f}" for v in instr))
    if lat.counter_hz:
        ms = [lat.ms(getattr(lat, k)) or 0.0 for k in keys]
        note = {"instructions": " (one instruction per cycle)",
                "icount ticks": " of QEMU virtual time (not a real chip's)"}.get(lat.unit, "")
        lines.append(f"  {'ms':<8}" + "".join(f"{v:>14.3f}" for v in ms)
                     + f"   at {lat.counter_hz / 1e6:g} MHz{note}")
    if report.layers:
        total = sum(lp.cycles for lp in report.layers) or 1
        lines += ["", f"per-layer {lat.unit}:", f"  {'#':>3} {'op':<22}{lat.unit:>14}{'share':>8}"]
        for lp in report.layers:
            lines.append(f"  {lp.index:>3} {lp.name:<22}{lp.cycles:>14,}{100 * lp.cycles / total:>7.1f}%")
    for d in report.divergences:
        where = (f"layer {d.layer} ({d.layer_name}): {d.differing_bytes} bytes differ, max |diff| "
                 f"{d.max_abs_diff}") if d.layer is not None else "no layer differs; only the final output"
        lines.append(f"sample {d.sample}: first divergence at {where}")
    link = report.link
    lines.append("")
    lines.append(f"link: {link.crc_errors} CRC errors, {link.retries} retries, {link.timeouts} timeouts, "
                 f"{link.resets + report.resets_resumed} resets")
    if report.tolerance:
        lines.append(f"float tolerance: {report.tolerance}")
    exact = all(c.exact == c.samples for c in report.comparisons if c.b == "device")
    verdict = "PASS (device matches the host bit for bit)" if exact else "PASS (within the float tolerance)"
    lines.append("result: " + (verdict if report.passed else "FAIL"))
    if report.files:
        lines.append("wrote " + ", ".join(report.files))
    return "\n".join(lines)

