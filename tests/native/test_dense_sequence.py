"""A Keras ``Dense`` on a rank-3 or rank-4 input (a sequence model: one Dense per time step), as TensorFlow converts
it, runs bit-exact against TFLM.

With the usual unknown batch dimension the converter computes the first RESHAPE's target at run time
(SHAPE -> GATHER -> REDUCE_PROD -> PACK -> RESHAPE -> FULLY_CONNECTED -> RESHAPE, the bias as an ADD) and stores
placeholder shapes ([1, 1]) for the dynamic tensors; with a fixed batch of 1 it emits one FULLY_CONNECTED with
``keep_num_dims``. TFLM cannot run the first form (it has no REDUCE_PROD kernel and takes shapes from the file):
it runs a copy with the shapes TensorFlow Lite resolves written in (:func:`codegen.reference_static.static_copy`,
which does not use codegen's frontend). A copy of the second with ``keep_num_dims`` cleared (the output keeps its
rank-3/4 layout, which TFLM accepts) covers the flattening fully connected of older converters.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions
from codegen.frontend import load_model
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from codegen.reference_static import static_copy
from codegen.verify import random_input

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "native"
SAMPLES = 30

# name: (input shape without the batch, units, quantization, fused activation)
CASES = {
    "t3_int8": ((3, 22), 8, "int8", None),
    "t3_float": ((3, 22), 8, "float32", None),
    "t4_int8_relu": ((2, 3, 22), 8, "int8", "relu"),
    "t4_float": ((2, 3, 22), 5, "float32", None),
}


def _convert(name: str, batch: int | None) -> Path:
    """The case's Keras model (random kernel and bias) converted with an unknown (``None``) or fixed batch."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    import tf_keras as keras

    shape, units, quant, act = CASES[name]
    key = repr((name, CASES[name], batch, tf.__version__, inspect.getsource(_convert)))
    path = CACHE / f"dense_seq_{name}_{batch}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.tflite"
    if path.exists():
        return path
    rng = np.random.default_rng(5)
    x = keras.Input(shape, batch_size=batch)
    dense = keras.layers.Dense(units, activation=act)
    model = keras.Model(x, dense(x))
    kernel, bias = dense.get_weights()
    dense.set_weights([rng.normal(0, 0.3, kernel.shape).astype(np.float32),
                       rng.uniform(-0.5, 0.5, bias.shape).astype(np.float32)])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if quant == "int8":
        def rep():  # noqa: ANN202
            r = np.random.default_rng(1)
            for _ in range(16):
                yield [r.uniform(-1, 1, (1, *shape)).astype(np.float32)]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = conv.inference_output_type = tf.int8
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(conv.convert())
    tmp.replace(path)
    return path


