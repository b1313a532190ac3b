"""Portable column-sparse convolution (issue #16, ``cg_conv2d_cols_s8``): bit-exact with TFLM on models whose
convolution weights keep, in every group of 4 im2col columns (ky, kx, c), the same at most two columns in all
output channels (layer-wide 2:4), on builds without the DSP extension; chosen only for such layers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.lower import columns, columns_s8
from codegen.frontend import load_model
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build
from tests.native.sparse_helpers import emulated_board, validate_exact
from tests.native.test_conv_columns import _conv_cols, _dense_conv
from tests.native.test_op_conformance import _inputs
from tests.native.tflite_edit import fan_out

PORTABLE = NativeOptions(kernels="portable")

SPECS = [
    # first convolutions on one channel: 5x5 valid (25 columns, 13 kept), 3x3 same (the border path on all sides)
    OpSpec("pcols_k5_c1_o6_valid_relu", ((12, 12, 1),), _conv_cols(6, 5, 1, 1, pad="valid", act="relu"), key="p1"),
    OpSpec("pcols_k5_c1_o8_same", ((11, 10, 1),), _conv_cols(8, 5, 1, 7), key="p7"),
    OpSpec("pcols_k3_c1_o8_same", ((9, 8, 1),), _conv_cols(8, 3, 1, 2), key="p2"),
    # several channels, SAME padding and stride 2, 10 outputs (2 channels left over after the groups of 4)
    OpSpec("pcols_k3_c6_o10_s2_same", ((9, 10, 6),), _conv_cols(10, 3, 6, 3, s=2), key="p3"),
    OpSpec("pcols_k1_c16_o16", ((5, 6, 16),), _conv_cols(16, 1, 16, 4), key="p4"),
    # 27 columns (14 kept: D not a multiple of 4), an odd pixel count (7 x 5), relu6 (a clamp inside the int8 range)
    OpSpec("pcols_k3_c3_o13_relu6_odd", ((7, 5, 3),), _conv_cols(13, 3, 3, 5, act="relu6"), key="p5"),
    OpSpec("pcols_k3_c4_o8_dilated", ((9, 9, 4),), _conv_cols(8, 3, 4, 6), key="p6", dilation=2),
]


def _check(path, samples: int = 6, build_cache=None, sanitize: bool = False) -> None:  # noqa: ANN001
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, options=PORTABLE, sanitize=sanitize,
                        opt="-O1" if sanitize else "-O2")
    assert columns_s8.KERNEL in ours.sources.kernels
    ref = ReferenceModel(path)
    rng = np.random.default_rng(16)
    for _ in range(samples):
        xs = _inputs(graph, OpSpec("x", (), None), rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def _force(monkeypatch) -> None:  # noqa: ANN001
    """The column kernel whatever the cost model says and whatever its code costs."""
    monkeypatch.setattr(columns_s8, "MAX_RATIO", 1e12)
    monkeypatch.setitem(columns.OTHER_CODE_BYTES, columns_s8.KERNEL, 0)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_portable_column_sparse_conv_matches_tflm(spec: OpSpec, build_cache, monkeypatch) -> None:  # noqa: ANN001
    _force(monkeypatch)
    _check(build(spec), build_cache=build_cache)


@pytest.mark.parametrize("spec", [SPECS[1], SPECS[3]], ids=["k5_same", "k3_s2_same"])
def test_portable_column_sparse_conv_under_sanitizers(spec: OpSpec, build_cache, monkeypatch) -> None:  # noqa: ANN001
    """AddressSanitizer/UBSan and the CG_CHECK_BOUNDS arena poisoning over the border path and the inside path."""
    _force(monkeypatch)
    _check(build(spec), samples=2, build_cache=build_cache, sanitize=True)


def test_generation_takes_the_portable_column_kernel_only_for_column_sparse_weights(monkeypatch) -> None:  # noqa: ANN001
    """Layer-wide 2:4 weights take the kernel on portable builds where it pays for its code, dense weights do not;
    a small layer alone does not pay for the code; the stream's reach is what the bounds proof computes."""
    small = load_model(build(SPECS[4]))  # 15 pixel pairs of a 1x1: saves fewer instructions than 8 per byte of code
    assert columns_s8.KERNEL not in generate(small, options=PORTABLE).kernels
    assert "cg_conv2d_s8" in generate(small, options=PORTABLE).kernels
    monkeypatch.setitem(columns.OTHER_CODE_BYTES, columns_s8.KERNEL, 0)
    dense = load_model(build(OpSpec("cols_dense_k5", ((12, 12, 1),), _dense_conv, key="cd")))
    assert columns_s8.KERNEL not in generate(dense, options=PORTABLE).kernels
    for spec in (SPECS[0], SPECS[3], SPECS[4]):
        graph = load_model(build(spec))
        program = generate(graph, options=PORTABLE)
        assert columns_s8.KERNEL in program.kernels and "cg_conv2d_s8" not in program.kernels
        assert columns_s8.KERNEL not in generate(graph, options=NativeOptions(kernels="dsp")).kernels
    w = np.zeros((4, 1, 2, 3), dtype=np.int8)
    w[:, 0, 1, 2] = 1
    w[:, 0, 0, 1] = -1
    s = columns_s8.stream(w, 8, 1, 1)
    assert columns_s8.read_bytes(4, 8, 3, 1, 2, 1, 1, s) == s.nbytes
    for word, value in ((1, 0x7FFF0001), (2, 0x00000100)):  # an offset past its channel; a reach beyond the span
        bad = s.copy()
        bad[word] = value
        assert columns_s8.read_bytes(4, 8, 3, 1, 2, 1, 1, bad) is None
    assert columns_s8.read_bytes(4, 8, 3, 1, 2, 1, 1, s[:-1]) is None  # a stream cut short


