"""SVDF, and the variable (state) tensors it keeps across inferences: the generated C runs frame after frame and
equals TFLM's reference kernels bit for bit on every frame (TensorFlow Lite's interpreter as a second opinion
where it runs the case), the state lives outside the arena, and ``<prefix>_reset()`` starts a sequence over."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.planner import plan
from codegen.errors import ModelError
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.conftest import ROOT
from tests.native.svdf_models import SvdfLayer, SvdfSpec, build, inputs

FRAMES = 10

SPECS = {
    # micro-speech-like: 40 features per frame, 64 filters of rank 1 over 8 frames of memory (int16 state)
    "kws_int16_state": SvdfSpec("kws_int16_state", 40, (SvdfLayer(64, 1, 8, relu=True),)),
    # two stacked layers (two state tensors), rank 2 and 3, the second layer without a fused ReLU
    "stacked_rank2_rank3": SvdfSpec("stacked_rank2_rank3", 24, (SvdfLayer(16, 2, 5, relu=True), SvdfLayer(6, 3, 4))),
    "int8_state": SvdfSpec("int8_state", 24, (SvdfLayer(16, 2, 5, relu=True), SvdfLayer(8, 1, 6)), quant="int8"),
    "batch2": SvdfSpec("batch2", 12, (SvdfLayer(8, 2, 4, relu=True), SvdfLayer(5, 1, 6, relu=True)), batch=2),
    "float32": SvdfSpec("float32", 24, (SvdfLayer(16, 2, 5), SvdfLayer(8, 1, 3, relu=True), SvdfLayer(4, 1, 1)),
                        quant="float32"),
    "float32_kws": SvdfSpec("float32_kws", 40, (SvdfLayer(96, 1, 8, relu=True),), quant="float32"),
    # micro speech's shape: 40 features -> SVDF (128 filters, rank 1, memory 8) -> FULLY_CONNECTED -> SOFTMAX
    "micro_speech": SvdfSpec("micro_speech", 40, (SvdfLayer(128, 1, 8, relu=True),), classes=4),
    "micro_speech_float32": SvdfSpec("micro_speech_float32", 40, (SvdfLayer(128, 1, 8, relu=True),), classes=4,
                                     quant="float32"),
}


#: int16-state specs the Cortex-M DSP variant (cg_svdf_dsp_s8) takes, run on the host with its C equivalents of the
#: instructions; "odd" has a depth (13) and memories (5, 3, 1) that leave tails after the 4- and 2-wide steps, and a
#: state zero point the kernel folds into the biases
DSP_SPECS = ("kws_int16_state", "stacked_rank2_rank3", "batch2", "odd_state_zero_point", "micro_speech")
SPECS["odd_state_zero_point"] = SvdfSpec("odd_state_zero_point", 13, (SvdfLayer(6, 2, 5, relu=True),
                                                                      SvdfLayer(4, 1, 3, relu=True),
                                                                      SvdfLayer(5, 1, 1, relu=True)),
                                         state_zero_point=37)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("svdf")
    out = {}
    for name, spec in SPECS.items():
        out[name] = root / f"{name}.tflite"
        out[name].write_bytes(build(spec))
    return out


def _tflm_sequence(data: bytes, xs: list[np.ndarray]) -> list[np.ndarray]:
    ref = ReferenceModel(data)  # a fresh interpreter: its state starts cleared
    return [ref.predict(x)[0] for x in xs]


def _tflite_sequence(data: bytes, xs: list[np.ndarray]) -> list[np.ndarray]:
    import tensorflow as tf

    interp = tf.lite.Interpreter(
        model_content=data, experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF
    )
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
    out = []
    for x in xs:
        interp.set_tensor(i, x)
        interp.invoke()
        out.append(interp.get_tensor(o).copy())
    return out


def _host_sequence(model: host.HostModel, xs: list[np.ndarray]) -> list[np.ndarray]:
    model.reset()
    return [model.predict(x)[0] for x in xs]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_svdf_equals_tflm_on_every_frame_of_a_sequence(name: str, models: dict[str, Path], build_cache: Path) -> None:
    data = models[name].read_bytes()
    xs = inputs(SPECS[name], FRAMES)
    want = _tflm_sequence(data, xs)
    got = _host_sequence(host.compile(models[name], cache_dir=build_cache), xs)
    for k, (w, g) in enumerate(zip(want, got, strict=True)):
        assert g.dtype == w.dtype and g.shape == w.shape
        assert np.array_equal(g, w), f"{name}: frame {k} differs from TFLM"
    if SPECS[name].quant != "float32":  # the codes are spread, not stuck at the clamps
        assert np.mean([np.mean(np.abs(w.astype(np.int32)) >= 127) for w in want]) < 0.05


@pytest.mark.parametrize("name", DSP_SPECS)
def test_dsp_svdf_equals_tflm_on_every_frame(name: str, models: dict[str, Path], build_cache: Path) -> None:
    data = models[name].read_bytes()
    xs = inputs(SPECS[name], FRAMES)
    model = host.compile(models[name], cache_dir=build_cache, options=NativeOptions(kernels="dsp"))
    assert "cg_svdf_dsp_s8" in model.sources.kernels
    for k, (w, g) in enumerate(zip(_tflm_sequence(data, xs), _host_sequence(model, xs), strict=True)):
        assert np.array_equal(g, w), f"{name}: frame {k} differs from TFLM"


def test_state_carries_over_and_reset_starts_the_sequence_again(models: dict[str, Path], build_cache: Path) -> None:
    data = models["kws_int16_state"].read_bytes()
    x = inputs(SPECS["kws_int16_state"], 1)[0]
    want = _tflm_sequence(data, [x] * 4)
    assert not np.array_equal(want[0], want[3]), "the same frame four times should give different outputs"
    model = host.compile(models["kws_int16_state"], cache_dir=build_cache)
    first = _host_sequence(model, [x] * 4)
    model.predict(x)  # a fifth frame, then reset: the next frames are the fresh sequence again
    again = _host_sequence(model, [x] * 4)
    for w, a, b in zip(want, first, again, strict=True):
        assert np.array_equal(a, w) and np.array_equal(b, w)


@pytest.mark.parametrize("name", ["kws_int16_state", "batch2"])
def test_int8_svdf_equals_tensorflow_lite(name: str, models: dict[str, Path], build_cache: Path) -> None:
    """TensorFlow Lite's reference SVDF (int16 state, fused ReLU as its integer kernel requires) agrees too."""
    data = models[name].read_bytes()
    xs = inputs(SPECS[name], FRAMES)
    got = _host_sequence(host.compile(models[name], cache_dir=build_cache), xs)
    for w, g in zip(_tflite_sequence(data, xs), got, strict=True):
        assert np.array_equal(g, w)