def _flatten_fc(data: bytes) -> bytes:
    """The single FULLY_CONNECTED with ``keep_num_dims`` cleared (its output keeps the rank-3/4 layout)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    (op,) = model.subgraphs[0].operators
    op.builtinOptions.keepNumDims = False
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _ops(path: Path) -> list[str]:
    return [op.op for op in parse_tflite(path.read_bytes(), validate=False).operators]


def _compare(model: Path, tflm_model: Path | bytes, build_cache: Path, *, sanitize: bool = False,
             samples: int = SAMPLES, kernels: str = "auto") -> None:
    graph = load_model(model)
    ours = host.compile(graph, cache_dir=build_cache, sanitize=sanitize, opt="-O1" if sanitize else "-O2",
                        options=NativeOptions(kernels=kernels))
    ref = ReferenceModel(tflm_model)
    rng = np.random.default_rng(3)
    for _ in range(samples):
        x = random_input(graph.input_tensors[0].shape, graph.input_tensors[0].dtype, rng)
        (mine,), (theirs,) = ours.predict([x]), ref.predict([x])
        assert mine.shape == graph.output_tensors[0].shape
        # float32 too: the fully connected kernel sums in TFLM's order
        np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, Path, Path]:
    name = request.param
    return name, _convert(name, None), _convert(name, 1)


def test_the_converter_emits_both_forms(case: tuple[str, Path, Path]) -> None:
    """The premise of the other tests: with an unknown batch the shape is computed at run time (and the file holds
    a placeholder shape), with batch 1 one FULLY_CONNECTED keeps the dimensions."""
    _, dynamic, static = case
    assert _ops(static) == ["FULLY_CONNECTED"]
    assert {"SHAPE", "REDUCE_PROD", "RESHAPE", "FULLY_CONNECTED"} <= set(_ops(dynamic))
    raw = parse_tflite(dynamic.read_bytes(), validate=False)
    fc = next(op for op in raw.operators if op.op == "FULLY_CONNECTED")
    x = raw.tensors[fc.inputs[0]]
    rows = int(np.prod(raw.input_tensors[0].shape[:-1]))
    assert x.shape == (rows, raw.input_tensors[0].shape[-1])  # inferred; the file stores [1, 1]


def test_dense_with_a_run_time_shape_matches_tflm(case: tuple[str, Path, Path], build_cache: Path) -> None:
    _, dynamic, _ = case
    _compare(dynamic, static_copy(dynamic.read_bytes()), build_cache)


def test_dense_keeping_dimensions_matches_tflm(case: tuple[str, Path, Path], build_cache: Path) -> None:
    _, _, static = case
    _compare(static, static, build_cache)


def test_flattening_fully_connected_with_a_rank3_output_matches_tflm(case: tuple[str, Path, Path],
                                                                     build_cache: Path, tmp_path: Path) -> None:
    name, _, static = case
    flat = tmp_path / f"{name}_flat.tflite"
    flat.write_bytes(_flatten_fc(static.read_bytes()))
    _compare(flat, flat, build_cache)


@pytest.mark.parametrize("name", ["t3_int8", "t4_int8_relu"])
def test_dsp_kernels_with_several_rows_match_tflm(name: str, build_cache: Path) -> None:
    """The Cortex-M DSP fully connected (host build of cg_dsp.h's C equivalents) over 3 and 6 rows."""
    dynamic, static = _convert(name, None), _convert(name, 1)
    _compare(dynamic, static_copy(dynamic.read_bytes()), build_cache, kernels="dsp")
    _compare(static, static, build_cache, kernels="dsp")


def test_16x8_mean_over_the_steps_of_a_sequence_matches_tflm(build_cache: Path) -> None:
    """GlobalAveragePooling1D in the 16x8 scheme (int8 and float32: the single-op conformance specs mean_steps*)."""
    from tests.native.op_models import OpSpec, build

    spec = OpSpec("mean_steps_int16", ((13, 7),), lambda K, x: K.layers.GlobalAveragePooling1D()(x[0]), batch=1,
                  quant="int16x8", input_range=(-2, 2))
    path = build(spec)
    graph = load_model(path)
    assert [op.op for op in graph.operators] == ["MEAN"] and len(graph.input_tensors[0].shape) == 3
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(4)
    for k in range(8):
        bound = 32768 if k % 2 else 3000
        x = rng.integers(-bound, bound, size=graph.input_tensors[0].shape).astype(np.int16)
        (mine,), (theirs,) = ours.predict([x]), ref.predict([x])
        np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def test_run_time_shape_is_clean_under_sanitizers(build_cache: Path) -> None:
    dynamic = _convert("t4_int8_relu", None)
    _compare(dynamic, static_copy(dynamic.read_bytes()), build_cache, sanitize=True, samples=5)


def _edit_signatures(data: bytes, edit) -> bytes:  # noqa: ANN001 - edit(tensor) changes one tensor in place
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    for t in model.subgraphs[0].tensors:
        edit(t)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _no_signature(t) -> None:  # noqa: ANN001
    t.shapeSignature = None


def _wrong_units(t) -> None:  # noqa: ANN001
    if t.shapeSignature is not None and list(t.shapeSignature) == [-1, 8]:  # the fully connected output
        t.shapeSignature = [-1, 9]


@pytest.mark.parametrize(("edit", "words"), [
    (_no_signature, ["RESHAPE", "[1, 1] holds 1 values"]),  # a stored shape without -1 is the tensor's shape
    (_wrong_units, ["FULLY_CONNECTED", "[1, 8]"]),  # an inferred shape must agree with the signature
], ids=["static-placeholder", "signature-disagrees"])
def test_inconsistent_shapes_are_still_refused_in_one_line(edit, words: list[str], tmp_path: Path) -> None:  # noqa: ANN001
    from tests.safety.test_validation import one_error_line, run_cli

    bad = tmp_path / "bad.tflite"
    bad.write_bytes(_edit_signatures(_convert("t3_int8", None).read_bytes(), edit))
    line = one_error_line(run_cli("emit-c", "--model", str(bad), "--out", str(tmp_path / "c")))
    for w in words:
        assert w in line, line
    assert not (tmp_path / "c").exists()


def test_verify_uses_tflm_on_the_run_time_shapes(build_cache: Path) -> None:
    """``codegen verify``: TFLM refuses the model as converted; TFLM on the copy with TensorFlow Lite's shapes is the
    reference, not TensorFlow Lite's own kernels (on this model their int8 outputs differ from TFLM's on a few
    inputs, by up to 2)."""
    from codegen.reference import REFERENCE_NAMES, TFLM_STATIC
    from codegen.verify import verify

    report = verify(_convert("t4_int8_relu", None), samples=20, cache_dir=build_cache)
    assert report.reference == REFERENCE_NAMES[TFLM_STATIC]
    assert report.passed and report.exact_matches == 20
    assert report.arena_tflm is not None


def test_an_input_with_an_unknown_number_of_steps_is_generated_for_the_stored_shape_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """keras.Input((None, 22)): TFLite stores 1 step; say so instead of silently generating a 1-step network."""
    import logging

    dynamic = _convert("t3_int8", None).read_bytes()
    with caplog.at_level(logging.WARNING, logger="codegen.frontend.shapes"):
        parse_tflite(dynamic)
    assert not caplog.records  # an unknown batch alone is expected

    def steps_unknown(t) -> None:  # noqa: ANN001
        if t.shapeSignature is not None and list(t.shapeSignature) == [-1, 3, 22]:
            t.shapeSignature = [-1, -1, 22]

    with caplog.at_level(logging.WARNING, logger="codegen.frontend.shapes"):
        graph = parse_tflite(_edit_signatures(dynamic, steps_unknown), source="steps.tflite")
    assert graph.input_tensors[0].shape == (1, 3, 22)
    (record,) = caplog.records
    assert "steps.tflite: graph input 0" in record.getMessage() and "[-1, -1, 22]" in record.getMessage()


def test_accuracy_scoring_runs_tflm_on_the_run_time_shapes() -> None:
    """`codegen train`/`bench` score a sequence model with TFLM's integers too, not TensorFlow Lite's."""
    from codegen.train.interpreters import TFLM, AccuracyModel

    dynamic = _convert("t3_int8", None)
    scorer = AccuracyModel(dynamic.read_bytes())
    assert scorer.name == TFLM and scorer.input_shape == (1, 3, 22)
    ref = ReferenceModel(static_copy(dynamic.read_bytes()))
    q = random_input((1, 3, 22), load_model(dynamic).input_tensors[0].dtype, np.random.default_rng(8))
    np.testing.assert_array_equal(scorer.invoke_raw(q[0]).reshape(-1), np.asarray(ref.predict([q])[0]).reshape(-1))
