"""The TFLM reference: run a .tflite model with the tflite-micro interpreter, and find its minimal arena."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

import numpy as np

from codegen.errors import CodegenError
from codegen.tflog import fd2_to_devnull

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

    def reset(self) -> None:
        """Clear the variable (state) tensors (TFLM ``ResetVariableTensors``): the next ``predict`` starts a new
        sequence, as after creating the interpreter."""
        self.interpreter.reset()

    def time_invoke(self, repeats: int = 20) -> float:
        import time

        self.interpreter.invoke()
        t0 = time.perf_counter()
        for _ in range(repeats):
            self.interpreter.invoke()
        return (time.perf_counter() - t0) / repeats


# Silences the C++ interpreter's allocation errors (written to fd 2) while probing arena sizes.
quiet_stderr = fd2_to_devnull


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


# ------------------------------------------------------------------------------------------------ isolation
#
# A reference runtime is C++ that can abort on a model it dislikes (TFLM's QuantizeMultiplierGreaterThanOne on a
# softmax input scale of 1e-8 calls abort()). verify therefore runs it in a child process: a crash becomes one
# line, and the TensorFlow Lite reference kernels (BUILTIN_REF) are tried next.

TFLM = "tflm"
TFLM_STATIC = "tflm-static"  # TFLM on a copy with TensorFlow Lite's run-time shapes written in (reference_static)
TFLITE_REF = "tflite-builtin-ref"
REFERENCE_NAMES = {
    TFLM: "TFLM (tflite-micro reference kernels)",
    TFLM_STATIC: "TFLM (tflite-micro reference kernels) on the run-time shapes TensorFlow Lite resolved",
    TFLITE_REF: "TensorFlow Lite reference kernels (BUILTIN_REF)",
}
#: the runtimes tried in turn; the first two run TFLM's kernels (bit-exact comparisons hold)
REFERENCE_KINDS = (TFLM, TFLM_STATIC, TFLITE_REF)
TFLM_KINDS = (TFLM, TFLM_STATIC)
#: test hook: the reference kinds named here (comma-separated) abort in their child before loading the model
FAULT_ENV = "CODEGEN_REFERENCE_FAULT"
#: seconds a child may take for one request before it is considered hung
CHILD_TIMEOUT = 900.0


class ReferenceFailed(Exception):
    """A reference runtime could not run the model; the message is one line."""


def _tflite_ref_runner(data: bytes):  # noqa: ANN202
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import warnings

    import tensorflow as tf

    warnings.filterwarnings("ignore", module="tensorflow")
    interp = tf.lite.Interpreter(
        model_content=data, experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF
    )
    interp.allocate_tensors()
    ins, outs = interp.get_input_details(), interp.get_output_details()

    def predict(xs: list[np.ndarray]) -> list[np.ndarray]:
        for d, x in zip(ins, xs, strict=True):
            interp.set_tensor(d["index"], np.asarray(x).reshape(d["shape"]))
        interp.invoke()
        return [np.array(interp.get_tensor(d["index"])) for d in outs]

    return predict, interp.reset_all_variables


def _tflm_runner(data: bytes):  # noqa: ANN202
    model = ReferenceModel(data)
    return (lambda xs: model.predict(list(xs))), model.reset


def _send(fd: int, obj: object) -> None:
    import pickle
    import struct

    blob = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(struct.pack("<Q", len(blob)) + blob)
    while view:
        view = view[os.write(fd, view):]


def _recv(fd: int, timeout: float | None = None) -> object:
    """One framed message from ``fd``; ``EOFError`` when the writer is gone, ``TimeoutError`` when silent."""
    import pickle
    import select
    import struct

    def exactly(n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            if timeout is not None and not select.select([fd], [], [], timeout)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    (size,) = struct.unpack("<Q", exactly(8))
    return pickle.loads(exactly(size))


def serve() -> None:
    """Child process entry (``python -c 'from codegen.reference import serve; serve()'``): read the model and
    the runtime kind, then answer requests on stdin/stdout until told to stop. Anything the runtime prints goes
    to stderr, never into the protocol."""
    out = os.dup(1)
    os.dup2(2, 1)
    inp = 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    data, kind = _recv(inp)  # type: ignore[misc]
    _send(out, ("phase", "preparing the model"))
    if kind in os.environ.get(FAULT_ENV, "").split(","):
        os.abort()
    try:
        if kind == TFLM_STATIC:
            from codegen.reference_static import static_copy

            data = static_copy(data)
        predict, reset = _tflm_runner(data) if kind in TFLM_KINDS else _tflite_ref_runner(data)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as one line
        _send(out, ("error", f"{type(exc).__name__}: {exc}".splitlines()[0]))
        return
    _send(out, ("ready", None))
    while True:
        try:
            request = _recv(inp)
        except EOFError:
            return
        if request is None:
            return
        what, payload = request  # type: ignore[misc]
        try:
            if what == "predict":
                _send(out, ("phase", "running the model"))
                _send(out, ("ok", [predict(xs) for xs in payload]))
            elif what == "predict_fresh":  # every input set from cleared state tensors (independent samples)
                _send(out, ("phase", "running the model"))
                _send(out, ("ok", [(reset(), predict(xs))[1] for xs in payload]))
            elif what == "reset":
                reset()
                _send(out, ("ok", None))
            elif what == "arena":
                _send(out, ("phase", "probing the smallest arena"))
                _send(out, ("ok", minimal_arena_size(data)))
            elif what == "arena_split":
                _send(out, ("phase", "reading the arena allocation"))
                _send(out, ("ok", tflm_arena_split(data)))
            else:
                _send(out, ("error", f"unknown request {what!r}"))
        except Exception as exc:  # noqa: BLE001
            _send(out, ("error", f"{type(exc).__name__}: {exc}".splitlines()[0]))


class _Child:
    """One reference runtime in a child process (a fresh interpreter: no state shared with the parent)."""

    def __init__(self, data: bytes, kind: str, keep_stderr: bool = False) -> None:
        import subprocess
        import sys
        import tempfile

        self.kind = kind
        self.name = REFERENCE_NAMES[kind]
        self.phase = "starting"
        self._err = None if keep_stderr else tempfile.NamedTemporaryFile(prefix="codegen-ref-", suffix=".log",
                                                                          delete=False)
        # the child imports the same codegen as this process (a checkout may shadow an installed copy)
        env = dict(os.environ)
        here = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from codegen.reference import serve; serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._err, bufsize=0, env=env,
        )
        self._in = self.proc.stdin.fileno()  # type: ignore[union-attr]
        self._out = self.proc.stdout.fileno()  # type: ignore[union-attr]
        self._send((data, kind))
        self._wait()

    def _send(self, obj: object) -> None:
        try:
            _send(self._in, obj)
        except (BrokenPipeError, OSError):
            raise ReferenceFailed(self._death()) from None

    def _wait(self) -> object:
        while True:
            try:
                status, payload = _recv(self._out, CHILD_TIMEOUT)  # type: ignore[misc]
            except TimeoutError:
                self.proc.kill()
                self.proc.wait(10)
                raise ReferenceFailed(f"the {self.name} did not answer within {CHILD_TIMEOUT:.0f} s "
                                      f"while {self.phase}") from None
            except (EOFError, OSError):
                raise ReferenceFailed(self._death()) from None
            if status == "phase":
                self.phase = str(payload)
                continue
            if status == "error":
                raise ReferenceFailed(f"the {self.name} failed while {self.phase}: {payload}")
            return payload

    def _death(self) -> str:
        import signal
        import subprocess

        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        if code < 0:
            try:
                how = signal.Signals(-code).name
            except ValueError:
                how = f"signal {-code}"
            verb = "aborted" if how == "SIGABRT" else "crashed"
        else:
            how, verb = f"exit status {code}", "stopped"
        detail = self._stderr_tail()
        return f"the {self.name} {verb} on this model ({how} while {self.phase}){': ' + detail if detail else ''}"

    def _stderr_tail(self) -> str:
        if self._err is None:
            return ""
        try:
            lines = [ln.strip() for ln in Path(self._err.name).read_text(errors="replace").splitlines()]
        except OSError:
            return ""
        noise = ("WARNING: All log messages", "I0000", "W0000", "Traceback", "File ")
        lines = [ln for ln in lines if ln and not ln.startswith(noise)]
        return lines[-1][:200] if lines else ""

    def request(self, what: str, payload: object = None) -> object:
        self._send((what, payload))
        return self._wait()

    def close(self) -> None:
        import subprocess

        with contextlib.suppress(BrokenPipeError, OSError):
            _send(self._in, None)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if self._err is not None:
            self._err.close()
            with contextlib.suppress(OSError):
                os.unlink(self._err.name)


def _has_run_time_shapes(data: bytes) -> bool:
    from codegen.reference_static import run_time_shapes

    try:
        return bool(run_time_shapes(data))
    except Exception:  # noqa: BLE001 - an unreadable model has none; the next runtime reports the problem
        return False


class IsolatedReference:
    """The reference outputs of a model, computed in a child process: TFLM first, TensorFlow Lite's reference
    kernels (BUILTIN_REF) if TFLM crashes or refuses the model. ``used`` names the runtime that produced the
    outputs, ``notes`` says why another was skipped. When no runtime can run the model, a :class:`CodegenError`
    names both reasons."""

    def __init__(self, model: bytes | str | Path, *, keep_stderr: bool = False,
                 kinds: tuple[str, ...] = REFERENCE_KINDS) -> None:
        self.data = _model_bytes(model)
        self.keep_stderr = keep_stderr
        self.notes: list[str] = []
        self._kinds = list(kinds)
        self._child: _Child | None = None
        self._next()

    def _next(self) -> None:
        while self._kinds:
            kind = self._kinds.pop(0)
            if kind == TFLM_STATIC and not _has_run_time_shapes(self.data):
                continue  # nothing to resolve: the copy would be the model TFLM just refused
            try:
                self._child = _Child(self.data, kind, self.keep_stderr)
                return
            except ReferenceFailed as exc:
                self._fail(str(exc))
        raise CodegenError(
            "no reference runtime can run this model: " + "; ".join(self.notes),
            hint="the model may be valid for codegen but cannot be compared here; check it with TFLM directly",
        )

    def _fail(self, reason: str) -> None:
        self.notes.append(reason)
        log.debug("%s", reason)
        if self._child is not None:
            self._child.close()
            self._child = None

    @property
    def used(self) -> str:
        return self._child.name if self._child else ""

    @property
    def kind(self) -> str:
        return self._child.kind if self._child else ""

    def predict_many(self, xs: list[list[np.ndarray]], fresh: bool = False) -> list[list[np.ndarray]]:
        """Outputs for each input set in ``xs`` (a list of arrays per sample), in sequence: state tensors (SVDF,
        LSTM) carry over from one to the next; ``fresh``: each from cleared state tensors."""
        what = "predict_fresh" if fresh else "predict"
        while True:
            if self._child is None:
                self._next()
            try:
                return self._child.request(what, [list(x) for x in xs])  # type: ignore[union-attr,return-value]
            except ReferenceFailed as exc:
                self._fail(str(exc))

    def reset(self) -> None:
        """Clear the runtime's state tensors (SVDF, LSTM): the next :meth:`predict_many` starts a new stream."""
        while True:
            if self._child is None:
                self._next()
            try:
                self._child.request("reset")  # type: ignore[union-attr]
                return
            except ReferenceFailed as exc:
                self._fail(str(exc))

    def minimal_arena(self) -> int | None:
        """TFLM's smallest arena for the model, or ``None`` when TFLM is not the runtime in use."""
        if self._child is None or self._child.kind not in TFLM_KINDS:
            return None
        try:
            return int(self._child.request("arena"))  # type: ignore[arg-type]
        except ReferenceFailed as exc:
            self.notes.append(str(exc))
            log.debug("%s", exc)
            return None

    def arena_split(self) -> tuple[int, int] | None:
        """TFLM's arena (head: activations and scratch, tail: persistent data; :func:`tflm_arena_split`), or
        ``None`` when TFLM is not the runtime in use."""
        if self._child is None or self._child.kind not in TFLM_KINDS:
            return None
        try:
            head, tail = self._child.request("arena_split")  # type: ignore[misc]
            return int(head), int(tail)
        except ReferenceFailed as exc:
            self.notes.append(str(exc))
            log.debug("%s", exc)
            return None

    def close(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None

    def __enter__(self) -> IsolatedReference:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
