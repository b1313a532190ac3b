"""Tile-wise 2:4 sparse convolution and fully connected kernels (issue #16): bit-exact with TFLM on models whose
weights are zeroed in the tile-2:4 pattern (int8 quantization keeps zeros exact), chosen only for conforming
layers."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.lower import sparse24
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build
from tests.native.sparse_helpers import conv2d_with, emulated_board, validate_exact
from tests.native.test_op_conformance import _inputs

ALL = sparse24.PATTERNS
DENSE_WORDS = ((0, 2), (1, 3))  # the patterns the dense patch already holds


def tile24(shape: tuple[int, ...], seed: int, patterns: tuple[tuple[int, int], ...] = ALL,
           empty: float = 0.0) -> np.ndarray:
    """Random float weights (Keras layout: [..., in, out] with in % 4 == 0) where every group of 4 input
    channels keeps the same two positions (drawn from ``patterns``) in each block of 4 output channels; a share
    ``empty`` of the (group, block) tiles is all zero."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.3, shape).astype(np.float32)
    *lead, cin, cout = shape
    flat = w.reshape(-1, cin, cout)  # [taps, in, out]
    for t in range(flat.shape[0]):
        for g in range(cin // 4):
            for b in range(0, cout, 4):
                keep = np.zeros(4, dtype=bool)
                if rng.random() >= empty:
                    keep[list(patterns[rng.integers(len(patterns))])] = True
                flat[t, 4 * g : 4 * g + 4, b : b + 4] *= keep[:, None]
    return flat.reshape(shape)


def tile24_rows(shape: tuple[int, int, int, int], seed: int, empty: float = 0.0) -> np.ndarray:
    """Random Keras conv weights [KH, KW, I, O] tile-wise 2:4 along each kernel row's KW * I steps (the im2col
    order, kernel column then channel), grouped by 4 from the row's start: groups straddle channels and taps when
    I % 4 != 0, and a row's last group may be partial (the kernels pad each row to a multiple of 4)."""
    rng = np.random.default_rng(seed)
    kh, kw, cin, cout = shape
    w = rng.normal(0.0, 0.3, shape).astype(np.float32).reshape(kh, kw * cin, cout)
    steps = kw * cin
    for r in range(kh):
        for g in range(0, steps, 4):
            for b in range(0, cout, 4):
                keep = np.zeros(4, dtype=bool)
                if rng.random() >= empty:
                    keep[list(ALL[rng.integers(len(ALL))])] = True
                n = min(4, steps - g)
                w[r, g : g + n, b : b + 4] *= keep[:n, None]
    return w.reshape(shape)


def _conv24(filters: int, k: int, cin: int, seed: int, s: int = 1, pad: str = "same", act: str | None = None,
            patterns: tuple[tuple[int, int], ...] = ALL, empty: float = 0.0, rows: bool = False) -> Callable:
    def make(K, x):  # noqa: ANN001, ANN202, N803
        w = (tile24_rows((k, k, cin, filters), seed, empty) if rows
             else tile24((k, k, cin, filters), seed, patterns, empty))
        return conv2d_with(K, x, w, seed, s, pad, act)

    return make


CONV_SPECS = [
    OpSpec("t24_conv_k3_c8_o12_relu", ((7, 6, 8),), _conv24(12, 3, 8, 1, act="relu"), key="t24-1"),
    OpSpec("t24_conv_k1_c16_o16", ((5, 6, 16),), _conv24(16, 1, 16, 2), key="t24-2"),
    OpSpec("t24_conv_k3_s2_valid_c4_o10_empty", ((9, 8, 4),), _conv24(10, 3, 4, 3, s=2, pad="valid", empty=0.3),
           key="t24-3"),
    # input depth not a multiple of 4: groups along the padded kernel rows (18 -> 20 and 15 -> 16 steps)
    OpSpec("t24_conv_k3_c6_o12_rows", ((7, 6, 6),), _conv24(12, 3, 6, 13, act="relu", empty=0.1, rows=True),
           key="t24-5"),
    OpSpec("t24_conv_k5_c3_o8_valid_rows", ((9, 9, 3),), _conv24(8, 5, 3, 14, pad="valid", rows=True),
           key="t24-6"),
    OpSpec("t24_conv_k3_c12_o8_dense_words", ((6, 6, 12),), _conv24(8, 3, 12, 4, patterns=DENSE_WORDS),
           key="t24-4"),
]


def _fc24(units: int, depth: int, seed: int, act: str | None = None, empty: float = 0.0) -> Callable:
    def make(K, x):  # noqa: ANN001, ANN202, N803
        w = tile24((-(-depth // 4) * 4, units), seed, ALL, empty)[:depth]  # a depth % 4 tail: a partial group
        b = np.random.default_rng(seed + 1).normal(0.0, 0.2, units).astype(np.float32)
        return K.layers.Dense(units, activation=act, kernel_initializer=K.initializers.Constant(w),
                              bias_initializer=K.initializers.Constant(b))(x[0])

    return make


FC_SPECS = [
    OpSpec("t24_fc_d64_u24_relu", ((64,),), _fc24(24, 64, 7, act="relu"), key="t24-fc-1"),
    OpSpec("t24_fc_d600_u18_empty", ((600,),), _fc24(18, 600, 8, empty=0.2), key="t24-fc-2", input_range=(-3, 3)),
    OpSpec("t24_fc_d20_u16_relu6", ((20,),), _fc24(16, 20, 9, act="relu6"), key="t24-fc-3"),
    OpSpec("t24_fc_d22_u12", ((22,),), _fc24(12, 22, 11), key="t24-fc-4"),
]


def _check(path, kernel: str, samples: int = 10, build_cache=None, sanitize: bool = False) -> None:  # noqa: ANN001
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels="dsp"), sanitize=sanitize,
                        opt="-O1" if sanitize else "-O2")
    assert kernel in ours.sources.kernels
    ref = ReferenceModel(path)
    rng = np.random.default_rng(24)
    for _ in range(samples):
        xs = _inputs(graph, OpSpec("x", (), None), rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


# the patterns (0, 2) and (1, 3) need no patch extension: the "dense_words" specs never take the runs kernel
CONV_CASES = [pytest.param(spec, width, id=f"{width}-{spec.name}") for spec in CONV_SPECS
              for width in ("int16", "int8", "runs") if not (width == "runs" and "dense_words" in spec.name)]


@pytest.mark.parametrize(("spec", "width"), CONV_CASES)
def test_tile24_conv_matches_tflm(spec: OpSpec, width: str, build_cache, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(sparse24, "RUNS_MAX_RATIO", 1e9 if width == "runs" else 0.0)
    if width == "runs":
        monkeypatch.setattr(sparse24, "runs_cost", lambda blocks: 0.0)
    if width in ("int16", "runs"):  # what the generator falls back to when a unit pair does not fit 16 bits
        monkeypatch.setattr(sparse24, "fc_pairs_fit", lambda rows: False)
    elif width == "int8":  # int8 weights whatever they cost (the generator weighs their instructions against flash)
        monkeypatch.setattr(sparse24, "sparse_cost", lambda blocks, k, int8: 0.0 if int8 else 1.0)
    path = build(spec)
    _check(path, sparse24.RUNS_KERNEL if width == "runs" else sparse24.KERNEL, build_cache=build_cache)
    consts = generate(load_model(path), options=NativeOptions(kernels="dsp")).constants
    flags = [int(s.const.values[0]) for s in consts if s.const.name.endswith("_filter")]
    assert all(f == {"int16": f & 1, "int8": 2 | (f & 1), "runs": 4}[width] for f in flags)


@pytest.mark.parametrize("spec", FC_SPECS, ids=[s.name for s in FC_SPECS])
def test_tile24_fully_connected_matches_tflm(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    _check(build(spec), "cg_fully_connected_dsp_24_s8", build_cache=build_cache)


def _conv_per_channel_24(K, x):  # noqa: ANN001, ANN202, N803
    # tfmot-style 2:4: every output channel draws its own two positions per group of 4 input channels
    w = np.stack([tile24((3, 3, 8, 1), 30 + c)[..., 0] for c in range(12)], axis=-1)
    return K.layers.Conv2D(12, 3, padding="same", kernel_initializer=K.initializers.Constant(w))(x[0])


def test_generation_takes_the_2_4_kernel_only_for_tile_wise_weights() -> None:
    """Per-channel 2:4 weights (tfmot's) keep the dense kernel; tile-wise ones take the 2:4 kernel on DSP cores
    only."""
    rows = np.zeros((8, 8), dtype=np.int8)
    rows[0, [0, 1]] = 1
    rows[1, [2, 3]] = 1  # channel 1 keeps other positions in the same group: 4 positions in the block
    assert sparse24.block_patterns(rows) is None
    per_channel = load_model(build(OpSpec("t24_conv_per_channel", ((7, 6, 8),), _conv_per_channel_24, key="t24-pc")))
    w = next(t.data for t in per_channel.tensors if t.is_constant and t.data.ndim == 4)
    assert (np.count_nonzero(w.reshape(-1, 4), axis=1) <= 2).all()  # valid 2:4 in every row
    two_four = {sparse24.KERNEL, sparse24.RUNS_KERNEL}
    assert not two_four & set(generate(per_channel, options=NativeOptions(kernels="dsp")).kernels)
    tiled = load_model(build(CONV_SPECS[0]))
    assert two_four & set(generate(tiled, options=NativeOptions(kernels="dsp")).kernels)
    assert not two_four & set(generate(tiled, options=NativeOptions(kernels="portable")).kernels)


def _force_kernels(monkeypatch) -> None:  # noqa: ANN001
    """The board model's layers on every 2:4 convolution path: the first 3x3 (K = 72) int16 weights with the
    patch extension, the second (27 groups) the runs kernel, the 1x1 int8 weights."""
    monkeypatch.setattr(sparse24, "sparse_cost",
                        lambda blocks, k, int8: (0.0 if int8 else 1.0) if k == 12 else (1e9 if int8 else 0.0))
    monkeypatch.setattr(sparse24, "RUNS_MAX_RATIO", 1e9)
    monkeypatch.setattr(sparse24, "runs_cost",
                        lambda blocks: 0.0 if max((g for b in blocks for g, _ in b), default=0) >= 18 else 1e12)


def test_tile24_kernels_under_sanitizers(build_cache, monkeypatch) -> None:  # noqa: ANN001
    """AddressSanitizer/UBSan over the convolution paths (the patch extension at the end of the scratch, the runs)
    and the fully connected kernel's widened input."""
    _force_kernels(monkeypatch)
    _check(build(BOARD_SPEC), "cg_fully_connected_dsp_24_s8", samples=3, build_cache=build_cache, sanitize=True)


def _two_convs_fc(K, x):  # noqa: ANN001, ANN202, N803
    # two 3x3 with every pattern and empty tiles (odd and even entry counts), 1x1 (stride 2) with the dense-patch
    # patterns, then a fully connected layer over 5 groups of 4 inputs (an odd count)
    y = _conv24(12, 3, 8, 5, act="relu", empty=0.25)(K, x)
    y = _conv24(12, 3, 12, 12, act="relu", empty=0.25)(K, [y])
    y = _conv24(20, 1, 12, 6, s=2, patterns=DENSE_WORDS)(K, [y])
    return _fc24(24, 20, 10)(K, [K.layers.GlobalAveragePooling2D()(y)])


BOARD_SPEC = OpSpec("t24_two_convs_fc", ((8, 7, 8),), _two_convs_fc, key="t24-board-4")


@pytest.mark.slow
@pytest.mark.emulator
def test_tile24_kernels_on_the_emulated_board_match_tflm(tmp_path, capsys, monkeypatch) -> None:  # noqa: ANN001
    """The Thumb-2 passes (real SMLAD, SXTB16, PKHBT, UXTAH) on the emulated STM32F405: device == TFLM == host C."""
    from codegen.hil.project import ensure_project

    board = emulated_board("emulated_stm32f405")
    _force_kernels(monkeypatch)
    model = build(BOARD_SPEC)
    project = ensure_project(model, board, tmp_path)
    net = (project / "src" / "net" / "cg_net.c").read_text()
    assert net.count("cg_conv2d_dsp_24_s8(") == 2 and net.count("cg_conv2d_dsp_24r_s8(") == 1
    assert net.count("cg_fully_connected_dsp_24_s8(") == 1
    graph = load_model(model)
    consts = generate(graph, options=NativeOptions(kernels="dsp", core="cortex-m4")).constants
    assert [int(s.const.values[0]) >> 1 for s in consts if s.const.name.endswith("_filter")][:3] == [0, 2, 1]
    validate_exact(project, model, capsys)


def _big_then_1x1_24(K, x):  # noqa: ANN001, ANN202, N803
    # a dense 3x3 (16x16x8 -> 8x8x16) sets the arena's peak; the 1x1 2:4 layer after it has room for the extension
    w = np.random.default_rng(3).normal(0.0, 0.3, (3, 3, 8, 16)).astype(np.float32)
    y = K.layers.Conv2D(16, 3, strides=2, padding="same", kernel_initializer=K.initializers.Constant(w))(x[0])
    return _conv24(8, 1, 16, 21, act="relu")(K, [y])


def test_int8_weights_replace_the_runs_kernel_only_where_the_arena_has_room(build_cache, monkeypatch) -> None:  # noqa: ANN001
    """The runs kernel's int8 alternative (cg_conv2d_dsp_24_s8 with the patch extension: 10 instead of 20 bytes per
    entry) is taken where its extra scratch leaves the arena as it is, and stays the runs kernel at the peak."""
    monkeypatch.setattr(sparse24, "RUNS_MAX_RATIO", 1e9)  # the runs kernel, then int8 weights whatever they cost
    monkeypatch.setattr(sparse24, "runs_cost", lambda blocks: 0.0)
    monkeypatch.setattr(sparse24, "sparse_cost", lambda blocks, k, int8: 1e9 if int8 else 0.0)
    monkeypatch.setattr(sparse24, "INT8_MAX_INSTRUCTIONS_PER_BYTE", 1e30)
    room = build(OpSpec("t24_roomy_room", ((16, 16, 8),), _big_then_1x1_24, key="t24-r1"))
    peak = build(OpSpec("t24_roomy_peak", ((6, 6, 8),), _conv24(12, 3, 8, 22), key="t24-r2"))
    dsp = NativeOptions(kernels="dsp")
    taken = {p: generate(load_model(p), options=dsp) for p in (room, peak)}
    assert sparse24.KERNEL in taken[room].kernels and sparse24.RUNS_KERNEL not in taken[room].kernels
    assert sparse24.RUNS_KERNEL in taken[peak].kernels and sparse24.KERNEL not in taken[peak].kernels
    flags = [int(s.const.values[0]) for s in taken[room].constants if s.const.name.endswith("_filter")
             and s.const.values.dtype == np.int32]
    assert flags and all(f & 2 for f in flags)  # int8 weights
    _check(room, sparse24.KERNEL, build_cache=build_cache)
    monkeypatch.setattr(sparse24, "conv_roomy", lambda *args: None)
    for p in (room, peak):  # the arena the runs kernel needs
        assert taken[p].arena_bytes == generate(load_model(p), options=dsp).arena_bytes
