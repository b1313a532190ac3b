"""Compare the generated C (compiled for the host) with the TFLM reference on random inputs.

Tolerance: int8 models must match bit for bit. float32 models pass when every output element satisfies
``|ours - tflm| <= FLOAT_ATOL + FLOAT_RTOL * |tflm|`` (the float kernels sum in TFLM's order, so differences
come only from compiler contraction or libm ``expf``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codegen import host
from codegen.backend.native.emitter import NativeOptions
from codegen.frontend import load_model
from codegen.ir import DType
from codegen.reference import ReferenceModel, minimal_arena_size

log = logging.getLogger(__name__)

FLOAT_ATOL = 1e-5
FLOAT_RTOL = 1e-4


@dataclass(frozen=True)
class VerifyReport:
    model: str
    samples: int
    seed: int
    quantized: bool
    exact_matches: int  # samples whose outputs are bitwise identical
    within_tolerance: int  # samples within the float tolerance (== exact_matches for int8)
    max_abs_diff: float
    arena_ours: int
    arena_tflm: int | None
    decode: str = "none"  # encoded weights: "none", "layer" or "init"
    weight_bytes: int = 0  # bytes of weights the generated code stores

    @property
    def exact_rate(self) -> float:
        return self.exact_matches / self.samples if self.samples else 1.0

    @property
    def passed(self) -> bool:
        if self.quantized:
            return self.exact_matches == self.samples
        return self.within_tolerance == self.samples

    def as_dict(self) -> dict[str, object]:
        return {
            "model": self.model,
            "samples": self.samples,
            "seed": self.seed,
            "quantized": self.quantized,
            "exact_matches": self.exact_matches,
            "exact_match_rate": self.exact_rate,
            "within_tolerance": self.within_tolerance,
            "max_abs_diff": self.max_abs_diff,
            "decode": self.decode,
            "weight_bytes": self.weight_bytes,
            "arena_bytes_ours": self.arena_ours,
            "arena_bytes_tflm": self.arena_tflm,
            "passed": self.passed,
        }


def random_input(shape: tuple[int, ...], dtype: DType, rng: np.random.Generator) -> np.ndarray:
    """Random test input: the full int8 range, or standard-normal floats."""
    if dtype is DType.INT8:
        return rng.integers(-128, 128, size=shape, dtype=np.int8)
    if dtype is DType.FLOAT32:
        return rng.standard_normal(size=shape).astype(np.float32)
    raise ValueError(f"no random inputs for {dtype.value}")


def verify(
    model: str | Path,
    samples: int = 100,
    seed: int = 0,
    *,
    tflm_arena: bool = True,
    cache_dir: Path | None = None,
    sanitize: bool = False,
    options: NativeOptions | None = None,
) -> VerifyReport:
    """Run ``samples`` random inputs through our generated C and through TFLM and compare the outputs.
    ``options`` are the native backend's (e.g. Huffman-coded weights)."""
    path = Path(model)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=cache_dir, sanitize=sanitize, options=options)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(seed)
    quantized = all(s.dtype is DType.INT8 for s in (*ours.inputs, *ours.outputs))
    xs = [[random_input(s.shape, s.dtype, rng) for s in ours.inputs] for _ in range(samples)]
    got = ours.predict_many(xs)
    exact = within = 0
    max_diff = 0.0
    for x, mine in zip(xs, got, strict=True):
        theirs = ref.predict(x)
        same, close = True, True
        for a, b in zip(mine, theirs, strict=True):
            b = np.asarray(b).reshape(a.shape)
            diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
            max_diff = max(max_diff, float(diff.max(initial=0.0)))
            same &= bool(np.array_equal(a.view(np.uint8), b.astype(a.dtype).view(np.uint8)))
            if a.dtype == np.float32:
                close &= bool(np.all(diff <= FLOAT_ATOL + FLOAT_RTOL * np.abs(b)))
            else:
                close &= bool(np.array_equal(a, b))
        exact += same
        within += close
    arena_tflm = minimal_arena_size(path) if tflm_arena else None
    return VerifyReport(
        path.name, samples, seed, quantized, exact, within, max_diff, ours.sources.arena_bytes, arena_tflm,
        ours.sources.decode, ours.sources.weight_bytes,
    )
