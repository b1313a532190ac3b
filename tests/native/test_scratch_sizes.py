"""The scratch sizes the lowerings reserve in the arena equal the kernels' C ``_get_scratch_size`` formulas."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from codegen.backend.native.layers import Dims
from codegen.backend.native.lower import columns
from codegen.backend.native.lower.conv import (
    conv2d_dsp_c1_s8_scratch_bytes,
    conv2d_dsp_s8_scratch_bytes,
    conv2d_s8_scratch_bytes,
    depthwise_dsp_s8_scratch_bytes,
    fully_connected_s8_scratch_bytes,
)
from codegen.backend.native.lower.elementwise import add_s8_scratch_bytes
from codegen.resources import resource_path

SHIM = Path(__file__).with_name("scratch_shim.c")
KERNELS = (
    "conv/cg_conv2d_s8.c",
    "conv/cg_conv2d_dsp_s8.c",
    "conv/cg_conv2d_dsp_c1_s8.c",
    "conv/cg_conv2d_dsp_cols_s8.c",
    "conv/cg_conv2d_cols_s8.c",
    "fully_connected/cg_fully_connected_s8.c",
    "fully_connected/cg_fully_connected_dsp_s8.c",
    "depthwise/cg_depthwise_conv2d_dsp_s8.c",
    "elementwise/cg_add_s8.c",
    "depthwise/cg_depthwise_conv2d_s8.c",
)


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    runtime = resource_path("runtime")
    out = tmp_path_factory.mktemp("scratch") / "libscratch.so"
    srcs = [str(runtime / "src" / k) for k in KERNELS]
    cmd = [gcc, "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
           "-I", str(runtime / "include"), str(SHIM), *srcs, "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return ctypes.CDLL(str(out))


@pytest.mark.parametrize("k_h,k_w,in_c", [(1, 1, 1), (1, 1, 8), (3, 3, 3), (5, 5, 7), (10, 4, 1), (1, 1, 256)])
def test_conv_scratch_matches_c(lib: ctypes.CDLL, k_h: int, k_w: int, in_c: int) -> None:
    assert lib.shim_conv_scratch(k_h, k_w, in_c) == conv2d_s8_scratch_bytes(k_h, k_w, in_c)


@pytest.mark.parametrize(
    "k_h,k_w,in_c,out_c",
    [(1, 1, 1, 1), (1, 1, 8, 8), (3, 3, 3, 7), (5, 5, 7, 16), (10, 4, 1, 64), (1, 1, 256, 3), (3, 3, 6, 5)],
)
def test_dsp_conv_scratch_matches_c(lib: ctypes.CDLL, k_h: int, k_w: int, in_c: int, out_c: int) -> None:
    assert lib.shim_conv_dsp_scratch(k_h, k_w, in_c, out_c) == conv2d_dsp_s8_scratch_bytes(k_h, k_w, in_c, out_c)


@pytest.mark.parametrize("k_h,k_w,in_c,out_c", [(5, 5, 1, 6), (3, 3, 3, 7), (5, 5, 2, 5), (7, 3, 1, 64)])
def test_dsp_conv_c1_scratch_matches_c(lib: ctypes.CDLL, k_h: int, k_w: int, in_c: int, out_c: int) -> None:
    assert lib.shim_conv_dsp_c1_scratch(k_h, k_w, in_c, out_c) == conv2d_dsp_c1_s8_scratch_bytes(k_h, k_w, in_c, out_c)


@pytest.mark.parametrize("k_h,k_w,in_c,out_c", [(5, 5, 1, 6), (3, 3, 3, 7), (5, 5, 6, 16), (1, 1, 16, 10)])
def test_dsp_conv_cols_scratch_matches_c_and_stays_within_the_dense_kernels(
    lib: ctypes.CDLL, k_h: int, k_w: int, in_c: int, out_c: int
) -> None:
    scratch = columns.scratch_bytes(k_h, k_w, in_c, out_c)
    assert lib.shim_conv_dsp_cols_scratch(k_h, k_w, in_c, out_c) == scratch
    assert scratch <= conv2d_dsp_s8_scratch_bytes(k_h, k_w, in_c, out_c)


@pytest.mark.parametrize("k_h,k_w,in_c,out_c", [(5, 5, 1, 6), (3, 3, 3, 7), (1, 1, 16, 10)])
def test_portable_conv_cols_scratch_is_the_dense_kernels(lib: ctypes.CDLL, k_h: int, k_w: int, in_c: int,
                                                         out_c: int) -> None:
    assert lib.shim_conv_cols_scratch(k_h, k_w, in_c, out_c) == conv2d_s8_scratch_bytes(k_h, k_w, in_c)


@pytest.mark.parametrize("depth", [1, 15, 16, 640])
def test_fully_connected_scratch_matches_c(lib: ctypes.CDLL, depth: int) -> None:
    assert lib.shim_fc_scratch(depth) == fully_connected_s8_scratch_bytes(depth)


@pytest.mark.parametrize("size", [1, 100, 1023, 1024, 1025, 16384])
def test_add_scratch_matches_c_on_both_sides_of_the_table_threshold(lib: ctypes.CDLL, size: int) -> None:
    assert lib.shim_add_scratch(size) == add_s8_scratch_bytes(size)


def test_depthwise_scratch_is_one_zero_point_row(lib: ctypes.CDLL) -> None:
    assert lib.shim_depthwise_scratch(24) == 24


# (input width, filter h, filter w, channels, stride, dilation, left padding, output width)
DW_CASES = [(25, 3, 3, 64, 1, 1, 1, 25), (48, 3, 3, 16, 2, 1, 0, 24), (9, 3, 3, 5, 2, 1, 0, 4),
            (9, 3, 3, 7, 1, 2, 2, 9), (8, 5, 5, 3, 1, 1, 2, 8), (4, 1, 1, 1, 1, 1, 0, 4)]


@pytest.mark.parametrize("in_w,k_h,k_w,c,stride,dil,pad,out_w", DW_CASES)
def test_dsp_depthwise_scratch_is_a_ring_of_padded_rows_and_matches_c(
    lib: ctypes.CDLL, in_w: int, k_h: int, k_w: int, c: int, stride: int, dil: int, pad: int, out_w: int
) -> None:
    geo = {"stride_w": stride, "dilation_h": dil, "dilation_w": dil, "pad_w": pad}
    i, f, o = Dims(1, 1, in_w, c), Dims(1, k_h, k_w, c), Dims(1, 1, out_w, c)
    size = depthwise_dsp_s8_scratch_bytes(i, f, o, geo)
    assert lib.shim_depthwise_dsp_scratch(in_w, k_h, k_w, c, stride, dil, pad, out_w) == size
    ring, width = (k_h - 1) * dil + 1, max(pad + in_w, (out_w - 1) * stride + (k_w - 1) * dil + 1)
    assert size == ring * width * (-(-c // 4) * 4)
