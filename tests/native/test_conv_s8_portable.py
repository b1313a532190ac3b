"""The portable int8 convolution (``cg_conv2d_s8``) bit-exact with TFLM on the paths of its gather and its channel
loops: short kernel rows (one input channel), rows not starting on a block of 4, windows crossing every border,
dilation along the rows, odd pixel counts, channels left over after the groups of 4; under AddressSanitizer/UBSan
and the CG_CHECK_BOUNDS arena poisoning too."""

from __future__ import annotations

import re

import numpy as np
import pytest

from codegen import host
from codegen.frontend import load_model
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, _conv, build
from tests.native.test_op_conformance import _inputs
from tests.native.tflite_edit import fan_out

SPECS = [
    # LeNet-5's first layer shape: rows of 5 values (blocks of 4 crossed at every row), 2 channels left over
    OpSpec("s8p_c1_k5_o6_valid", ((14, 13, 1),), _conv(6, 5, pad="valid", act="relu")),
    # SAME padding on one channel: the border windows on all four sides, 3 channels left over, odd pixel count
    OpSpec("s8p_c1_k5_o7_same_odd", ((9, 7, 1),), _conv(7, 5)),
    # rows of 6 values, stride 2 (pixel pairs across output rows), 1 channel left over
    OpSpec("s8p_c2_k3_o5_s2_same", ((11, 9, 2),), _conv(5, 3, s=2, act="relu6")),
    # whole blocks per tap (in_c 8) at the borders, one channel (no group of 4)
    OpSpec("s8p_c8_k3_o1_same", ((6, 5, 8),), _conv(1, 3)),
    # dilation along the rows: taps gathered one by one, inside and across the borders
    OpSpec("s8p_c3_k3_o6_dilated_same", ((10, 9, 3),), _conv(6, 3), dilation=2),
    OpSpec("s8p_c5_k3_o9_dilated_valid", ((11, 10, 5),), _conv(9, 3, pad="valid"), dilation=2),
    # 1x1 on an odd channel count (unaligned rows), odd pixel count
    OpSpec("s8p_c7_k1_o6_odd", ((5, 3, 7),), _conv(6, 1)),
    # a tall thin kernel (rows of 2 values) with an odd pixel count
    OpSpec("s8p_c2_k5x1_o4_same_odd", ((7, 5, 2),), _conv(4, (5, 1))),
]


def _check(spec: OpSpec, samples: int, build_cache, sanitize: bool) -> None:  # noqa: ANN001
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, sanitize=sanitize, opt="-O1" if sanitize else "-O2")
    assert "cg_conv2d_s8" in ours.sources.kernels
    ref = ReferenceModel(path)
    rng = np.random.default_rng(8)
    for _ in range(samples):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_portable_conv_matches_tflm(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    _check(spec, 8, build_cache, sanitize=False)


@pytest.mark.parametrize("spec", [SPECS[1], SPECS[3], SPECS[4]], ids=["c1_k5_same", "c8_words_same", "dilated_same"])
def test_portable_conv_under_sanitizers(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    _check(spec, 2, build_cache, sanitize=True)


# output scale relative to the converter's and zero point: multipliers below 1/4 (every channel on the output
# stage's single path), around 1/4 .. 1 (channels on both paths in one layer) and above 1 (positive shifts)
# (0.01 and 1/64 put the multipliers of these two layers' channels on both sides of 1/4)
OUTPUTS = ((1.0, -128), (3.0, 40), (0.02, 0), (0.01, 5), (1 / 64, -7), (0.006, -30), (0.004, 12), (1e-3, -100),
           (3e-6, -128))


@pytest.mark.parametrize("name", ["s8p_c1_k5_o6_valid", "s8p_c2_k3_o5_s2_same"])
def test_portable_conv_output_stages_match_tflm(name: str, tmp_path, build_cache) -> None:  # noqa: ANN001
    """The output stage's single path (every shift of the layer at most -2) and its per-channel one (some shift
    above -2), bit-exact with TFLM: one convolution fanned out into outputs of different quantizations."""
    spec = next(s for s in SPECS if s.name == name)
    path = build(spec)
    graph = parse_tflite(path.read_bytes(), name=name, source=str(path))
    in_q = (float(graph.input_tensors[0].quant.scale[0]), int(graph.input_tensors[0].quant.zero_point[0]))
    out_scale = float(graph.output_tensors[0].quant.scale[0])
    data = fan_out(path.read_bytes(), in_q, [(out_scale * r, zp) for r, zp in OUTPUTS])
    edited = tmp_path / f"{name}_fan.tflite"
    edited.write_bytes(data)
    graph = parse_tflite(data, name=name, source=str(edited))
    ours = host.compile(graph, cache_dir=build_cache)
    assert "cg_conv2d_s8" in ours.sources.kernels
    net = b"".join(ours.sources.files.values()).decode()
    shifts = [[int(v) for v in m.group(1).split(",")] for m in re.finditer(r"_shift\[\d+\] = \{([^}]*)\}", net)]
    assert any(max(s) <= -2 for s in shifts) and any(max(s) > -2 for s in shifts)
    assert any(min(s) <= -2 < max(s) for s in shifts)  # both paths in one layer
    ref = ReferenceModel(edited)
    rng = np.random.default_rng(9)
    shape = graph.input_tensors[0].shape
    for _ in range(4):
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        for k, (mine, theirs) in enumerate(zip(ours.predict([x]), ref.predict([x]), strict=True)):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape), err_msg=f"output {k}")
