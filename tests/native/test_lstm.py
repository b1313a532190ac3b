"""UNIDIRECTIONAL_SEQUENCE_LSTM (and REVERSE_V2, for Keras Bidirectional) against TFLM: Keras LSTM layers converted
with TensorFlow (float32, and int8 post-training quantization with int16 cell state, as TensorFlow's full-integer
quantizer makes it), compared bit for bit over several consecutive invocations, so that the state carried from one
invocation to the next (the output and cell state variable tensors) is compared too.

Keras needs a fixed batch of 1 for the converter to emit the fused operator (``unroll=False``); other batch sizes
and the time-major layout, which Keras does not produce, come from editing a converted model's shapes.
"""

from __future__ import annotations

import copy
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from codegen.tolerance import float_tolerance

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "native"
INVOCATIONS = 6


@dataclass(frozen=True)
class LstmSpec:
    name: str
    steps: int
    features: int
    units: int
    return_sequences: bool = True
    stacked: bool = False  # LSTM (sequences) -> LSTM (last step) -> Dense: two layers with their own state
    weight_std: float = 0.0  # > 0: normal weights with this deviation and biases of 1 (saturating gates)
    input_range: float = 1.0
    bidirectional: bool = False  # Keras Bidirectional: REVERSE_V2, two LSTMs, CONCATENATION


SPECS = [
    LstmSpec("seq_t8_f12_u16", 8, 12, 16),
    LstmSpec("last_t16_f32_u32", 16, 32, 32, return_sequences=False),
    LstmSpec("stacked_t10_f8_u24", 10, 8, 24, stacked=True),
    LstmSpec("bidirectional_t8_f12_u16", 8, 12, 16, bidirectional=True),
]
#: large weights and inputs: gates saturate, the cell state grows beyond 1 (scale 2^-13 or so instead of 2^-15)
SATURATING = LstmSpec("saturating_t16_f8_u16", 16, 8, 16, weight_std=1.5, input_range=6.0)
QUANTS = ("float32", "int8")


def _rep(spec: LstmSpec):  # noqa: ANN202
    rng = np.random.default_rng(1)
    for _ in range(32):
        yield [rng.uniform(-spec.input_range, spec.input_range, (1, spec.steps, spec.features)).astype(np.float32)]


