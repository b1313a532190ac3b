"""Benchmark .tflite files on the host TFLite interpreter: size, accuracy and per-image latency.

Each model gets the dataset preprocessed to its own input shape (height, width, channels), is warmed up, then
runs one image at a time; ``time.perf_counter_ns`` around ``invoke()`` gives the per-image latency.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from codegen.errors import CodegenError, ModelError
from codegen.train.datasets import Preprocess, Subset, load_dataset
from codegen.train.quantize import HostModel

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
            "accuracy": round(self.accuracy, 4),
            "samples": self.samples,
            "latency_ms": {
                "mean": round(self.mean_ms, 4),
                "min": round(self.min_ms, 4),
                "max": round(self.max_ms, 4),
                "p99": round(self.p99_ms, 4),
            },
            "total_s": round(self.total_s, 3),
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


def bench_model(
    path: Path,
    dataset: str,
    samples: int | None = None,
    preprocess: Preprocess | None = None,
    warmup: int = 5,
    seed: int = 0,
    tick: Callable[[], None] | None = None,
) -> BenchResult:
    """Benchmark one model on the test split of ``dataset`` (first ``samples`` of a fixed shuffle)."""
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
    pre = replace(preprocess or Preprocess(), size=(int(h), int(w)), channels=int(c))
    ds = load_dataset(dataset, pre, Subset(train=1, test=samples, seed=seed))
    q = host.quantize_input(ds.x_test)
    n = len(q)
    for s in q[:warmup]:
        host.invoke_raw(s)
    lat = np.zeros(n, np.float64)
    correct = 0
    t0 = time.perf_counter()
    for i, s in enumerate(q):
        host.interpreter.set_tensor(host.input["index"], s[None, ...])
        start = time.perf_counter_ns()
        host.interpreter.invoke()
        lat[i] = (time.perf_counter_ns() - start) / 1e6
        out = host.interpreter.get_tensor(host.output["index"])[0]
        correct += int(np.argmax(out) == ds.y_test[i])
        if tick is not None:
            tick()
    total = time.perf_counter() - t0
    return BenchResult(
        name=path.stem,
        path=path,
        size_bytes=len(buf),
        accuracy=correct / n if n else 0.0,
        samples=n,
        latencies_ms=lat,
        total_s=total,
    )


def bench_models(
    paths: Sequence[Path],
    dataset: str,
    samples: int | None = None,
    cooldown: float = 0.0,
    preprocess: Preprocess | None = None,
    tick: Callable[[], None] | None = None,
) -> list[BenchResult]:
    """Benchmark each model in turn, sleeping ``cooldown`` seconds between models."""
    if not paths:
        raise CodegenError("no models to benchmark", hint="give --models A.tflite B.tflite ...")
    names = [p.stem for p in paths]
    if len(set(names)) != len(names):
        raise CodegenError("two models have the same file name", hint="rename them; names label the results")
    results = []
    for i, p in enumerate(paths):
        if i and cooldown > 0:
            time.sleep(cooldown)
        r = bench_model(Path(p), dataset, samples, preprocess, tick=tick)
        log.info("%s: accuracy %.4f, mean %.3f ms", r.name, r.accuracy, r.mean_ms)
        results.append(r)
    return results
