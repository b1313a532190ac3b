"""int16 LOGISTIC and TANH (16x8 models) are bit-exact with TFLM on every int16 input.

TFLM interpolates one 256-entry sigmoid table; ours is computed by ``prepare_sigmoid.sigmoid_table``. All 65,536
inputs at the scales below reach every table entry (1/12288 steps through each segment one input value at a
time; the larger scales reach the last segments) and every Prepare path: power-of-two scales with the
multiplier 3 << shift (LOGISTIC only for shift 0, TANH for 0 and 1), scales within TFLM's 1e-3 power-of-two
tolerance, right shifts from 0 to 31.
"""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import kernels
from codegen.backend.native.prepare_sigmoid import input_rescale, sigmoid_table
from codegen.errors import UnsupportedModelError
from codegen.frontend import load_model
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build
from tests.safety.builder import OpSpec as GraphOp
from tests.safety.builder import TensorSpec
from tests.safety.builder import build as build_graph

INPUT_SCALES = (
    1 / 12288, 2**-12, 2**-11, 2**-11 * 0.9996, 2**-12 * 1.0004, 2**-10, 1.5e-4, 3.1e-4, 4.3 / 12288, 1e-3, 2.7e-3,
    0.1, 1.0, 5.0, 1e-7, 4e-14,
)
ALL = np.arange(-32768, 32768, dtype=np.int16)


def _sigmoid_model(scales: tuple[float, ...], out_scale: float = 1 / 32768) -> bytes:
    """One int16 input per scale (65,536 values), each feeding a LOGISTIC and a TANH output."""
    tensors, ops, outputs = [], [], []
    for s in scales:
        tensors.append(TensorSpec((1, ALL.size), "int16", s, 0))
    for k in range(len(scales)):
        for op in ("LOGISTIC", "TANH"):
            tensors.append(TensorSpec((1, ALL.size), "int16", out_scale, 0))
            ops.append(GraphOp(op, [k], [len(tensors) - 1]))
            outputs.append(len(tensors) - 1)
    return build_graph(tensors, ops, list(range(len(scales))), outputs)


def test_int16_logistic_tanh_match_tflm_on_every_input(tmp_path, build_cache) -> None:  # noqa: ANN001
    paths = {input_rescale(s, tanh) for s in INPUT_SCALES for tanh in (False, True)}
    assert {sh for _, sh in paths} >= {0, 1, 11, 12, 14, 31}  # the Prepare paths this test reaches
    path = tmp_path / "sigmoid16.tflite"
    path.write_bytes(_sigmoid_model(INPUT_SCALES))
    graph = parse_tflite(path.read_bytes(), name="sigmoid16", source=str(path))
    ours = host.compile(graph, cache_dir=build_cache)
    xs = [ALL.reshape(1, -1)] * len(INPUT_SCALES)
    theirs = ReferenceModel(path, arena_size=1 << 24).predict(xs)
    mine = ours.predict(xs)
    assert len(mine) == 2 * len(INPUT_SCALES)
    for k, (a, b) in enumerate(zip(mine, theirs, strict=True)):
        op, scale = ("LOGISTIC", "TANH")[k % 2], INPUT_SCALES[k // 2]
        np.testing.assert_array_equal(a.reshape(-1), np.asarray(b).reshape(-1), err_msg=f"{op} input scale {scale}")
    distinct = {int(v) for a in mine for v in np.unique(a)}
    assert len(distinct) > 50000  # most int16 output values occur


def test_sigmoid_table_is_not_plain_rounding() -> None:
    """The table's midpoint correction matters: plain rounding of sigmoid(i / 24) differs in many entries
    (so the exhaustive comparison above would catch a plainly rounded table)."""
    table = sigmoid_table().astype(np.int64)
    plain = np.minimum(65535, np.floor(65536 / (1 + np.exp(-np.arange(256) / 24)) + 0.5)).astype(np.int64)
    assert table[0] == 32768 and table[255] == 65535
    assert np.all(np.diff(table) >= 0)
    assert 20 < int(np.sum(table != plain)) < 80


def _sigmoid_tanh(K, x):  # noqa: ANN001, ANN202
    a = K.layers.Dense(6, activation="sigmoid")(x[0])
    b = K.layers.Dense(6, activation="tanh")(x[0])
    return K.layers.Dense(3, activation="tanh")(K.layers.Concatenate()([a, b]))


def test_16x8_sigmoid_tanh_model_matches_tflm(build_cache) -> None:  # noqa: ANN001
    """A model converted with TensorFlow's 16x8 mode: LOGISTIC and TANH after FULLY_CONNECTED layers."""
    path = build(OpSpec("s16_sigmoid_tanh", ((10,),), _sigmoid_tanh, quant="int16x8", input_range=(-4, 4)))
    graph = load_model(path)
    assert {"LOGISTIC", "TANH"} <= {op.op for op in graph.operators}
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(3)
    for k in range(10):
        bound = 32768 if k % 2 else 3000
        x = rng.integers(-bound, bound, size=graph.input_tensors[0].shape).astype(np.int16)
        for mine, theirs in zip(ours.predict([x]), ref.predict([x]), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def test_registries_list_int16_logistic_tanh() -> None:
    lowerings = kernels.load_lowerings()
    assert "int16x8" in lowerings["LOGISTIC"].dtypes
    assert "int16x8" in lowerings["TANH"].dtypes


@pytest.mark.parametrize(
    ("in_scale", "out_scale", "message"),
    [
        (10.0, 1 / 32768, r"LOGISTIC input scale 10 is outside TFLM's int32 arithmetic range"),
        (1e-3, 1 / 16384, r"int16 LOGISTIC needs output scale 1/32768"),
    ],
)
def test_int16_logistic_outside_tflm_range_is_refused(tmp_path, in_scale: float, out_scale: float,  # noqa: ANN001
                                                      message: str) -> None:
    path = tmp_path / "bad.tflite"
    path.write_bytes(_sigmoid_model((in_scale,), out_scale))
    graph = parse_tflite(path.read_bytes(), name="bad", source=str(path))
    with pytest.raises(UnsupportedModelError, match=message):
        host.compile(graph, cache_dir=tmp_path)


def test_verify_requires_bit_exact_outputs_for_16x8_models(build_cache) -> None:  # noqa: ANN001
    """int16 inputs and outputs are compared bit for bit by `codegen verify` (no float tolerance)."""
    from codegen.verify import verify

    path = build(OpSpec("s16_sigmoid_tanh", ((10,),), _sigmoid_tanh, quant="int16x8", input_range=(-4, 4)))
    report = verify(path, samples=10, cache_dir=build_cache)
    assert report.quantized and report.tolerance == ""
    assert report.exact_matches == 10 and report.passed
