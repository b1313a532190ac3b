"""ARG_MAX / ARG_MIN (int8 and float32 inputs, int32 and int64 indices) against TFLM, and int8 EXP against
TensorFlow Lite's reference kernels (TFLM's EXP is float32 only: it refuses int8 in Prepare, so TFLite's
lookup-table EXP is the reference, as ``codegen verify`` reports)."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import kernels
from codegen.frontend import load_model
from codegen.frontend.tflite import parse_tflite
from codegen.reference import TFLITE_REF, IsolatedReference, ReferenceModel
from codegen.verify import verify
from tests.native.op_models import OpSpec, build
from tests.safety.builder import OpSpec as GraphOp
from tests.safety.builder import TensorSpec
from tests.safety.builder import build as build_graph


def _tf():  # noqa: ANN202
    import tensorflow as tf

    return tf


def _arg32(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    t = x[0]
    return [
        tf.argmax(t, axis=-1, output_type=tf.int32),
        tf.argmax(t, axis=1, output_type=tf.int32),
        tf.argmin(t, axis=2, output_type=tf.int32),
        tf.argmin(t * 2.0, axis=0, output_type=tf.int32),
    ]


def _arg64(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.argmax(x[0], axis=-1), tf.argmin(x[0], axis=2)]  # int64: TensorFlow's default output type


ARG_SPECS = [OpSpec(f"arg_min_max_{bits}_{q}", ((4, 5, 6),), fn, quant=q, input_range=(-2, 2))
             for bits, fn in (("i32", _arg32), ("i64", _arg64)) for q in ("int8", "float32")]


def _tied_inputs(graph, rng: np.random.Generator, k: int) -> list[np.ndarray]:  # noqa: ANN001
    """Few distinct values, so that ties (first index wins) occur in most rows."""
    xs = []
    for t in graph.input_tensors:
        if t.dtype.value == "int8":
            bound = (3, 128)[k % 2]
            xs.append(rng.integers(-bound, bound, size=t.shape).astype(np.int8))
        else:
            xs.append((rng.integers(-3, 4, size=t.shape) * (0.5 if k % 2 else 1.0)).astype(np.float32))
    return xs


@pytest.mark.parametrize("spec", ARG_SPECS, ids=[s.name for s in ARG_SPECS])
def test_arg_min_max_matches_the_reference(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    """int32 indices against TFLM; int64 against TFLite's reference kernels (TFLM's ARG_MAX writes int32 only:
    "Only int32_t are supported currently, got INT64")."""
    path = build(spec)
    graph = load_model(path)
    assert {"ARG_MAX", "ARG_MIN"} <= set(graph.op_set)
    wide = "i64" in spec.name
    assert {graph.tensors[t].dtype.value for t in graph.outputs} == {"int64" if wide else "int32"}
    ours = host.compile(graph, cache_dir=build_cache)
    rng = np.random.default_rng(4)
    samples = [_tied_inputs(graph, rng, k) for k in range(12)]
    if wide:
        expected = _tflite_ref(path.read_bytes(), samples)
    else:
        tflm = ReferenceModel(path)
        expected = [tflm.predict(xs) for xs in samples]
    for xs, theirs_all in zip(samples, expected, strict=True):
        for mine, theirs in zip(ours.predict(xs), theirs_all, strict=True):
            theirs = np.asarray(theirs)
            assert mine.dtype == theirs.dtype
            np.testing.assert_array_equal(mine, theirs.reshape(mine.shape))


def _exp(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.exp(x[0]), tf.exp(K.layers.Dense(4)(x[0]))]


EXP_SPEC = OpSpec("exp_int8", ((16,),), _exp, input_range=(-3, 2))


def _tflite_ref(data: bytes, samples: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    with IsolatedReference(data, kinds=(TFLITE_REF,)) as ref:
        return ref.predict_many(samples)


def test_int8_exp_model_matches_tflite_reference(build_cache) -> None:  # noqa: ANN001
    path = build(EXP_SPEC)
    graph = load_model(path)
    exps = [op for op in graph.operators if op.op == "EXP"]
    assert len(exps) == 2 and all(graph.tensors[op.inputs[0]].dtype.value == "int8" for op in exps)
    ours = host.compile(graph, cache_dir=build_cache)
    rng = np.random.default_rng(8)
    samples = [[rng.integers(-128, 128, size=t.shape).astype(np.int8) for t in graph.input_tensors]
               for _ in range(6)]
    for xs, theirs_all in zip(samples, _tflite_ref(path.read_bytes(), samples), strict=True):
        for mine, theirs in zip(ours.predict(xs), theirs_all, strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


# (input scale, input zero point, output scale, output zero point): wide and narrow ranges, zero points at the
# ends, outputs saturating on both sides
EXP_QUANT = [(0.05, 3, 0.2, -128), (0.02, -128, 0.01, -128), (0.1, 0, 0.5, 0), (0.003, 40, 0.004, -20),
             (0.25, -7, 1.7, -128), (0.7, 100, 3e-3, 12), (1e-4, 0, 1 / 256, -128)]


def test_int8_exp_matches_tflite_reference_on_all_inputs(tmp_path, build_cache) -> None:  # noqa: ANN001
    """One EXP per quantization case (its own input), all 256 int8 codes each."""
    n = len(EXP_QUANT)
    tensors = [TensorSpec((1, 256), "int8", si, zi) for si, zi, _, _ in EXP_QUANT]
    tensors += [TensorSpec((1, 256), "int8", so, zo) for _, _, so, zo in EXP_QUANT]
    data = build_graph(tensors, [GraphOp("EXP", [k], [n + k]) for k in range(n)], list(range(n)),
                       list(range(n, 2 * n)))
    path = tmp_path / "exp.tflite"
    path.write_bytes(data)
    ours = host.compile(parse_tflite(data, name="exp", source=str(path)), cache_dir=build_cache)
    xs = [np.arange(-128, 128, dtype=np.int8).reshape(1, 256)] * n
    (theirs_all,) = _tflite_ref(data, [xs])
    distinct = set()
    for k, (mine, theirs) in enumerate(zip(ours.predict(xs), theirs_all, strict=True)):
        np.testing.assert_array_equal(mine.reshape(-1), np.asarray(theirs).reshape(-1), err_msg=f"case {k}")
        distinct.update(mine.reshape(-1).tolist())
    assert len(distinct) > 100


def test_verify_says_tflite_reference_is_used_for_int8_exp(build_cache) -> None:  # noqa: ANN001
    report = verify(build(EXP_SPEC), samples=8, cache_dir=build_cache)
    assert report.exact_matches == 8
    assert "BUILTIN_REF" in report.reference
    assert any("TFLM" in note for note in report.reference_notes), report.reference_notes


def test_registries_list_arg_min_max_and_int8_exp() -> None:
    lowerings = kernels.load_lowerings()
    for op in ("ARG_MAX", "ARG_MIN"):
        assert set(lowerings[op].dtypes) == {"int8->int32", "int8->int64", "float32->int32", "float32->int64"}
    assert "int8" in lowerings["EXP"].dtypes


def test_golden_vectors_of_a_model_tflm_cannot_run_come_from_tflite_with_a_warning(
        build_cache, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    """`codegen generate` (self-test vectors) and `codegen validate` take TFLite's reference kernels when TFLM
    refuses the model (int8 EXP, int64 ARG_MAX), and say so; the vectors equal the generated C's outputs."""
    import logging

    from codegen.hil.golden import golden_vectors
    from codegen.hil.sources import split_inputs

    graph = load_model(build(EXP_SPEC))
    ours = host.compile(graph, cache_dir=build_cache)
    with caplog.at_level(logging.WARNING, logger="codegen.hil.sources"):
        vectors = golden_vectors(graph, n=4)
    assert any("come from TensorFlow Lite reference kernels (BUILTIN_REF)" in r.getMessage() and "TFLM" in
               r.getMessage() for r in caplog.records)
    for data, expected in vectors:
        assert b"".join(o.tobytes() for o in ours.predict(split_inputs(graph, data))) == expected


