"""Benchmark .tflite files on the host: size, accuracy (as the board computes it) and per-image latency.

Each model gets the dataset preprocessed the way it was trained: the preprocessing recorded next to it
(:mod:`codegen.train.sidecar`) with its own input shape; flags that contradict the record are refused unless
``force``. Accuracy comes from the TFLM reference interpreter (:mod:`codegen.train.interpreters`), whose int8
results the generated C and the board reproduce bit for bit; latency from TensorFlow Lite's default kernels
(``time.perf_counter_ns`` around ``invoke()``, one image at a time, after a warm-up), labelled as such.

Sizes: the .tflite file, and the flash the weights take once generated for the reference board with Huffman packing
(``codegen.compress.deployed``: the generator's own layouts, structured 2:4 streams, coded blobs and the decoder's
code), which is where pruning pays off (a pruned .tflite is as large as a dense one).
"""

from __future__ import annotations

import logging
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from codegen.errors import CodegenError, ModelError
from codegen.train import sidecar
from codegen.train.datasets import Preprocess, Subset, load_dataset
from codegen.train.interpreters import LATENCY_INTERPRETER, AccuracyModel
from codegen.train.quantize import HostModel

if TYPE_CHECKING:
    from codegen.compress.deployed import Deployed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchResult:
    name: str
    path: Path
    size_bytes: int
    accuracy: float
    samples: int
    latencies_ms: np.ndarray
    total_s: float
    interpreter: str = ""
    latency_interpreter: str = LATENCY_INTERPRETER
    deployed_bytes: int | None = None  # flash of the weights as generated for DEPLOY_BOARD --huffman, None: unknown
    raw_weight_bytes: int | None = None
    preprocess: dict[str, object] = field(default_factory=dict)
    preprocess_source: str = ""

    @property
    def mean_ms(self) -> float:
        return float(np.mean(self.latencies_ms)) if self.samples else 0.0

    @property
    def min_ms(self) -> float:
        return float(np.min(self.latencies_ms)) if self.samples else 0.0

    @property
    def max_ms(self) -> float:
        return float(np.max(self.latencies_ms)) if self.samples else 0.0

    @property
    def p99_ms(self) -> float:
        return float(np.percentile(self.latencies_ms, 99)) if self.samples else 0.0

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "file": str(self.path),
            "size_bytes": self.size_bytes,
            "deployed_bytes": self.deployed_bytes,
            "raw_weight_bytes": self.raw_weight_bytes,
            "accuracy": round(self.accuracy, 4),
            "accuracy_interpreter": self.interpreter,
            "latency_interpreter": self.latency_interpreter,
            "samples": self.samples,
            "preprocess": self.preprocess,
            "preprocess_source": self.preprocess_source,
            "latency_ms": {
                "mean": round(self.mean_ms, 4),
                "min": round(self.min_ms, 4),
                "max": round(self.max_ms, 4),
                "p99": round(self.p99_ms, 4),
            },
            "total_s": round(self.total_s, 4),
            "latencies_ms": [round(float(v), 4) for v in self.latencies_ms],
        }


def _read_model(path: Path) -> bytes:
    if not path.is_file():
        raise ModelError(
            f"model file {path} does not exist", hint="give .tflite files written by `codegen train`"
        )
    buf = path.read_bytes()
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelError(f"{path} is not a TFLite flatbuffer", hint="give .tflite files")
    return buf


#: the board whose kernels ``deployed_size`` stores the weights for: the project's reference Cortex-M4 (DSP kernels,
#: the structured 2:4 and column-sparse layouts), as ``codegen generate --board emulated_stm32f405 --huffman`` does
DEPLOY_BOARD = "emulated_stm32f405"


def deployed_view(path: Path) -> Deployed | None:
    """The model generated for :data:`DEPLOY_BOARD` with ``--huffman`` (``codegen analyze --sparse --huffman``'s
    view: weights as its kernels store them, blobs where the codec codes them, arena and decoded RAM), or None when
    codegen cannot generate it (float16 or hybrid models)."""
    from codegen.boards import load_board
    from codegen.compress.deployed import deployed
    from codegen.frontend import load_model

    try:
        return deployed(load_model(path), load_board(DEPLOY_BOARD), "huffman", "auto")
    except CodegenError as exc:
        log.info("no deployed size for %s: %s", path.name, exc)
        return None


def deployed_size(path: Path) -> tuple[int | None, int | None]:
    """(flash the weights take on :data:`DEPLOY_BOARD` once generated with ``--huffman``: the arrays as its kernels
    store them, Huffman blobs where the codec codes them, plus the decoder's code when there are blobs; the
    model's weight bytes), or (None, None) when codegen cannot generate the model."""
    view = deployed_view(path)
    return (None, None) if view is None else (view.flash_bytes, view.model_weight_bytes)


def model_preprocess(
    path: Path, flags: dict[str, Any] | None = None, *, force: bool = False, default: Preprocess | None = None
) -> tuple[Preprocess, str]:
    """(preprocessing for ``path``: recorded sidecar + flags, where it came from)."""
    rec = sidecar.read_sidecar(path)
    pre = sidecar.resolve(rec, flags or {}, force=force, default=default)
    return pre, rec.source if rec is not None else "flags/defaults (no sidecar)"


