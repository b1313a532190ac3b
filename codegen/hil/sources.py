"""The host-side computations a device is compared with, as plain ``bytes -> bytes`` callables.

* :func:`reference_fn` - the TFLite Micro reference interpreter on the int8 model (``codegen.reference``, in a
  child process, when it is available; the ``tflite_micro`` package directly otherwise); TensorFlow Lite's
  reference kernels (BUILTIN_REF) for a model TFLM cannot run, with a warning naming TFLM's failure;
* :func:`host_c_fns` - the generated C compiled for the host (``codegen.host.compile``), plus its per-layer
  outputs when the host model exposes them;
* :func:`float_fn` - a float model (``.tflite``) for the accuracy-drop measurement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from codegen.errors import CodegenError, ModelError
from codegen.ir import Graph

log = logging.getLogger(__name__)

ARENA_BYTES = 4 * 1024 * 1024


def _tflm(buf: bytes):
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(buf, arena_size=ARENA_BYTES)


def split_inputs(graph: Graph, data: bytes) -> list[np.ndarray]:
    """Concatenated raw input bytes (as INFER carries them) -> one array per graph input, in order."""
    arrays, off = [], 0
    for t in graph.input_tensors:
        shape = tuple(max(int(d), 1) for d in t.shape)
        n = int(np.prod(shape)) * t.dtype.np.itemsize
        arrays.append(np.frombuffer(data[off : off + n], dtype=t.dtype.np).reshape(shape))
        off += n
    return arrays


def join_outputs(graph: Graph, outputs: list[np.ndarray]) -> bytes:
    """One array per graph output -> concatenated raw bytes (as the INFER reply carries them)."""
    return b"".join(np.asarray(o, dtype=t.dtype.np).tobytes() for t, o in zip(graph.output_tensors, outputs,
                                                                             strict=True))


def stateful(graph: Graph) -> bool:
    """Whether ``graph`` keeps state across inferences (variable tensors: SVDF, LSTM). Validation treats every
    sample as independent: the device's INFER and the self-test clear the state before each run
    (``P_reset``), and the host references here do the same."""
    return any(t.is_variable for t in graph.tensors)


def reference_fn(graph: Graph) -> Callable[[bytes], bytes]:
    """TFLM reference on raw input bytes (all inputs concatenated) -> raw output bytes (all outputs concatenated);
    each call from cleared state tensors (:func:`stateful`)."""
    n_out = len(graph.output_tensors)
    path = Path(graph.source)
    if not path.is_file():
        raise ModelError(f"model file {graph.source!r} not found for the TFLM reference",
                         hint="load the graph with codegen.frontend.load_model(path)")
    try:
        from codegen.reference import IsolatedReference
    except ImportError:
        interp = _tflm(path.read_bytes())

        def predict(xs: list[np.ndarray]) -> list[np.ndarray]:
            interp.reset()
            for i, x in enumerate(xs):
                interp.set_input(x, i)
            interp.invoke()
            return [np.asarray(interp.get_output(i)) for i in range(n_out)]
    else:
        # in a child process: a TFLM crash on this model is one line, not the end of `codegen validate`; a model
        # TFLM cannot run falls back to TFLM on the run-time shapes TFLite resolves (a Dense on a sequence), or to
        # TFLite's reference kernels (e.g. int8 EXP, int64 ARG_MAX), with a warning
        model = IsolatedReference(path.read_bytes())

        fresh = stateful(graph)

        def predict(xs: list[np.ndarray]) -> list[np.ndarray]:
            outs = list(model.predict_many([xs], fresh=fresh)[0])
            _say_fallback(model, graph)
            return outs

    def run(data: bytes) -> bytes:
        return join_outputs(graph, predict(split_inputs(graph, data)))

    return run


_WARNED: set[tuple[int, str]] = set()


def _say_fallback(model, graph: Graph) -> None:  # noqa: ANN001 - a codegen.reference.IsolatedReference
    """Warn once per model and runtime when the reference outputs do not come from TFLM."""
    from codegen.reference import TFLM

    key = (id(model), model.kind)
    if model.kind != TFLM and key not in _WARNED:
        _WARNED.add(key)
        why = model.notes[0] if model.notes else "TFLM could not run it"
        log.warning("the reference outputs of %s come from %s: %s", graph.name, model.used, why)


def reference_sequence(graph: Graph, inputs: list[bytes]) -> list[bytes]:
    """TFLM reference outputs of ``inputs`` run in order from cleared state tensors, the state carried from one
    to the next (what a stateful network computes over a stream; the self-test's sequence check)."""
    from codegen.reference import IsolatedReference

    path = Path(graph.source)
    if not path.is_file():
        raise ModelError(f"model file {graph.source!r} not found for the TFLM reference",
                         hint="load the graph with codegen.frontend.load_model(path)")
    model = IsolatedReference(path.read_bytes())
    try:
        outs = model.predict_many([split_inputs(graph, data) for data in inputs])
        _say_fallback(model, graph)
    finally:
        model.close()
    return [join_outputs(graph, list(o)) for o in outs]


def host_c_fns(graph: Graph) -> tuple[Callable[[bytes], bytes], Callable[[bytes], tuple[bytes, ...]] | None]:
    """(predict, per-layer outputs or None) from the generated C compiled for the host; each call from cleared
    state tensors (:func:`stateful`)."""
    try:
        from codegen import host
    except ImportError as exc:
        raise CodegenError("the host build of the generated C (codegen.host) is not available",
                           hint="install the native backend, or run with --no-host-c") from exc
    model = host.compile(graph)

    def predict(data: bytes) -> bytes:
        model.reset()
        return join_outputs(graph, model.predict(split_inputs(graph, data)))

    return predict, _layer_dumper(model, predict)


def _layer_dumper(model: object, predict: Callable[[bytes], bytes]) -> Callable[[bytes], tuple[bytes, ...]] | None:
    """Per-layer outputs of the host build through the network API's layer hook (P_set_layer_hook)."""
    import ctypes

    lib = getattr(model, "_lib", None)
    prefix = getattr(getattr(model, "sources", None), "prefix", None)
    if lib is None or prefix is None or not hasattr(lib, f"{prefix}_set_layer_hook"):
        return None
    hook_type = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_void_p)
    layer_output = getattr(lib, f"{prefix}_layer_output")
    layer_output.restype = ctypes.c_void_p
    layer_output.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_uint32)]
    set_hook = getattr(lib, f"{prefix}_set_layer_hook")
    set_hook.restype = None
    set_hook.argtypes = [hook_type, ctypes.c_void_p]

    def dump(data: bytes) -> tuple[bytes, ...]:
        captured: list[bytes] = []

        def on_layer(layer: int, _user: object) -> None:
            n = ctypes.c_uint32(0)
            ptr = layer_output(layer, ctypes.byref(n))
            captured.append(ctypes.string_at(ptr, n.value) if ptr else b"")

        hook = hook_type(on_layer)
        set_hook(hook, None)
        try:
            predict(data)
        finally:
            set_hook(hook_type(), None)
        return tuple(captured)

    return dump


def float_fn(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """A float .tflite model: float32 input batch (1, ...) -> float output."""
    if not path.is_file():
        raise ModelError(f"float model {path} not found", hint="give the float32 .tflite the int8 model came from")
    interp = _tflm(path.read_bytes())
    details = interp.get_input_details(0)
    if np.dtype(details["dtype"]) != np.float32:
        raise ModelError(f"{path} is not a float model (input is {np.dtype(details['dtype']).name})",
                         hint="pass the float32 .tflite with --float-model")
    shape = tuple(int(d) for d in details["shape"])

    def run(x: np.ndarray) -> np.ndarray:
        interp.set_input(np.asarray(x, dtype=np.float32).reshape(shape), 0)
        interp.invoke()
        return np.asarray(interp.get_output(0))

    return run


def layer_names(graph: Graph) -> tuple[str, ...]:
    """Layer names as the device numbers them: operators left after the native backend's graph passes."""
    from codegen.backend.native import layer_names as native_layer_names

    return native_layer_names(graph)
