"""Compare the generated C (compiled for the host) with the TFLM reference on random inputs.

The reference runs in a child process (:class:`codegen.reference.IsolatedReference`): if TFLM crashes on the
model, TensorFlow Lite's reference kernels (BUILTIN_REF) are used and the report says so. Inputs are generated
and compared in batches of :data:`BATCH` samples, so memory stays flat up to :data:`MAX_SAMPLES`.

Tolerance: int8 models must match bit for bit, and so must float32 models: the float kernels sum in TFLM's order
and every build uses ``-ffp-contract=off``. The one exception is a float model with an operator whose kernel calls
a libm function that is not correctly rounded (``codegen.tolerance``: LOGISTIC, SOFTMAX, TANH, EXP): its outputs
are compared within the documented tolerance printed in the report. When TFLM cannot run the model and TensorFlow
Lite's reference kernels stand in (different summation order), float outputs are compared within
``FLOAT_ATOL + FLOAT_RTOL * |ref|``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from codegen import host
from codegen.backend.native.emitter import NativeOptions
from codegen.errors import CodegenError
from codegen.frontend import load_model
from codegen.ir import DType
from codegen.reference import TFLM_KINDS, IsolatedReference
from codegen.tolerance import float_tolerance

log = logging.getLogger(__name__)

FLOAT_ATOL = 1e-5
FLOAT_RTOL = 1e-4
#: most random samples one verify run compares
MAX_SAMPLES = 100_000
#: samples generated, run and compared at a time
BATCH = 256


@dataclass(frozen=True)
class VerifyReport:
    model: str
    samples: int
    seed: int
    quantized: bool
    exact_matches: int  # samples whose outputs are bitwise identical
    within_tolerance: int  # samples within the float tolerance (== exact_matches for int8)
    max_abs_diff: float
    arena_ours: int  # our planned arena: activations and kernel scratch
    arena_tflm: int | None  # TFLM's arena head for the same model: activations and kernel scratch (like for like)
    decode: str = "none"  # encoded weights: "none", "layer" or "init"
    weight_bytes: int = 0  # bytes of weights the generated code stores
    reference: str = ""  # the runtime that produced the reference outputs
    reference_notes: tuple[str, ...] = ()  # why another reference runtime was not used
    tolerance: str = ""  # how float outputs were compared ("" for int8: bit-exact)
    arena_tflm_persistent: int | None = None  # TFLM's arena tail: persistent data (ours is in flash/static)
    state_ours: int = 0  # our static state buffer (variable tensors, SVDF/LSTM); TFLM keeps them in its tail

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
            "arena_bytes_tflm_persistent": self.arena_tflm_persistent,
            "state_bytes_ours": self.state_ours,
            "reference": self.reference,
            "reference_notes": list(self.reference_notes),
            "tolerance": self.tolerance,
            "passed": self.passed,
        }


def random_input(shape: tuple[int, ...], dtype: DType, rng: np.random.Generator) -> np.ndarray:
    """Random test input: the full int8 (int16) range, or standard-normal floats."""
    if dtype is DType.INT8:
        return rng.integers(-128, 128, size=shape, dtype=np.int8)
    if dtype is DType.INT16:
        return rng.integers(-32768, 32768, size=shape, dtype=np.int16)
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
    ``options`` are the native backend's (e.g. Huffman-coded weights). A model with state (SVDF, LSTM) runs each
    batch of :data:`BATCH` samples as one stream from cleared state tensors on both sides."""
    if not 1 <= samples <= MAX_SAMPLES:
        raise CodegenError(f"--samples must be between 1 and {MAX_SAMPLES:,}, got {samples:,}",
                           hint=f"pass --samples {min(max(samples, 1), MAX_SAMPLES)}")
    path = Path(model)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=cache_dir, sanitize=sanitize, options=options)
    rng = np.random.default_rng(seed)
    # integer inputs and outputs (int8, 16x8's int16, ARG_MAX's int32/int64 indices): bit-exact required
    quantized = all(s.dtype is not DType.FLOAT32 for s in (*ours.inputs, *ours.outputs))
    exact = within = strict = 0
    max_diff = 0.0
    tol = float_tolerance(graph)
    stateful = any(t.is_variable for t in graph.tensors)
    with IsolatedReference(path.read_bytes(), keep_stderr=log.isEnabledFor(logging.DEBUG)) as ref:
        for start in range(0, samples, BATCH):
            xs = [[random_input(s.shape, s.dtype, rng) for s in ours.inputs]
                  for _ in range(min(BATCH, samples - start))]
            if stateful:  # each batch one stream from cleared state (a sanitized build starts every batch fresh)
                ours.reset()
                ref.reset()
            got = _run_ours(ours, xs, sanitize)
            for mine, theirs in zip(got, ref.predict_many(xs), strict=True):
                same, close, diff = _compare(mine, theirs)
                max_diff = max(max_diff, diff)
                exact += same
                within += close
                strict += same or (tol is not None and all(
                    tol.within(a, b) for a, b in zip(mine, theirs, strict=True) if a.dtype == np.float32))
        split = ref.arena_split() if tflm_arena else None
        used, notes = ref.used, tuple(ref.notes)
        if ref.kind in TFLM_KINDS:  # same kernels' arithmetic: bit-exact, or the libm tolerance
            within = strict
            how = tol.describe() if tol else "bit-exact"
        else:
            how = f"|diff| <= {FLOAT_ATOL:g} + {FLOAT_RTOL:g}*|ref| ({used} sums in another order)"
    return VerifyReport(
        path.name, samples, seed, quantized, exact, within, max_diff, ours.sources.arena_bytes,
        split[0] if split else None, ours.sources.decode, ours.sources.weight_bytes, used, notes,
        arena_tflm_persistent=split[1] if split else None, tolerance="" if quantized else how,
        state_ours=ours.sources.state_bytes,
    )


def _run_ours(ours: host.HostModel, xs: list[list[np.ndarray]], sanitize: bool) -> list[list[np.ndarray]]:
    try:
        return ours.predict_many(xs)
    except RuntimeError as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        key = next((ln for ln in lines if "ERROR:" in ln or "runtime error" in ln), lines[-1] if lines else "")
        where = "under AddressSanitizer/UBSan " if sanitize else ""
        raise CodegenError(f"the generated C failed on the host {where}: {key[:300]}",
                           hint="this is a bug in the native backend; please report it with the model") from exc


def _compare(mine: list[np.ndarray], theirs: list[np.ndarray]) -> tuple[bool, bool, float]:
    """(bit-identical, within tolerance, largest absolute difference) of one sample's outputs."""
    same, close, max_diff = True, True, 0.0
    for a, b in zip(mine, theirs, strict=True):
        b = np.asarray(b).reshape(a.shape)
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        max_diff = max(max_diff, float(diff.max(initial=0.0)))
        same &= bool(np.array_equal(a.view(np.uint8), b.astype(a.dtype).view(np.uint8)))
        if a.dtype == np.float32:
            close &= bool(np.all(diff <= FLOAT_ATOL + FLOAT_RTOL * np.abs(b)))
        else:
            close &= bool(np.array_equal(a, b))
    return same, close, max_diff
