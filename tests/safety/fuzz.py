"""A bounded mutation fuzzer over the reader, the validation pass and code generation.

Mutants are made from small valid models (``seeds()``) by changing one to three things in the flatbuffer's object
tree (a dimension, a type, a quantization parameter, an operand index, an option, a buffer's length, graph inputs
and outputs) or its bytes. :func:`classify` runs one mutant through ``parse_tflite`` and ``generate`` in-process:
it is *refused* with a :class:`CodegenError` (what the CLI prints as one line, exit 2), or *accepted*; anything else
is a *traceback*. :func:`run_accepted` compiles an accepted mutant with ASan/UBSan (and the ``CG_CHECK_BOUNDS``
guard), runs it and compares it with TFLM (in a child process).

Used by ``tests/safety/test_fuzz.py`` (bounded, CI) and ``benchmarks/fuzz/fuzz.py`` (the long run).
"""

from __future__ import annotations

import copy
import random
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.safety.builder import OpSpec, TensorSpec, build, pack, q8, unpack
from tests.safety.cases import VALID, _b, _w

Choice = Callable[[int, int], int]  # inclusive integer range -> a value (random.Random.randint or hypothesis)


def chain_model() -> bytes:
    """conv -> depthwise -> average pool -> reshape -> fully connected -> softmax (int8)."""
    rng = np.random.default_rng(9)
    dw = TensorSpec((1, 3, 3, 4), "int8", [0.02] * 4, 0, rng.integers(-127, 128, (1, 3, 3, 4)), axis=3)
    tensors = [
        q8((1, 8, 8, 3), 0.05, -2),          # 0 input
        _w((4, 3, 3, 3)), _b(4),             # 1, 2
        q8((1, 8, 8, 4), 0.08, -128),        # 3 conv out (relu)
        dw, _b(4),                           # 4, 5
        q8((1, 4, 4, 4), 0.1, 3),            # 6 dw out
        q8((1, 2, 2, 4), 0.1, 3),            # 7 pool out
        TensorSpec((2,), "int32", data=[1, 16]),  # 8 shape
        q8((1, 16), 0.1, 3),                 # 9 reshape out
        _w((5, 16), 4), _b(5),               # 10, 11
        q8((1, 5), 0.2, 0),                  # 12 fc out
        q8((1, 5), 1 / 256, -128),           # 13 softmax out
    ]
    ops = [
        OpSpec("CONV_2D", [0, 1, 2], [3], {"padding": 0, "strideH": 1, "strideW": 1, "dilationHFactor": 1,
                                           "dilationWFactor": 1, "fusedActivationFunction": 1}),
        OpSpec("DEPTHWISE_CONV_2D", [3, 4, 5], [6], {"padding": 0, "strideH": 2, "strideW": 2, "depthMultiplier": 1,
                                                     "dilationHFactor": 1, "dilationWFactor": 1}),
        OpSpec("AVERAGE_POOL_2D", [6], [7], {"padding": 1, "strideH": 2, "strideW": 2, "filterHeight": 2,
                                             "filterWidth": 2}),
        OpSpec("RESHAPE", [7, 8], [9], {"newShape": [1, 16]}),
        OpSpec("FULLY_CONNECTED", [9, 10, 11], [12]),
        OpSpec("SOFTMAX", [12], [13], {"beta": 1.0}),
    ]
    return build(tensors, ops, [0], [13])


def branch_model() -> bytes:
    """Two inputs: add (broadcast) and concat, then mean over H and W (int8)."""
    tensors = [
        q8((1, 4, 4, 3), 0.05, 1), q8((1, 1, 1, 3), 0.04, -2),   # 0, 1 inputs
        q8((1, 4, 4, 3), 0.1, 0),                                 # 2 add out
        q8((1, 4, 4, 6), 0.1, 0),                                 # 3 concat out
        TensorSpec((2,), "int32", data=[1, 2]),                   # 4 axes
        q8((1, 6), 0.1, 0),                                       # 5 mean out
    ]
    ops = [
        OpSpec("ADD", [0, 1], [2]),
        OpSpec("CONCATENATION", [2, 2], [3], {"axis": 3}),
        OpSpec("MEAN", [3, 4], [5], {"keepDims": False}),
    ]
    return build(tensors, ops, [0, 1], [5])


def seeds() -> dict[str, bytes]:
    out = {f"op_{k.lower()}": f() for k, f in sorted(VALID.items())}
    out["chain"] = chain_model()
    out["branch"] = branch_model()
    return out


# ------------------------------------------------------------------------------------------- mutations

_INTS = (0, 1, 2, 3, -1, -2, 7, 255, 256, 65536, 2**31 - 1, -(2**31))
_FLOATS = (0.0, -0.5, float("nan"), float("inf"), 1e-30, 1e30, 7.8e-9, 1.0, 0.003921568859368563)
_TYPES = (0, 1, 2, 3, 4, 7, 9, 10, 16, 17, 99)


def _pick(choice: Choice, seq: Any) -> Any:
    return seq[choice(0, len(seq) - 1)]


