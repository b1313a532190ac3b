"""Layout and math operators (TRANSPOSE, STRIDED_SLICE, SLICE, SPLIT, SPLIT_V, PACK, UNPACK, DEPTH_TO_SPACE,
SPACE_TO_DEPTH, RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR, GATHER, EXPAND_DIMS, MAXIMUM, MINIMUM, PRELU,
SQUARED_DIFFERENCE, TRANSPOSE_CONV, BATCH_MATMUL, RSQRT; EXP in float32)
against TFLM: int8 bit-exact; float32 exact where values are only moved or picked, else within verify's tolerance.

Models are built with TensorFlow; several operators share one model (one output each) so that each dtype costs
a few conversions and compilations, not one per operator.
"""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from codegen.verify import FLOAT_ATOL, FLOAT_RTOL
from tests.native.op_models import OpSpec, build
from tests.native.test_op_conformance import _inputs


def _tf():  # noqa: ANN202
    import tensorflow as tf

    return tf


def _layout(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    t = x[0]
    return [
        tf.transpose(t, [0, 3, 1, 2]),
        t[:, 5:0:-2, 1:7:3, ::2],
        tf.slice(t, [0, 1, 2, 3], [-1, 3, 4, 2]),
        t[:, -1, :, 2:5],
    ]


def _split(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [*tf.split(x[0], 2, axis=3), *tf.split(x[0], [3, -1, 2], axis=1)]


def _depth_space(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.nn.depth_to_space(x[0], 2), tf.nn.space_to_depth(x[0], 2)]


def _pack(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.stack([x[0], x[1]], axis=2), tf.unstack(x[0], axis=1)[3] + tf.unstack(x[1], axis=1)[0]]


def _resize(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [
        tf.image.resize(x[0], (9, 11), method="nearest"),
        tf.compat.v1.image.resize_nearest_neighbor(x[0], (3, 4), align_corners=True),
        K.layers.UpSampling2D(2)(x[0]),
        tf.image.resize(x[0], (9, 11), method="bilinear"),
        tf.compat.v1.image.resize_bilinear(x[0], (4, 6), align_corners=True),
        tf.compat.v1.image.resize_bilinear(x[0], (12, 5)),
    ]


def _minmax(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.maximum(x[0], x[1]), tf.minimum(x[0], x[1]), tf.maximum(x[0], np.float32(0.25))]


def _prelu_sqdiff(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [K.layers.PReLU(alpha_initializer=K.initializers.RandomUniform(-0.5, 1.5), shared_axes=[1, 2])(x[0]),
            tf.math.squared_difference(x[0], x[1]), tf.math.squared_difference(x[0], x[0][:, :1, :, :])]


def _exp_rsqrt(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.exp(x[0]), tf.math.rsqrt(x[0] + 1.5)]


def _gather(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.gather(x[0], [3, 0, 0, 2], axis=2), tf.expand_dims(tf.gather(x[0], [1], axis=1), 2)]


def _transpose_conv(K, x):  # noqa: ANN001, ANN202
    return [K.layers.Conv2DTranspose(4, 3, strides=2, padding="same")(x[0]),
            K.layers.Conv2DTranspose(3, (2, 3), strides=(1, 2), padding="valid", activation="relu")(x[0])]


def _batch_matmul(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.matmul(x[0], x[1]), tf.matmul(x[0], x[0], transpose_b=True),
            tf.matmul(x[1], x[1], transpose_a=True)]


def _nchw(K, x):  # noqa: ANN001, ANN202
    # a PyTorch-style NCHW input: TRANSPOSE to NHWC, convolution, TRANSPOSE back
    y = K.layers.Conv2D(5, 3, padding="same", activation="relu")(K.layers.Permute((2, 3, 1))(x[0]))
    return [K.layers.Permute((3, 1, 2))(y)]


def _rsqrt(K, x):  # noqa: ANN001, ANN202
    tf = _tf()
    return [tf.math.rsqrt(x[0] + 1.5)]


def _nchw_flatten_dense(K, x):  # noqa: ANN001, ANN202
    # PyTorch's flatten of an NCHW tensor before a linear layer: TRANSPOSE -> RESHAPE -> FULLY_CONNECTED
    return [K.layers.Dense(6)(K.layers.Flatten()(K.layers.Permute((3, 1, 2))(x[0])))]


BUILDERS = {
    "layout": (((6, 8, 8),), _layout, {"TRANSPOSE", "STRIDED_SLICE", "SLICE"}),
    "split": (((6, 8, 8),), _split, {"SPLIT", "SPLIT_V"}),
    "depth_space": (((4, 6, 8),), _depth_space, {"DEPTH_TO_SPACE", "SPACE_TO_DEPTH"}),
    "pack": (((5, 4, 3), (5, 4, 3)), _pack, {"PACK", "UNPACK"}),
    "resize": (((5, 7, 3),), _resize, {"RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR"}),
    "minmax": (((4, 5, 3), (1, 5, 3)), _minmax, {"MAXIMUM", "MINIMUM"}),
    "prelu_sqdiff": (((4, 5, 3), (4, 5, 3)), _prelu_sqdiff, {"PRELU", "SQUARED_DIFFERENCE"}),
    "gather": (((3, 5, 4),), _gather, {"GATHER"}),
    "transpose_conv": (((5, 6, 3),), _transpose_conv, {"TRANSPOSE_CONV"}),
    "batch_matmul": (((2, 4, 6), (2, 6, 3)), _batch_matmul, {"BATCH_MATMUL"}),
    "nchw": (((3, 8, 7),), _nchw, {"TRANSPOSE", "CONV_2D"}),
}
FLOAT_ONLY = {"exp_rsqrt": (((20,),), _exp_rsqrt, {"EXP", "RSQRT"})}
SPECS = [OpSpec("new_rsqrt_int8", ((64,),), _rsqrt, key="new_ops_2")] + [
    OpSpec(f"new_{name}_{quant}", shapes, fn, quant=quant, key="new_ops_2")
    for name, (shapes, fn, _) in BUILDERS.items()
    for quant in ("int8", "float32")
] + [OpSpec(f"new_{name}_float32", shapes, fn, quant="float32", key="new_ops_2")
     for name, (shapes, fn, _) in FLOAT_ONLY.items()]
#: float32 outputs that go through libm (expf, sqrtf) or float arithmetic: compared within verify's tolerance
LIBM = {"new_exp_rsqrt_float32", "new_prelu_sqdiff_float32", "new_resize_float32", "new_transpose_conv_float32",
        "new_batch_matmul_float32", "new_nchw_float32"}


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_new_op_model_matches_tflm(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    path = build(spec)
    graph = load_model(path)
    needs = {**BUILDERS, **FLOAT_ONLY, "rsqrt": (0, 0, {"RSQRT"})}[spec.name.split("_", 1)[1].rsplit("_", 1)[0]][2]
    assert needs <= set(graph.op_set), f"the converter did not emit {needs - set(graph.op_set)}: {graph.op_set}"
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(7)
    for _ in range(10):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            theirs = np.asarray(theirs).reshape(mine.shape)
            if spec.name in LIBM:
                np.testing.assert_allclose(mine, theirs, rtol=FLOAT_RTOL, atol=FLOAT_ATOL)
            else:  # int8, and float32 layout ops and MAXIMUM/MINIMUM, which move or pick values: exact
                np.testing.assert_array_equal(mine, theirs)


def test_transpose_before_fully_connected_is_folded_into_the_weights_and_stays_bit_exact(build_cache) -> None:  # noqa: ANN001
    from codegen.backend.native.program import native_graph

    spec = OpSpec("new_nchw_flatten_dense_int8", ((4, 3, 5),), _nchw_flatten_dense, key="new_ops_2")
    path = build(spec)
    graph = load_model(path)
    assert "TRANSPOSE" in graph.op_set
    assert "TRANSPOSE" not in native_graph(graph).op_set
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(9)
    for _ in range(20):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


@pytest.mark.parametrize("name", ["new_layout_int8", "new_resize_float32"])
def test_layout_kernels_are_clean_under_sanitizers(name: str, build_cache) -> None:  # noqa: ANN001
    spec = next(s for s in SPECS if s.name == name)
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, sanitize=True, opt="-O1")
    ref = ReferenceModel(path)
    xs = _inputs(graph, spec, np.random.default_rng(3))
    for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
        np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def test_codegen_ops_shows_the_dtypes_of_each_backend_from_the_registries(capsys) -> None:  # noqa: ANN001
    import argparse
    import json

    from codegen.backend.native.kernels import load_lowerings
    from codegen.inspect_cli import run_ops

    assert run_ops(argparse.Namespace(json=True)) == 0
    rows = {r["op"]: r for r in json.loads(capsys.readouterr().out)}
    for name, support in load_lowerings().items():
        assert rows[name]["dtypes"]["native"] == list(support.dtypes)
    assert rows["TRANSPOSE"]["dtypes"]["native"] == ["int8", "float32", "int16x8"]
    assert rows["SHAPE"]["dtypes"] == {} and rows["SHAPE"]["folded_when_constant"]
    assert run_ops(argparse.Namespace(json=False)) == 0
    table = capsys.readouterr().out
    assert "QUANTIZE" in table and "float32->int8" in table


def test_transpose_conv_scratch_equals_the_c_formula(tmp_path) -> None:  # noqa: ANN001
    import ctypes
    import shutil
    import subprocess

    from codegen.backend.native.layers import Dims
    from codegen.backend.native.lower.transpose_conv import scratch_bytes
    from codegen.resources import resource_path

    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    rt = resource_path("runtime")
    lib = tmp_path / "libtc.so"
    subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared", "-I", str(rt / "include"),
                    str(rt / "src" / "transpose_conv" / "cg_transpose_conv_s8.c"), "-o", str(lib)], check=True)

    class CgDims(ctypes.Structure):
        _fields_ = [("n", ctypes.c_int32), ("h", ctypes.c_int32), ("w", ctypes.c_int32), ("c", ctypes.c_int32)]

    fn = ctypes.CDLL(str(lib)).cg_transpose_conv_s8_get_scratch_size
    fn.restype = ctypes.c_int32
    for dims in [(1, 1, 1, 1), (1, 10, 12, 4), (2, 7, 3, 9)]:
        assert fn(ctypes.byref(CgDims(*dims))) == scratch_bytes(Dims(*dims))