def _two_convs(K, x):  # noqa: ANN001, ANN202, N803
    # a 5x5 first convolution on one channel (valid: the gather of two pixels), then a 3x3 with SAME padding and
    # relu6 (the border path) over 8 channels to 13 (a channel left over after the groups of 4)
    y = _conv_cols(8, 5, 1, 11, pad="valid", act="relu")(K, x)
    return _conv_cols(13, 3, 8, 12, act="relu6")(K, [y])


@pytest.mark.emulator
def test_portable_column_kernel_on_the_emulated_rv32imc_board_matches_tflm(tmp_path, capsys, monkeypatch) -> None:  # noqa: ANN001
    """The RV32IMC build of the kernel on the emulated board (about 10 s): device == TFLM == host C."""
    from codegen.hil.project import ensure_project

    board = emulated_board("emulated_rv32imc")
    _force(monkeypatch)
    model = build(OpSpec("pcols_two_convs", ((12, 11, 1),), _two_convs, key="pb1"))
    project = ensure_project(model, board, tmp_path)
    assert (project / "src" / "net" / "cg_net.c").read_text().count(f"{columns_s8.KERNEL}(") == 2
    validate_exact(project, model, capsys)


@pytest.fixture(scope="module")
def cols_lib(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    import ctypes
    import shutil
    import subprocess
    from pathlib import Path

    from codegen.resources import resource_path

    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    runtime = resource_path("runtime")
    out = tmp_path_factory.mktemp("cols") / "libcols.so"
    cmd = [gcc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-I", str(runtime / "include"),
           str(Path(__file__).with_name("cols_shim.c")), str(runtime / "src" / "conv" / "cg_conv2d_cols_s8.c"),
           "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(out))


def test_the_kernel_refuses_streams_that_do_not_match_the_layer(cols_lib) -> None:  # noqa: ANN001
    """CG_ERR_ARG (1) for a column count of 0 or beyond the filter, an offset that is not its reach's row and
    column plus a channel, a reach beyond the filter's span, a misaligned stream; the output is then untouched."""
    import ctypes

    w = np.zeros((3, 3, 3, 2), dtype=np.int8)
    w[:, 0, 2, 1] = 5  # column (0, 2, 1): offset (0 * 6 + 2 * 2) * 2 + 1 = 9, reach 4 << 8
    w[:, 2, 1, 0] = -3  # column (2, 1, 0): offset (2 * 6 + 2) * 2 = 28, reach 2 | 2 << 8
    good = columns_s8.stream(w, 6, 1, 2)
    assert good[1:2].view(np.uint16).tolist() == [9, 28] and good[2:3].view(np.uint16).tolist() == [1024, 514]

    def run(stream: np.ndarray, misalign: int = 0) -> tuple[int, np.ndarray]:
        buf = np.zeros(stream.size + 1, dtype=np.int32)
        raw = buf.view(np.uint8)
        raw[misalign : misalign + stream.nbytes] = stream.view(np.uint8)
        out = np.full(5 * 6 * 3, 77, dtype=np.int8)
        rc = cols_lib.shim_cols_run(buf.ctypes.data_as(ctypes.c_void_p), misalign, out.ctypes.data_as(ctypes.c_void_p))
        return rc, out

    rc, out = run(good)
    assert rc == 0 and (out != 77).any()
    bad = []
    for word, value in ((0, 0), (0, 19), (1, 10 | 28 << 16), (1, 7 | 28 << 16), (2, 1024 | 515 << 16),
                        (2, 1024 | (5 << 8) << 16)):
        s = good.copy()
        s[word] = value
        bad.append(s)
    for s in bad:
        rc, out = run(s)
        assert rc == 1 and (out == 77).all()
        assert columns_s8.read_bytes(3, 6, 2, 3, 3, 1, 2, s) is None  # the bounds proof refuses it too
    assert run(good, misalign=2)[0] == 1


@pytest.mark.parametrize("spec", [SPECS[0], SPECS[3]], ids=["k5_c1_o6", "k3_c6_o10_s2"])
def test_portable_column_kernel_output_stages_match_tflm(spec: OpSpec, tmp_path, build_cache, monkeypatch) -> None:  # noqa: ANN001
    """Both paths of the output stage (every multiplier of a layer below 1/4, or some at or above it): one
    convolution fanned out into outputs whose scales put the multipliers below, across and above 1/4."""
    _force(monkeypatch)
    path = build(spec)
    graph = parse_tflite(path.read_bytes(), name=spec.name, source=str(path))
    in_q = (float(graph.input_tensors[0].quant.scale[0]), int(graph.input_tensors[0].quant.zero_point[0]))
    out_scale = float(graph.output_tensors[0].quant.scale[0])
    ratios = [1.0, 3.0, 1e-3, 3e-6] + [2.0 ** (-6 - i / 8) for i in range(16)]
    data = fan_out(path.read_bytes(), in_q, [(out_scale * r, 5 - 3 * i) for i, r in enumerate(ratios)])
    edited = tmp_path / f"{spec.name}_fan.tflite"
    edited.write_bytes(data)
    graph = parse_tflite(data, name=spec.name, source=str(edited))
    ours = host.compile(graph, cache_dir=build_cache, options=PORTABLE)
    assert columns_s8.KERNEL in ours.sources.kernels
    net = b"".join(ours.sources.files.values()).decode()
    shifts = [[int(v) for v in m.group(1).split(",")] for m in re.finditer(r"_shift\[\d+\] = \{([^}]*)\}", net)]
    assert any(max(s) <= -2 for s in shifts) and any(min(s) <= -2 < max(s) for s in shifts)
    ref = ReferenceModel(edited)
    rng = np.random.default_rng(3)
    shape = graph.input_tensors[0].shape
    for _ in range(3):
        x = rng.integers(-128, 128, size=shape, dtype=np.int8)
        for k, (mine, theirs) in enumerate(zip(ours.predict([x]), ref.predict([x]), strict=True)):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape), err_msg=f"output {k}")
