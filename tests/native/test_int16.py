"""16x8 models (TensorFlow's int16-activation, int8-weight mode) run bit-exact against TFLM.

Several ops share one model to keep the conversions few; the inputs cover the full int16 range and a
narrow band (so that both saturated and unsaturated outputs are compared)."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import kernels
from codegen.errors import UnsupportedModelError
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build


def _conv_dw_add_sub_fc(K, x):  # noqa: ANN001, ANN202
    def init(seed: int):  # noqa: ANN202
        return K.initializers.RandomNormal(stddev=0.3, seed=seed)

    c1 = K.layers.Conv2D(8, 3, padding="same", activation="relu", bias_initializer=init(1))(x[0])
    c2 = K.layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, bias_initializer=init(2))(x[0])
    a = K.layers.Add()([c1, c2])
    s = K.layers.Subtract()([K.layers.Multiply()([c2, c1]), a])
    c3 = K.layers.Conv2D(6, 3, strides=2, padding="valid", activation="relu6", bias_initializer=init(3))(s)
    d = K.layers.DepthwiseConv2D(2, strides=2, padding="same", use_bias=False)(c3)
    d = K.layers.Permute((2, 1, 3))(d[:, :, 1:, :])  # STRIDED_SLICE, TRANSPOSE
    return K.layers.Dense(5, bias_initializer=init(4))(K.layers.Flatten()(d))


def _quantize_concat(K, x):  # noqa: ANN001, ANN202
    a = K.layers.Conv2D(3, 1, activation="relu")(x[0])
    b = K.layers.Conv2D(5, 3, padding="same")(x[0])
    c = K.layers.Concatenate()([a, b, x[0]])
    c = K.layers.ZeroPadding2D(((1, 0), (2, 1)))(K.layers.LeakyReLU(0.2)(c))
    c = K.layers.Concatenate()([K.layers.Flatten()(c), K.layers.GlobalAveragePooling2D()(c)])
    return K.layers.Softmax()(K.layers.Dense(4)(c))


SPECS16 = [
    OpSpec("s16_conv_dw_add_sub_fc", ((9, 9, 4),), _conv_dw_add_sub_fc, quant="int16x8"),
    # float input and output: QUANTIZE float32 -> int16 and DEQUANTIZE int16 -> float32 around the graph
    OpSpec("s16_quantize_concat", ((5, 6, 2),), _quantize_concat, quant="int16x8_float_io", input_range=(-3, 3)),
]
OPS = {
    "s16_conv_dw_add_sub_fc": {
        "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "SUB", "MUL", "FULLY_CONNECTED", "STRIDED_SLICE", "TRANSPOSE"
    },
    "s16_quantize_concat": {"QUANTIZE", "CONCATENATION", "LEAKY_RELU", "PAD", "MEAN", "SOFTMAX", "DEQUANTIZE"},
}


def _inputs(graph, rng: np.random.Generator, k: int) -> list[np.ndarray]:  # noqa: ANN001
    if graph.input_tensors[0].dtype.value == "float32":  # past the representative range on odd samples
        return [rng.uniform(-6, 6, size=t.shape).astype(np.float32) * (1 + k % 2) for t in graph.input_tensors]
    bound = 32768 if k % 2 else 2000
    return [rng.integers(-bound, bound, size=t.shape).astype(np.int16) for t in graph.input_tensors]


@pytest.mark.parametrize("spec", SPECS16, ids=[s.name for s in SPECS16])
def test_16x8_model_matches_tflm(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    path = build(spec)
    graph = load_model(path)
    ops = {op.op for op in graph.operators}
    assert OPS[spec.name] <= ops, ops
    assert all("int16" in (graph.tensors[op.inputs[0]].dtype.value, graph.tensors[op.outputs[0]].dtype.value)
               for op in graph.operators)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(5)
    distinct = set()
    for k in range(20):
        xs = _inputs(graph, rng, k)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            theirs = np.asarray(theirs).reshape(mine.shape)
            assert mine.dtype == theirs.dtype
            np.testing.assert_array_equal(mine, theirs)
            distinct.update(mine.reshape(-1).tolist())
    assert len(distinct) > 50  # the outputs are not all saturated


def test_registries_list_int16x8() -> None:
    lowerings = kernels.load_lowerings()
    ops = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "ADD", "SUB", "CONCATENATION", "PAD", "LEAKY_RELU")
    for op in (*ops, "SOFTMAX", "MUL", "MEAN", "STRIDED_SLICE", "TRANSPOSE"):
        assert "int16x8" in lowerings[op].dtypes
    assert "float32->int16" in lowerings["QUANTIZE"].dtypes


def _max_pool(K, x):  # noqa: ANN001, ANN202
    return K.layers.MaxPooling2D(2)(x[0])


def test_16x8_op_without_int16_kernel_is_refused_by_name(build_cache) -> None:  # noqa: ANN001
    """No silent wrong results: an int16 operator the backend has no kernel for is refused, naming it."""
    path = build(OpSpec("s16_max_pool", ((4, 4, 2),), _max_pool, quant="int16x8"))
    refusal = r"MAX_POOL_2D \(int16\): MAX_POOL_2D on int16 tensors is not implemented"
    with pytest.raises(UnsupportedModelError, match=refusal):
        host.compile(load_model(path), cache_dir=build_cache)