def _int_like(choice: Choice, old: int) -> int:
    k = choice(0, 4)
    if k == 0:
        return old + 1
    if k == 1:
        return old - 1
    if k == 2:
        return old * 2
    return _pick(choice, _INTS)


def _mutate_shape(m: Any, sg: Any, choice: Choice) -> str:
    t = _pick(choice, sg.tensors)
    shape = [int(d) for d in (t.shape if t.shape is not None else [])]
    k = choice(0, 5)
    if k == 0 or not shape:
        shape.append(_pick(choice, (1, 2, 3)))
    elif k == 1:
        shape.pop(choice(0, len(shape) - 1))
    else:
        i = choice(0, len(shape) - 1)
        shape[i] = _int_like(choice, shape[i])
    t.shape = shape
    return f"shape of {t.name!r} -> {shape}"


def _mutate_type(m: Any, sg: Any, choice: Choice) -> str:
    t = _pick(choice, sg.tensors)
    t.type = _pick(choice, _TYPES)
    return f"type of {t.name!r} -> {t.type}"


def _mutate_quant(m: Any, sg: Any, choice: Choice) -> str:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    t = _pick(choice, sg.tensors)
    q = t.quantization or s.QuantizationParametersT()
    k = choice(0, 4)
    if k == 0:
        q.scale = [_pick(choice, _FLOATS)] * choice(1, 3)
    elif k == 1:
        q.zeroPoint = [_pick(choice, (-129, 128, 300, -1, 0, 127, -128))] * choice(1, 3)
    elif k == 2:
        q.quantizedDimension = _pick(choice, (0, 1, 3, 4, 9))
    elif k == 3:
        q.scale = [0.1] * choice(1, 9)
        q.zeroPoint = [0] * len(q.scale)
    else:
        t.quantization = None
        return f"quantization of {t.name!r} removed"
    t.quantization = q
    return f"quantization of {t.name!r} -> scale {q.scale} zp {q.zeroPoint} axis {q.quantizedDimension}"


def _mutate_operand(m: Any, sg: Any, choice: Choice) -> str:
    op = _pick(choice, sg.operators)
    which = "inputs" if choice(0, 2) else "outputs"
    items = [int(x) for x in (getattr(op, which) if getattr(op, which) is not None else [])]
    n = len(sg.tensors)
    k = choice(0, 3)
    if k == 0 and items:
        items.pop(choice(0, len(items) - 1))
    elif k == 1:
        items.append(choice(-2, n))
    elif items:
        items[choice(0, len(items) - 1)] = _pick(choice, (-1, -3, n, n + 5, choice(0, n - 1)))
    setattr(op, which, items)
    return f"operator {which} -> {items}"


def _mutate_option(m: Any, sg: Any, choice: Choice) -> str:
    op = _pick(choice, sg.operators)
    opts = op.builtinOptions
    if opts is None:
        op.builtinOptionsType = choice(0, 10)
        return f"options type -> {op.builtinOptionsType}"
    fields = [k for k, v in vars(opts).items() if isinstance(v, (int, float, bool, list))]
    if not fields:
        op.builtinOptions = None
        return "options removed"
    name = _pick(choice, fields)
    old = getattr(opts, name)
    if isinstance(old, list):
        new: Any = [_int_like(choice, int(x)) for x in old] if old and choice(0, 1) else [choice(-2, 5)]
    elif isinstance(old, float):
        new = _pick(choice, _FLOATS)
    else:
        new = _int_like(choice, int(old))
    setattr(opts, name, new)
    return f"option {name} -> {new}"


def _mutate_buffer(m: Any, sg: Any, choice: Choice) -> str:
    bufs = [b for b in m.buffers if b.data is not None and len(b.data)]
    if not bufs:
        return "no buffer"
    b = _pick(choice, bufs)
    data = list(b.data)
    k = choice(0, 2)
    if k == 0:
        data = data[: choice(0, len(data) - 1)]
    elif k == 1:
        data += [0] * choice(1, 8)
    else:
        i = choice(0, len(data) - 1)
        data[i] = choice(0, 255)
    b.data = data
    return f"buffer of {len(data)} bytes"


def _mutate_graph_io(m: Any, sg: Any, choice: Choice) -> str:
    which = "inputs" if choice(0, 1) else "outputs"
    items = [int(x) for x in getattr(sg, which)]
    n = len(sg.tensors)
    k = choice(0, 2)
    if k == 0:
        items = items[:-1]
    elif k == 1:
        items.append(choice(-1, n))
    elif items:
        items[0] = choice(-2, n)
    setattr(sg, which, items)
    return f"graph {which} -> {items}"


def _mutate_code(m: Any, sg: Any, choice: Choice) -> str:
    k = choice(0, 2)
    if k == 0:
        op = _pick(choice, sg.operators)
        op.opcodeIndex = choice(-1, len(m.operatorCodes) + 1)
        return f"opcode index -> {op.opcodeIndex}"
    code = _pick(choice, m.operatorCodes)
    code.builtinCode = choice(0, 210)
    code.deprecatedBuiltinCode = min(code.builtinCode, 127)
    return f"builtin code -> {code.builtinCode}"