def test_svdf_without_bias_equals_tensorflow_lite(tmp_path: Path, build_cache: Path) -> None:
    """TFLM's SVDF dereferences the optional bias (it crashes without one): TensorFlow Lite is the reference."""
    int8 = SvdfSpec("int8_no_bias", 20, (SvdfLayer(12, 2, 6, bias=False, relu=True),))
    flt = SvdfSpec("float_no_bias", 20, (SvdfLayer(12, 2, 6, bias=False),), quant="float32")
    for spec in (int8, flt):
        path = tmp_path / f"{spec.name}.tflite"
        path.write_bytes(build(spec))
        xs = inputs(spec, FRAMES)
        got = _host_sequence(host.compile(path, cache_dir=build_cache), xs)
        want = _tflite_sequence(path.read_bytes(), xs)
        for w, g in zip(want, got, strict=True):
            if spec.quant == "float32":  # TFLite sums in another order than TFLM (whose order the kernel follows)
                np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-4)
            else:
                assert np.array_equal(g, w)


def test_float_svdf_is_close_to_tensorflow_lite(models: dict[str, Path], build_cache: Path) -> None:
    xs = inputs(SPECS["float32"], FRAMES)
    got = _host_sequence(host.compile(models["float32"], cache_dir=build_cache), xs)
    for w, g in zip(_tflite_sequence(models["float32"].read_bytes(), xs), got, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-4)


def test_sanitized_build_with_bounds_guards_runs_the_sequence(models: dict[str, Path], build_cache: Path) -> None:
    """AddressSanitizer + UBSan, every layer fenced into its own arena buffers; the state buffer is not in the
    arena, so a kernel writing past its state would be caught there as a global overflow."""
    name = "stacked_rank2_rank3"
    xs = inputs(SPECS[name], FRAMES)
    want = _tflm_sequence(models[name].read_bytes(), xs)
    got = host.compile(models[name], cache_dir=build_cache, sanitize=True).predict_many(xs)
    for w, g in zip(want, got, strict=True):
        assert np.array_equal(g[0], w)


def test_verify_runs_each_batch_as_one_stream_on_both_sides(models: dict[str, Path], build_cache: Path) -> None:
    """``codegen verify`` on a stateful model: 300 samples cross a batch boundary (256), where the sanitized build
    starts a new process (cleared state); the reference is reset there too, so every sample matches."""
    from codegen.verify import BATCH, verify

    samples = BATCH + 44
    report = verify(models["stacked_rank2_rank3"], samples=samples, tflm_arena=False, cache_dir=build_cache,
                    sanitize=True)
    assert report.exact_matches == samples and report.passed
    assert report.state_ours == sum((t.nbytes + 15) // 16 * 16 for t in parse_tflite(
        models["stacked_rank2_rank3"].read_bytes()).tensors if t.is_variable)


