"""Column-sparse convolution (issue #16, ``cg_conv2d_dsp_cols_s8``): bit-exact with TFLM on models whose
convolution weights keep, in every group of 4 im2col columns (ky, kx, c), the same at most two columns in all
output channels (layer-wide 2:4; int8 quantization keeps zeros exact), chosen only for such layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.lower import columns, sparse24
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build
from tests.native.sparse_helpers import conv2d_with, emulated_board, validate_exact
from tests.native.test_op_conformance import _inputs

PATTERNS = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))


def layer24(shape: tuple[int, int, int, int], seed: int) -> np.ndarray:
    """Random Keras conv weights [KH, KW, I, O] where, along the flattened (ky, kx, c) columns, every group of 4
    keeps two columns (a random pattern) for all output channels; a trailing partial group keeps at most two."""
    rng = np.random.default_rng(seed)
    kh, kw, cin, cout = shape
    w = rng.normal(0.0, 0.3, shape).astype(np.float32).reshape(-1, cout)
    for g in range(0, w.shape[0], 4):
        n = min(4, w.shape[0] - g)
        keep = np.zeros(4, dtype=bool)
        keep[list(PATTERNS[rng.integers(len(PATTERNS))])] = True
        if n <= 2:
            keep[:] = True
        w[g : g + n] *= keep[:n, None]
    return w.reshape(shape)


def _conv_cols(filters: int, k: int, cin: int, seed: int, s: int = 1, pad: str = "same",
               act: str | None = None) -> Callable:
    def make(K, x):  # noqa: ANN001, ANN202, N803
        return conv2d_with(K, x, layer24((k, k, cin, filters), seed), seed, s, pad, act)

    return make


SPECS = [
    # first convolutions on one channel: 5x5 valid (25 columns: 13 kept, D = 16 with 3 padding columns), 3x3 same
    OpSpec("cols_k5_c1_o6_valid_relu", ((12, 12, 1),), _conv_cols(6, 5, 1, 1, pad="valid", act="relu"), key="c1"),
    OpSpec("cols_k3_c1_o8_same", ((9, 8, 1),), _conv_cols(8, 3, 1, 2), key="c2"),
    # several channels, SAME padding and stride 2 (borders on both sides), 10 outputs (a partial block of 4)
    OpSpec("cols_k3_c6_o10_s2_same", ((9, 10, 6),), _conv_cols(10, 3, 6, 3, s=2), key="c3"),
    OpSpec("cols_k1_c16_o16", ((5, 6, 16),), _conv_cols(16, 1, 16, 4), key="c4"),
    # 27 columns (14 kept, D = 16), an odd pixel count (7 x 5), relu6 (a clamp inside the int8 range)
    OpSpec("cols_k3_c3_o12_relu6_odd", ((7, 5, 3),), _conv_cols(12, 3, 3, 5, act="relu6"), key="c5"),
    OpSpec("cols_k3_c4_o8_dilated", ((9, 9, 4),), _conv_cols(8, 3, 4, 6), key="c6", dilation=2),
]


def _check(path, samples: int = 8, build_cache=None, sanitize: bool = False) -> None:  # noqa: ANN001
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels="dsp"), sanitize=sanitize,
                        opt="-O1" if sanitize else "-O2")
    assert columns.KERNEL in ours.sources.kernels
    ref = ReferenceModel(path)
    rng = np.random.default_rng(16)
    for _ in range(samples):
        xs = _inputs(graph, OpSpec("x", (), None), rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


FORMATS = {"int16": 0, "int8": columns.PAIRS}


def _force(monkeypatch, width: str) -> None:  # noqa: ANN001
    """The column kernel whatever the cost model says (and whatever its code costs), with int16 weights or int8
    channel pairs."""
    monkeypatch.setattr(columns, "MAX_RATIO", 1e12)
    monkeypatch.setattr(columns, "settle", lambda layers: layers)
    monkeypatch.setattr(columns, "INT8_MAX_INSTRUCTIONS_PER_BYTE", -1.0 if width == "int16" else 1e30)


@pytest.mark.parametrize("width", list(FORMATS))
@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_column_sparse_conv_matches_tflm(spec: OpSpec, width: str, build_cache, monkeypatch) -> None:  # noqa: ANN001
    _force(monkeypatch, width)
    path = build(spec)
    _check(path, build_cache=build_cache)
    consts = generate(load_model(path), options=NativeOptions(kernels="dsp")).constants
    flags = [int(s.const.values[1]) for s in consts if s.const.name.endswith("_filter")]
    assert flags == [FORMATS[width]]


def test_column_sparse_conv_under_sanitizers(build_cache, monkeypatch) -> None:  # noqa: ANN001
    """AddressSanitizer/UBSan over the border path (SAME padding, stride 2), the fast path, the int8 pairs."""
    _force(monkeypatch, "int8")
    _check(build(SPECS[2]), samples=3, build_cache=build_cache, sanitize=True)


def _pairs_limit(K, x):  # noqa: ANN001, ANN202, N803
    # 1x1 over 1016 channels keeping columns 0, 1 of every 4: D = 508 (PAIRS_MAX_DEPTH), every weight +-127 after
    # quantization (equal magnitudes per channel); channel 1 negative, channel 2 alternating
    w = np.full((1, 1, 1016, 4), 0.5, dtype=np.float32)
    w[..., 1] *= -1.0
    w[..., 1::2, 2] *= -1.0
    w[:, :, 2::4] = w[:, :, 3::4] = 0.0
    return K.layers.Conv2D(4, 1, kernel_initializer=K.initializers.Constant(w), use_bias=False)(x[0])


def test_int8_pairs_are_exact_at_their_depth_limit(build_cache, monkeypatch) -> None:  # noqa: ANN001
    """At D = PAIRS_MAX_DEPTH the unfolded pair sums of raw inputs times weights +-127 reach -+127 * 128 * 508
    (within 2^23 by 1.6 %): an input of real value 0 (zero point -128) gives exactly the output zero point only if
    they are exact, and inputs near the calibrated range (raw 114) give sums of 7.4 M; bit-exact with TFLM."""
    _force(monkeypatch, "int8")
    path = build(OpSpec("cols_pairs_limit", ((1, 2, 1016),), _pairs_limit, input_range=(0.9, 1.0), key="cpl"))
    graph = load_model(path)
    program = generate(graph, options=NativeOptions(kernels="dsp"))
    (filt,) = [c.const.values for c in program.constants if c.const.name.endswith("_filter")]
    assert filt[:2].tolist() == [columns.PAIRS_MAX_DEPTH, columns.PAIRS]
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels="dsp"))
    ref = ReferenceModel(path)
    assert graph.tensors[graph.inputs[0]].quant.zero_point[0] == -128
    lo, hi = np.full((1, 1, 1, 1016), -128, dtype=np.int8), np.full((1, 1, 1, 1016), 114, dtype=np.int8)
    for x in (np.concatenate([lo, hi], axis=2), np.concatenate([hi, lo], axis=2)):
        np.testing.assert_array_equal(ours.predict([x])[0], np.asarray(ref.predict([x])[0]).reshape(1, 1, 2, 4))


def _dense_conv(K, x):  # noqa: ANN001, ANN202, N803
    w = np.random.default_rng(7).normal(0.0, 0.3, (5, 5, 1, 6)).astype(np.float32)
    return K.layers.Conv2D(6, 5, kernel_initializer=K.initializers.Constant(w))(x[0])


def test_generation_takes_the_column_kernel_only_for_column_sparse_weights(monkeypatch) -> None:  # noqa: ANN001
    """Layer-wide 2:4 weights take the column kernel (before the tile-wise 2:4 and the few-channel kernels) on DSP
    cores where it pays for its code; dense weights and portable builds do not; the stream's reach is what the
    bounds proof computes."""
    small = load_model(build(SPECS[0]))  # 32 pixel pairs: saves fewer instructions than 8 per byte of the code
    assert columns.KERNEL not in generate(small, options=NativeOptions(kernels="dsp")).kernels
    monkeypatch.setattr(columns, "CODE_BYTES", 0)
    dense = load_model(build(OpSpec("cols_dense_k5", ((12, 12, 1),), _dense_conv, key="cd")))
    assert columns.KERNEL not in generate(dense, options=NativeOptions(kernels="dsp")).kernels
    for spec in (SPECS[0], SPECS[3]):
        graph = load_model(build(spec))
        program = generate(graph, options=NativeOptions(kernels="dsp"))
        assert columns.KERNEL in program.kernels
        assert not {sparse24.KERNEL, sparse24.RUNS_KERNEL, "cg_conv2d_dsp_c1_s8"} & set(program.kernels)
        assert columns.KERNEL not in generate(graph, options=NativeOptions(kernels="portable")).kernels
    w = np.zeros((4, 1, 2, 3), dtype=np.int8)
    w[:, 0, 1, 2] = 1
    s = columns.stream(w, 8, 1, 1, 0)
    assert columns.read_bytes(4, 8, 3, 1, 2, 1, 1, s) == s.nbytes
    bad = s.copy()
    bad[2] = 0x7FFF  # an offset past the window
    assert columns.read_bytes(4, 8, 3, 1, 2, 1, 1, bad) is None
    assert columns.read_bytes(4, 8, 3, 1, 2, 1, 1, s[:-1]) is None  # a stream cut short


def _two_convs(K, x):  # noqa: ANN001, ANN202, N803
    # a 5x5 first convolution on one channel (valid: the in-place gather), then a 3x3 with SAME padding and relu6
    # (the stage at the borders) over 8 channels
    y = _conv_cols(8, 5, 1, 11, pad="valid", act="relu")(K, x)
    return _conv_cols(12, 3, 8, 12, act="relu6")(K, [y])


BOARD_SPEC = OpSpec("cols_two_convs", ((12, 11, 1),), _two_convs, key="cb1")


@pytest.mark.slow
@pytest.mark.emulator
def test_column_kernel_on_the_emulated_board_matches_tflm(tmp_path, capsys, monkeypatch) -> None:  # noqa: ANN001
    """The Thumb-2 passes (int8 channel pairs on the first layer, int16 weights on the second; LDRSB/PKHBT gather,
    the border stage) on the emulated STM32F405: device == TFLM == host C."""
    from codegen.hil.project import ensure_project

    board = emulated_board("emulated_stm32f405")
    monkeypatch.setattr(columns, "MAX_RATIO", 1e12)
    monkeypatch.setattr(columns, "settle", lambda layers: layers)
    monkeypatch.setattr(columns, "cost", lambda depth, channels, fmt: 1e9 * ((fmt == 0) != (channels == 12)))
    model = build(BOARD_SPEC)
    project = ensure_project(model, board, tmp_path)
    assert (project / "src" / "net" / "cg_net.c").read_text().count(f"{columns.KERNEL}(") == 2
    consts = generate(load_model(model), options=NativeOptions(kernels="dsp", core="cortex-m4")).constants
    formats = [int(s.const.values[1]) for s in consts if s.const.name.endswith("_filter")]
    assert formats == [columns.PAIRS, 0]
    validate_exact(project, model, capsys)