def _mutate_tensor_buffer(m: Any, sg: Any, choice: Choice) -> str:
    t = _pick(choice, sg.tensors)
    t.buffer = choice(0, len(m.buffers) + 1)
    return f"buffer index of {t.name!r} -> {t.buffer}"


TREE_MUTATIONS = (_mutate_shape, _mutate_shape, _mutate_type, _mutate_quant, _mutate_operand, _mutate_option,
                  _mutate_option, _mutate_buffer, _mutate_graph_io, _mutate_code, _mutate_tensor_buffer)


def mutate(data: bytes, choice: Choice) -> tuple[bytes, str]:
    """One mutant of ``data`` and a description of what changed."""
    if choice(0, 9) == 0:  # raw bytes: flips, truncation
        raw = bytearray(data)
        if choice(0, 1):
            for _ in range(choice(1, 4)):
                raw[choice(0, len(raw) - 1)] ^= 1 << choice(0, 7)
            return bytes(raw), "bit flips"
        cut = choice(8, len(raw) - 1)
        return bytes(raw[:cut]), f"truncated to {cut} bytes"
    m = unpack(data)
    sg = m.subgraphs[0]
    what = []
    for _ in range(choice(1, 3)):
        what.append(_pick(choice, TREE_MUTATIONS)(m, sg, choice))
    try:
        return pack(m), "; ".join(what)
    except Exception as exc:  # noqa: BLE001 - values the flatbuffer builder cannot encode: keep the original
        return data, f"unencodable mutation ({type(exc).__name__}): " + "; ".join(what)


# ------------------------------------------------------------------------------------------- running


@dataclass
class Outcome:
    kind: str  # "refused", "accepted", "traceback"
    stage: str = ""  # "read/validate" or "generate"
    detail: str = ""
    graph: Any = None
    sources: Any = None


def classify(data: bytes) -> Outcome:
    """Reader + validation + generation in-process, as the CLI runs them."""
    from codegen.backend.native import generate
    from codegen.errors import CodegenError
    from codegen.frontend.tflite import parse_tflite

    try:
        graph = parse_tflite(data, source="mutant.tflite")
    except CodegenError as exc:
        return Outcome("refused", "read/validate", str(exc))
    except Exception:  # noqa: BLE001 - the fuzzer's finding
        return Outcome("traceback", "read/validate", traceback.format_exc())
    try:
        sources = generate(graph)
    except CodegenError as exc:
        return Outcome("refused", "generate", str(exc), graph)
    except Exception:  # noqa: BLE001
        return Outcome("traceback", "generate", traceback.format_exc(), graph)
    return Outcome("accepted", "generate", "", graph, sources)


def _inputs(graph: Any, rng: np.random.Generator) -> list[np.ndarray]:
    from codegen.verify import random_input

    return [random_input(t.shape, t.dtype, rng) for t in graph.input_tensors]


def run_accepted(data: bytes, outcome: Outcome, cache_dir: Any, samples: int = 3) -> str:
    """Compile an accepted mutant with the sanitizers and the bounds guard, run it and compare it with TFLM.
    Returns "exact", "no-reference" (TFLM cannot run it either), "mismatch: ..." or "crash: ..."."""
    from codegen import host
    from codegen.errors import CodegenError
    from codegen.reference import TFLM, IsolatedReference

    model = host.HostModel(outcome.sources, host.build(outcome.sources, sanitize=True, opt="-O1",
                                                        cache_dir=cache_dir), True)
    rng = np.random.default_rng(0)
    xs = [_inputs(outcome.graph, rng) for _ in range(samples)]
    try:
        got = model.predict_many(xs)
    except RuntimeError as exc:
        found = [ln for ln in str(exc).splitlines() if "ERROR" in ln or "runtime error" in ln]
        return "crash: " + " | ".join(found)[:500]
    try:
        with IsolatedReference(data, kinds=(TFLM,)) as ref:
            want = ref.predict_many(xs)
    except CodegenError as exc:
        return f"no-reference: {str(exc)[:200]}"
    for mine, theirs in zip(got, want, strict=True):
        for a, b in zip(mine, theirs, strict=True):
            b = np.asarray(b).reshape(a.shape)
            if a.dtype == np.float32:
                if not np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True):
                    return f"mismatch: max diff {float(np.nanmax(np.abs(a - b)))}"
            elif not np.array_equal(a, b):
                return f"mismatch: {int(np.sum(a != b))} of {a.size} values differ"
    return "exact"


@dataclass
class Tally:
    tried: int = 0
    refused: Counter = field(default_factory=Counter)  # stage -> count
    accepted: int = 0
    tracebacks: list[str] = field(default_factory=list)
    compiled: Counter = field(default_factory=Counter)  # run result kind -> count
    failures: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, what: str) -> None:
        self.tried += 1
        if outcome.kind == "refused":
            self.refused[outcome.stage] += 1
        elif outcome.kind == "accepted":
            self.accepted += 1
        else:
            self.tracebacks.append(f"{what}\n{outcome.detail}")


def random_choice(rng: random.Random) -> Choice:
    return rng.randint


def fresh_copy(data: bytes) -> bytes:
    return copy.copy(data)
