"""16x8 TRANSPOSE_CONV (int16 activations, int8 per-channel filter, int64 bias) is bit-exact with TFLM."""

from __future__ import annotations

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import kernels
from codegen.backend.native.layers import Dims
from codegen.backend.native.lower.transpose_conv import scratch_bytes
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from codegen.resources import resource_path
from tests.native.op_models import OpSpec, build


def _transpose_conv(K, x):  # noqa: ANN001, ANN202
    init = K.initializers.RandomNormal(stddev=0.5, seed=7)
    a = K.layers.Conv2DTranspose(4, 3, strides=2, padding="same", bias_initializer=init)(x[0])
    b = K.layers.Conv2DTranspose(3, (2, 3), strides=(1, 2), padding="valid", activation="relu",
                                 bias_initializer=init)(x[0])
    c = K.layers.Conv2DTranspose(5, 4, strides=3, padding="same", use_bias=False)(x[0])
    return [a, b, c]


SPEC = OpSpec("s16_transpose_conv", ((5, 6, 3),), _transpose_conv, quant="int16x8", input_range=(-2, 2))


def test_16x8_transpose_conv_matches_tflm(build_cache) -> None:  # noqa: ANN001
    path = build(SPEC)
    graph = load_model(path)
    tconv = [op for op in graph.operators if op.op == "TRANSPOSE_CONV"]
    assert len(tconv) == 3
    assert {graph.tensors[op.inputs[2]].dtype.value for op in tconv} == {"int16"}
    assert any(op.inputs[3] >= 0 and graph.tensors[op.inputs[3]].dtype.value == "int64" for op in tconv)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(11)
    distinct = set()
    for k in range(12):
        bound = 32768 if k % 2 else 3000
        x = rng.integers(-bound, bound, size=graph.input_tensors[0].shape).astype(np.int16)
        for mine, theirs in zip(ours.predict([x]), ref.predict([x]), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
            distinct.update(mine.reshape(-1).tolist())
    assert len(distinct) > 500  # not all saturated


def test_registries_list_int16_transpose_conv() -> None:
    assert "int16x8" in kernels.load_lowerings()["TRANSPOSE_CONV"].dtypes


def test_transpose_conv_s16_scratch_equals_the_c_formula(tmp_path) -> None:  # noqa: ANN001
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    rt = resource_path("runtime")
    lib = tmp_path / "libtc16.so"
    subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-I", str(rt / "include"),
                    str(rt / "src" / "transpose_conv" / "cg_transpose_conv_s16.c"), "-o", str(lib)], check=True)

    class CgDims(ctypes.Structure):
        _fields_ = [("n", ctypes.c_int32), ("h", ctypes.c_int32), ("w", ctypes.c_int32), ("c", ctypes.c_int32)]

    fn = ctypes.CDLL(str(lib)).cg_transpose_conv_s16_get_scratch_size
    fn.restype = ctypes.c_int32
    for dims in [(1, 1, 1, 1), (1, 10, 12, 4), (2, 7, 3, 9)]:
        assert fn(ctypes.byref(CgDims(*dims))) == scratch_bytes(Dims(*dims), 8)