def _exp_argmax(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    h = K.layers.Dense(6)(x[0])
    return [tf.exp(h), tf.argmax(h, axis=-1)]  # int8 EXP and int64 indices: TFLM can run neither


@pytest.mark.emulator
def test_int8_exp_and_int64_argmax_validate_and_self_test_on_the_emulated_board(
        tmp_path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    """int64 outputs through INFER and the self-test, golden vectors and comparisons from TFLite's reference."""
    import json
    import shutil

    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    from codegen.cli import main
    from codegen.hil.project import run_selftest

    model = build(OpSpec("exp_argmax_int8", ((10,),), _exp_argmax, input_range=(-2, 2)))
    graph = load_model(model)
    assert {graph.tensors[t].dtype.value for t in graph.outputs} == {"int8", "int64"}
    project = tmp_path / "exp_argmax"
    assert main(["generate", "--board", "qemu", "--model", str(model), "--out", str(project)]) == 0
    assert main(["build", str(project)]) == 0
    capsys.readouterr()
    rc = main(["validate", "--project", str(project), "--samples", "12", "--json", "--no-plots"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"], report
    assert any("come from TensorFlow Lite reference kernels (BUILTIN_REF)" in r.getMessage() for r in caplog.records)
    device = [c for c in report["comparisons"] if c["b"] == "device"]
    assert len(device) == 2 and all(c["exact"] == c["samples"] == 12 for c in device)
    result = run_selftest(project, timeout=300)
    assert result.returncode == 0, result.output[-3000:]
    assert result.failed == 0 and result.passed >= 4