def build_lstm(spec: LstmSpec, quant: str) -> Path:
    """Convert (or reuse the cached) Keras LSTM model of ``spec``."""
    import tensorflow as tf
    import tf_keras as keras

    key = hashlib.sha256(repr((spec, quant, tf.__version__)).encode()).hexdigest()[:16]
    path = CACHE / f"lstm_{spec.name}_{quant}-{key}.tflite"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(int(key[:8], 16))
    inp = keras.Input((spec.steps, spec.features), batch_size=1)
    if spec.stacked:
        x = keras.layers.LSTM(spec.units, return_sequences=True)(inp)
        x = keras.layers.Dense(5)(keras.layers.LSTM(spec.units // 2)(x))
    elif spec.bidirectional:
        x = keras.layers.Bidirectional(keras.layers.LSTM(spec.units, return_sequences=True))(inp)
    elif spec.weight_std > 0:
        init = keras.initializers.RandomNormal(stddev=spec.weight_std)
        x = keras.layers.LSTM(spec.units, return_sequences=spec.return_sequences, kernel_initializer=init,
                              recurrent_initializer=init, bias_initializer="ones")(inp)
    else:
        x = keras.layers.LSTM(spec.units, return_sequences=spec.return_sequences)(inp)
    conv = tf.lite.TFLiteConverter.from_keras_model(keras.Model(inp, x))
    if quant == "int8":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: _rep(spec)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
    data = conv.convert()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def _inputs(shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    if dtype == np.int16:
        return [rng.integers(-32768, 32768, shape).astype(np.int16) for _ in range(n)]
    if dtype == np.int8:
        return [rng.integers(-128, 128, shape).astype(np.int8) for _ in range(n)]
    return [rng.uniform(-1.5, 1.5, shape).astype(np.float32) for _ in range(n)]


def _compare(path: Path | bytes, graph, build_cache: Path, n: int = INVOCATIONS) -> int:  # noqa: ANN001
    """Run ``n`` consecutive invocations on our host build and on TFLM; assert every output equal; return the
    number of values compared."""
    ours = host.compile(graph, cache_dir=build_cache)
    ours.reset()  # the library is cached per process: start from the state a fresh TFLM interpreter has
    ref = ReferenceModel(path)
    spec = ours.inputs[0]
    compared = 0
    for k, x in enumerate(_inputs(spec.shape, spec.dtype.np, np.random.default_rng(11), n)):
        mine, theirs = ours.predict(x)[0], np.asarray(ref.predict(x)[0])
        np.testing.assert_array_equal(mine, theirs.reshape(mine.shape), err_msg=f"invocation {k}")
        compared += mine.size
    return compared


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_keras_lstm_matches_tflm_bit_for_bit_across_invocations(spec: LstmSpec, quant: str, build_cache) -> None:  # noqa: ANN001
    path = build_lstm(spec, quant)
    graph = load_model(path)
    lstms = [op for op in graph.operators if op.op == "UNIDIRECTIONAL_SEQUENCE_LSTM"]
    assert len(lstms) == (2 if spec.stacked or spec.bidirectional else 1), f"no fused LSTM: {graph.op_set}"
    assert ("REVERSE_V2" in graph.op_set) == spec.bidirectional
    if quant == "int8":  # TensorFlow's full-integer LSTM: int8 activations, int16 cell state
        cell = graph.tensors[lstms[0].inputs[19]]
        assert cell.dtype.value == "int16" and cell.is_variable
    else:  # the gates call expf / tanhf: the boards' newlib may differ from glibc in the last bit
        tol = float_tolerance(graph)
        assert tol is not None and ("UNIDIRECTIONAL_SEQUENCE_LSTM", "expf, tanhf") in tol.ops
    assert _compare(path, graph, build_cache) > 0


def test_saturating_int8_lstm_with_a_coarser_cell_scale_matches_tflm(build_cache) -> None:  # noqa: ANN001
    path = build_lstm(SATURATING, "int8")
    graph = load_model(path)
    (op,) = graph.operators
    # cell state beyond +-1: a coarser power-of-two scale than the usual 2^-15, so the cell's tanh input is
    # rescaled with a smaller shift (2^-12: none at all)
    assert graph.tensors[op.inputs[19]].quant.scale[0] in (2.0**-14, 2.0**-13, 2.0**-12)
    assert _compare(path, graph, build_cache, n=8) == 8 * 16 * 16


def test_lstm_state_carries_over_and_reset_starts_the_sequence_again(build_cache) -> None:  # noqa: ANN001
    """The same input twice gives two different outputs (the state carried over, as in TFLM); after
    ``<prefix>_reset()`` (and TFLM's ``reset()``) the first output comes back, bit for bit."""
    path = build_lstm(SPECS[0], "int8")
    ours = host.compile(load_model(path), cache_dir=build_cache)
    ref = ReferenceModel(path)
    ours.reset()  # another test may have run this cached library in this process
    (x,) = _inputs(ours.inputs[0].shape, np.int8, np.random.default_rng(3), 1)
    first, second = ours.predict(x)[0], ours.predict(x)[0]
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, np.asarray(ref.predict(x)[0]).reshape(first.shape))
    np.testing.assert_array_equal(second, np.asarray(ref.predict(x)[0]).reshape(first.shape))
    ours.reset()
    ref.interpreter.reset()
    again = ours.predict(x)[0]
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(again, np.asarray(ref.predict(x)[0]).reshape(first.shape))


def _reverse(K, x):  # noqa: ANN001, ANN202
    import tensorflow as tf

    return [tf.reverse(x[0], [1, 2]), tf.reverse(x[0], [-1])]


@pytest.mark.parametrize("quant", ["int8", "float32", "int16x8"])
def test_reverse_v2_matches_tflm(quant: str, build_cache) -> None:  # noqa: ANN001
    """REVERSE_V2 (what Keras Bidirectional emits) over two contiguous axes and over a negative axis: a copy
    with negative strides, equal to TFLM's output bit for bit."""
    from tests.native.op_models import OpSpec, build

    path = build(OpSpec(f"reverse_v2_{quant}", ((4, 5, 3),), _reverse, quant=quant, key="reverse_v2"))
    graph = load_model(path)
    assert "REVERSE_V2" in graph.op_set, graph.op_set
    ours, ref = host.compile(graph, cache_dir=build_cache), ReferenceModel(path)
    for x in _inputs(ours.inputs[0].shape, ours.inputs[0].dtype.np, np.random.default_rng(2), 2):
        for mine, theirs in zip(ours.predict(x), ref.predict(x), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def _edit(data: bytes, batches: int, time_major: bool) -> bytes:
    """The converted single-LSTM model with ``batches`` sequences, batch-major or time-major."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    (op,) = [o for o in sg.operators if model.operatorCodes[o.opcodeIndex].builtinCode
             == s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM]
    op.builtinOptions.timeMajor = time_major
    for i in (op.inputs[0], op.outputs[0]):
        t = sg.tensors[i]
        _, steps, last = (int(v) for v in t.shape)
        t.shape = [steps, batches, last] if time_major else [batches, steps, last]
        t.shapeSignature = None
    for i in (op.inputs[18], op.inputs[19]):
        t = sg.tensors[i]
        t.shape = [batches, int(t.shape[-1])]
        t.shapeSignature = None
    b = flatbuffers.Builder(0)
    b.Finish(copy.deepcopy(model).Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


@pytest.mark.parametrize("quant", QUANTS)
@pytest.mark.parametrize("time_major", [False, True], ids=["batch_major", "time_major"])
def test_lstm_with_three_sequences_batch_or_time_major_matches_tflm(quant: str, time_major: bool, build_cache,  # noqa: ANN001
                                                                    tmp_path: Path) -> None:
    data = _edit(build_lstm(SPECS[0], quant).read_bytes(), 3, time_major)
    path = tmp_path / f"lstm3_{quant}_{time_major}.tflite"
    path.write_bytes(data)
    graph = load_model(path)
    assert graph.tensors[graph.inputs[0]].shape == ((8, 3, 12) if time_major else (3, 8, 12))
    assert _compare(path, graph, build_cache, n=3) == 3 * 3 * 8 * 16


def test_lstm_variants_tflm_has_no_kernel_for_are_refused_in_one_line(tmp_path: Path) -> None:
    """CIFG (no input gate) and a float LSTM reading int8 weights (hybrid) exit 2 with one line naming them."""
    import subprocess
    import sys

    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    cases = {}
    model = s.ModelT.InitFromPackedBuf(build_lstm(SPECS[0], "float32").read_bytes(), 0)
    op = model.subgraphs[0].operators[0]
    op.inputs = [-1 if i in (1, 5, 12) else t for i, t in enumerate(op.inputs)]
    cases["cifg"] = (model, "without an input gate (CIFG)")
    model = s.ModelT.InitFromPackedBuf(build_lstm(SPECS[0], "float32").read_bytes(), 0)
    sg = model.subgraphs[0]
    w = sg.tensors[sg.operators[0].inputs[2]]
    w.type = s.TensorType.INT8
    model.buffers[w.buffer].data = list(np.zeros(int(np.prod(w.shape)), np.int8).tobytes())
    q = s.QuantizationParametersT()
    q.scale, q.zeroPoint = [0.01], [0]
    w.quantization = q
    cases["hybrid"] = (model, "hybrid LSTM")
    for name, (m, words) in cases.items():
        b = flatbuffers.Builder(0)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        path = tmp_path / f"{name}.tflite"
        path.write_bytes(bytes(b.Output()))
        proc = subprocess.run([sys.executable, "-m", "codegen", "emit-c", "--model", str(path), "--out",
                               str(tmp_path / name)], capture_output=True, text=True, check=False)
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert not (tmp_path / name).exists()


def test_lstm_int8_stays_in_bounds_under_the_sanitizers(build_cache) -> None:  # noqa: ANN001
    """The stacked int8 model built with -fsanitize=address,undefined and the per-layer arena guards
    (CG_CHECK_BOUNDS): every invocation equals TFLM's."""
    path = build_lstm(SPECS[2], "int8")
    graph = load_model(path)
    ours = host.compile(graph, sanitize=True, cache_dir=build_cache)
    spec = ours.inputs[0]
    xs = _inputs(spec.shape, spec.dtype.np, np.random.default_rng(5), 4)
    ref = ReferenceModel(path)
    for k, (mine, x) in enumerate(zip(ours.predict_many(xs), xs, strict=True)):
        np.testing.assert_array_equal(mine[0], np.asarray(ref.predict(x)[0]).reshape(mine[0].shape),
                                      err_msg=f"invocation {k}")


def test_lstm_scratch_equals_the_c_formula(tmp_path: Path) -> None:
    import ctypes
    import shutil
    import subprocess

    from codegen.backend.native.lower.lstm import scratch_bytes
    from codegen.resources import resource_path

    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    rt = resource_path("runtime")
    lib = tmp_path / "liblstm.so"
    subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-I", str(rt / "include"),
                    str(rt / "src" / "lstm" / "cg_lstm_s8.c"), str(rt / "src" / "lstm" / "cg_lstm_f32.c"),
                    "-o", str(lib)], check=True)

    class Dims(ctypes.Structure):  # the leading fields both parameter structs share
        _fields_ = [(n, ctypes.c_int32) for n in ("batches", "time_steps", "input_size", "state_size")]
        _fields_ += [("pad", ctypes.c_int32 * 64)]

    so = ctypes.CDLL(str(lib))
    for dtype, cell in (("s8", 2), ("f32", 4)):
        fn = getattr(so, f"cg_lstm_{dtype}_get_scratch_size")
        fn.restype = ctypes.c_int32
        for b, t, i, s in [(1, 8, 12, 16), (3, 2, 5, 7)]:
            assert fn(ctypes.byref(Dims(b, t, i, s))) == scratch_bytes(b, s, cell)


@pytest.mark.emulator
def test_int8_lstm_project_on_the_emulated_stm32f405(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """The stacked int8 LSTM (two layers with their own state, and a Dense head) generated, built and run on the
    emulated STM32F405: ``codegen validate`` bit-exact on independent samples, and ``pio test``, whose self-test
    also runs its golden inputs as one stream against TFLM's outputs for that stream."""
    import json

    from codegen.boards import load_board
    from codegen.cli import main
    from codegen.hil.project import run_selftest
    from codegen.hil.pytest_plugin import emulator_skip_reason

    reason = emulator_skip_reason(load_board("emulated_stm32f405"))
    if reason:
        pytest.skip(reason)
    model = tmp_path / "lstm_stacked.tflite"
    model.write_bytes(build_lstm(SPECS[2], "int8").read_bytes())
    project = tmp_path / "project"
    assert main(["generate", "--board", "qemu", "--model", str(model), "--out", str(project)]) == 0
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--samples", "10", "--json", "--no-plots"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0, report
    result = run_selftest(project, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    assert result.failed == 0 and "test_state_sequence:PASS" in result.output