def bench_model(
    path: Path,
    dataset: str,
    samples: int | None = None,
    preprocess: Preprocess | None = None,
    warmup: int = 5,
    seed: int = 0,
    tick: Callable[[], None] | None = None,
    *,
    flags: dict[str, Any] | None = None,
    force: bool = False,
    data_dir: Path | None = None,
) -> BenchResult:
    """Benchmark one model on the test split of ``dataset`` (first ``samples`` of a fixed shuffle).

    ``preprocess`` replaces the recorded preprocessing entirely (Python API); otherwise the sidecar is used with
    ``flags`` (``{"mean": (127.5,), ...}``) checked against it.
    """
    buf = _read_model(path)
    try:
        host = HostModel(buf)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"the host interpreter cannot load {path}: {exc}", hint="check the file") from exc
    if len(host.input_shape) != 3:
        raise ModelError(
            f"{path} takes input of shape {host.input_shape}, not an image (H, W, C)",
            hint="benchmark image classifiers on image datasets",
        )
    h, w, c = host.input_shape
    if preprocess is not None:
        pre, where = preprocess, "given"
    else:
        pre, where = model_preprocess(path, flags, force=force)
    if pre.size is not None and tuple(pre.size) != (h, w) and not force:
        raise CodegenError(
            f"the preprocessing for {path.name} resizes to {pre.size[0]}x{pre.size[1]}, the model takes {h}x{w}",
            hint="fix the sidecar or the --size flag, or pass --force",
        )
    pre = replace(pre, size=(int(h), int(w)), channels=int(c))
    # a folder without a test split is split as it was for training (recorded), so no training image is scored
    rec = sidecar.read_sidecar(path)
    split = (rec.split if rec is not None else None) or {}
    ds = load_dataset(
        dataset,
        pre,
        Subset(train=1, test=samples, seed=seed),
        data_dir=data_dir,
        val_split=float(split.get("val_split", 0.2)),
        split_seed=int(split.get("seed", 0)),
    )
    n = len(ds.x_test)
    t0 = time.perf_counter()
    # accuracy: the reference interpreter the board agrees with
    acc_model = AccuracyModel(buf)
    top1 = acc_model.top1(ds.x_test)
    correct = int(np.sum(top1 == ds.y_test))
    # latency: the fast host interpreter
    q = host.quantize_input(ds.x_test)
    for s in q[:warmup]:
        host.invoke_raw(s)
    lat = np.zeros(n, np.float64)
    for i, s in enumerate(q):
        host.interpreter.set_tensor(host.input["index"], s[None, ...])
        start = time.perf_counter_ns()
        host.interpreter.invoke()
        lat[i] = (time.perf_counter_ns() - start) / 1e6
        if tick is not None:
            tick()
    total = time.perf_counter() - t0
    deployed, raw = deployed_size(path)
    return BenchResult(
        name=path.stem,
        path=path,
        size_bytes=len(buf),
        accuracy=correct / n if n else 0.0,
        samples=n,
        latencies_ms=lat,
        total_s=total,
        interpreter=acc_model.name,
        deployed_bytes=deployed,
        raw_weight_bytes=raw,
        preprocess=pre.to_json(),
        preprocess_source=where,
    )


def bench_models(
    paths: Sequence[Path],
    dataset: str,
    samples: int | None = None,
    cooldown: float = 0.0,
    preprocess: Preprocess | None = None,
    tick: Callable[[], None] | None = None,
    *,
    flags: dict[str, Any] | None = None,
    force: bool = False,
    data_dir: Path | None = None,
) -> list[BenchResult]:
    """Benchmark each model in turn, sleeping ``cooldown`` seconds between models."""
    if not paths:
        raise CodegenError("no models to benchmark", hint="give --models A.tflite B.tflite ...")
    if cooldown < 0:
        raise CodegenError("--cooldown must not be negative", hint="e.g. --cooldown 2")
    names = [Path(p).stem for p in paths]
    if len(set(names)) != len(names):
        raise CodegenError("two models have the same file name", hint="rename them; names label the results")
    results = []
    for i, p in enumerate(paths):
        if i and cooldown > 0:
            time.sleep(cooldown)
        r = bench_model(Path(p), dataset, samples, preprocess, tick=tick, flags=flags, force=force,
                        data_dir=data_dir)
        log.info("%s: accuracy %.4f (%s), mean %.3f ms", r.name, r.accuracy, r.interpreter, r.mean_ms)
        results.append(r)
    return results


def environment(cooldown: float) -> dict[str, object]:
    """Where and how the numbers were measured (stored in bench.json)."""
    import importlib.metadata as md

    def version(pkg: str) -> str:
        try:
            return md.version(pkg)
        except md.PackageNotFoundError:
            return "not installed"

    from codegen import __version__

    return {
        "codegen": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "tensorflow": version("tensorflow"),
        "tflite_micro": version("tflite-micro"),
        "numpy": version("numpy"),
        "cooldown_s": cooldown,
        "latency_interpreter": LATENCY_INTERPRETER,
    }