def test_state_is_planned_outside_the_arena(models: dict[str, Path]) -> None:
    graph = parse_tflite(models["stacked_rank2_rank3"].read_bytes(), "svdf")
    states = [t for t in graph.tensors if t.is_variable]
    assert len(states) == 2
    p = plan(graph)
    assert {t for t, _ in p.state_offsets} == {t.index for t in states}
    assert not {t.index for t in states} & {t for t, _ in p.tensor_offsets}
    assert p.state_bytes == sum((t.nbytes + 15) // 16 * 16 for t in states)
    spans = sorted((off, off + graph.tensors[t].nbytes) for t, off in p.state_offsets)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # no two states share a byte
    sources = generate(graph, prefix="kws")
    assert sources.state_bytes == p.state_bytes
    header = sources.files["kws.h"].decode()
    code = sources.files["kws.c"].decode()
    assert f"#define KWS_STATE_SIZE {p.state_bytes}" in header and "void kws_reset(void);" in header
    assert f"static uint8_t kws_state[{p.state_bytes}]" in code
    assert code.count("memset(kws_state + ") == 2


def test_int8_state_is_reset_to_its_zero_point() -> None:
    """TFLM's ResetVariableTensors fills int8 variable tensors with their zero point, others with 0."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(build(SPECS["int8_state"]), 0)
    sg = model.subgraphs[0]
    state = sg.tensors[sg.operators[0].inputs[4]]
    state.quantization.zeroPoint = [-3]
    import flatbuffers

    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    code = generate(parse_tflite(bytes(b.Output()), "svdf"), prefix="net").files["net.c"].decode()
    assert "memset(net_state + 0u, 253, " in code  # (uint8_t)-3


def _patched(spec: SvdfSpec, edit) -> bytes:  # noqa: ANN001
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(build(spec), 0)
    edit(model.subgraphs[0])
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _not_variable(sg) -> None:  # noqa: ANN001
    sg.tensors[sg.operators[0].inputs[4]].isVariable = False


def _variable_weights(sg) -> None:  # noqa: ANN001
    sg.tensors[sg.operators[0].inputs[0]].isVariable = True


def _state_as_output(sg) -> None:  # noqa: ANN001
    sg.outputs = [sg.operators[0].inputs[4]]


def _state_too_small(sg) -> None:  # noqa: ANN001
    sg.tensors[sg.operators[0].inputs[4]].shape = [1, 7]


def _rank_not_dividing(sg) -> None:  # noqa: ANN001
    sg.operators[0].builtinOptions.rank = 5


@pytest.mark.parametrize(("edit", "words"), [
    (_not_variable, ["SVDF", "input 4 is its state", "not a variable tensor"]),
    (_variable_weights, ["variable (state) tensor"]),
    (_state_as_output, ["graph output", "variable (state) tensor"]),
    (_state_too_small, ["activation state", "should be"]),
    (_rank_not_dividing, ["not a multiple of the rank 5"]),
])
def test_inconsistent_state_is_refused_in_one_line(edit, words: list[str]) -> None:  # noqa: ANN001
    data = _patched(SvdfSpec("bad", 8, (SvdfLayer(4, 1, 3, relu=True),)), edit)
    with pytest.raises(ModelError) as err:
        parse_tflite(data, source="bad.tflite")
    message = str(err.value)
    assert "\n" not in message
    for w in words:
        assert w in message, message


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_cli_reports_the_state_bytes_and_lists_svdf(models: dict[str, Path], tmp_path: Path) -> None:
    out = _cli("ops", "--json")
    assert out.returncode == 0, out.stderr
    ops = {o["op"]: o for o in json.loads(out.stdout)}
    assert set(ops["SVDF"]["dtypes"]["native"]) == {"int8", "float32"}
    model = models["kws_int16_state"]
    state = 64 * 8 * 2  # filters x memory x int16
    out = _cli("emit-c", "--model", str(model), "--out", str(tmp_path / "c"), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["state_bytes"] == state
    out = _cli("analyze", "--model", str(model), "--board", "qemu")
    assert out.returncode == 0, out.stderr
    assert f"state tensors {state:,}" in out.stdout and f"state:        {state:,} bytes" in out.stdout
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(_patched(SPECS["kws_int16_state"], _not_variable))
    out = _cli("analyze", "--model", str(bad))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "not a variable tensor" in out.stderr


@pytest.mark.emulator
def test_svdf_project_on_the_emulated_stm32f405(models: dict[str, Path], tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """generate + build + run on the emulated STM32F405: ``codegen validate`` (independent samples: the device's
    INFER and the host references clear the state before each), then ``pio test``, whose self-test also runs the
    golden inputs as one stream against TFLM's outputs for that stream (the state carries over on the device)."""
    from codegen.boards import load_board
    from codegen.cli import main
    from codegen.hil.project import run_selftest
    from codegen.hil.pytest_plugin import emulator_skip_reason

    reason = emulator_skip_reason(load_board("emulated_stm32f405"))
    if reason:
        pytest.skip(reason)
    model = tmp_path / "micro_speech_svdf.tflite"
    model.write_bytes(models["micro_speech"].read_bytes())
    project = tmp_path / "project"
    assert main(["generate", "--board", "qemu", "--model", str(model), "--out", str(project)]) == 0
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--samples", "20", "--json", "--no-plots"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0, report
    assert "cg_svdf_dsp_s8.c" in {p.name for p in (project / "src" / "net").iterdir()}  # Cortex-M4: DSP kernel
    golden = (project / "test" / "test_selftest" / "cg_golden.h").read_text()
    assert "cg_golden_sequence_outputs" in golden
    result = run_selftest(project, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    assert result.failed == 0 and "test_state_sequence:PASS" in result.output
