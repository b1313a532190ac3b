"""The TFLM reference: run a .tflite model with the tflite-micro interpreter, and find its minimal arena."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from codegen.errors import CodegenError

log = logging.getLogger(__name__)

DEFAULT_ARENA = 4 * 1024 * 1024


def _runtime():  # noqa: ANN202 - tflite_micro has no type hints
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:  # pragma: no cover - environment problem
        raise CodegenError(
            "the tflite-micro package is not installed",
            hint="pip install tflite-micro to compare with the TFLM reference",
        ) from exc
    return runtime


def _model_bytes(model: bytes | str | Path) -> bytes:
    return model if isinstance(model, (bytes, bytearray)) else Path(model).read_bytes()


class ReferenceModel:
    """A TFLM interpreter over a model; ``predict`` mirrors :meth:`codegen.host.HostModel.predict`."""

    def __init__(self, model: bytes | str | Path, arena_size: int = DEFAULT_ARENA) -> None:
        from codegen.frontend.tflite import parse_tflite

        self.data = _model_bytes(model)
        self.arena_size = arena_size
        self.num_outputs = len(parse_tflite(self.data).outputs)
        self.interpreter = _runtime().Interpreter.from_bytes(self.data, arena_size=arena_size)

    def predict(self, x: np.ndarray | list[np.ndarray]) -> list[np.ndarray]:
        xs = x if isinstance(x, (list, tuple)) else [x]
        for i, arr in enumerate(xs):
            self.interpreter.set_input(np.ascontiguousarray(arr), i)
        self.interpreter.invoke()
        return [np.array(self.interpreter.get_output(i)) for i in range(self.num_outputs)]

    def time_invoke(self, repeats: int = 20) -> float:
        import time

        self.interpreter.invoke()
        t0 = time.perf_counter()
        for _ in range(repeats):
            self.interpreter.invoke()
        return (time.perf_counter() - t0) / repeats


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence the C++ interpreter's allocation errors (written to fd 2) while probing arena sizes."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _fits(data: bytes, arena: int) -> bool:
    try:
        with quiet_stderr():
            interp = _runtime().Interpreter.from_bytes(data, arena_size=arena)
            interp.invoke()
    except (RuntimeError, ValueError) as exc:
        log.debug("arena %d too small: %s", arena, exc)
        return False
    return True


def minimal_arena_size(model: bytes | str | Path, upper: int = DEFAULT_ARENA, granularity: int = 16) -> int:
    """Smallest ``arena_size`` (to ``granularity`` bytes) with which TFLM allocates and invokes the model."""
    data = _model_bytes(model)
    if not _fits(data, upper):
        raise CodegenError(
            f"TFLM cannot run the model even with a {upper}-byte arena",
            hint="check that the model only uses operators TFLM supports",
        )
    lo, hi = 0, upper
    while hi - lo > granularity:
        mid = (lo + hi) // 2 // granularity * granularity
        if mid <= lo:
            break
        if _fits(data, mid):
            hi = mid
        else:
            lo = mid
    return hi


def tflm_arena_split(model: bytes | str | Path, arena_size: int = DEFAULT_ARENA) -> tuple[int, int]:
    """TFLM's arena use for ``model``: (head, tail) bytes as its recording allocator reports them after
    allocation. The head holds the activations and the kernels' scratch buffers (what our planned arena
    holds); the tail holds persistent data (tensor structs, quantization, per-op data)."""
    import re
    import tempfile

    interp = _runtime().Interpreter.from_bytes(_model_bytes(model), arena_size=arena_size)
    with tempfile.TemporaryFile() as tmp:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            interp.print_allocations()
        finally:
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    found = {k: int(v) for k, v in re.findall(r"Arena allocation (head|tail) (\d+) bytes", text)}
    if set(found) != {"head", "tail"}:
        raise CodegenError(
            "the tflite-micro interpreter did not report its arena allocation",
            hint="use the tflite-micro version pinned in pyproject.toml",
        )
    return found["head"], found["tail"]
