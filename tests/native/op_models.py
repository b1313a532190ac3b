"""Single-op (and tiny multi-op) models built with TensorFlow for the native conformance tests.

Each spec is a small Keras model; the converted ``.tflite`` is cached under ``tests/.cache/native`` keyed by
the spec and the TensorFlow version, so only the first run pays for the conversions.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "native"


@dataclass(frozen=True)
class OpSpec:
    name: str
    shapes: tuple[tuple[int, ...], ...]  # input shapes without the batch dimension
    build: Callable  # (keras, list of inputs) -> output tensor
    quant: str = "int8"  # "int8", "int8_per_tensor", "int16x8", "int16x8_float_io" or "float32"
    input_range: tuple[float, float] = (-1.0, 1.0)
    key: str = ""  # extra cache key for specs whose lambdas differ only in constants
    dilation: int = 1  # patched into the converted (single) conv op: Keras would emit
    # SPACE_TO_BATCH_ND around a dilated convolution
    batch: int | None = None  # a fixed batch (Dense on a rank-3 input: one FULLY_CONNECTED with keep_num_dims)


def _conv(
    filters: int, k: int | tuple[int, int], s: int = 1, pad: str = "same", d: int = 1, act: str | None = None,
    bias: bool = True,
) -> Callable:
    return lambda K, x: K.layers.Conv2D(
        filters, k, strides=s, padding=pad, dilation_rate=d, activation=act, use_bias=bias
    )(x[0])


def _dw(k: int, s: int = 1, pad: str = "same", m: int = 1, d: int = 1, act: str | None = None) -> Callable:
    return lambda K, x: K.layers.DepthwiseConv2D(
        k, strides=s, padding=pad, depth_multiplier=m, dilation_rate=d, activation=act
    )(x[0])


def _hard_swish(K, x):  # noqa: ANN001, ANN202
    # the converter fuses x * relu6(x + 3) / 6 into one HARD_SWISH operator
    return x[0] * K.layers.ReLU(6.0)(x[0] + 3.0) * (1.0 / 6.0)


def _relu6_add(K, x):  # noqa: ANN001, ANN202
    return K.layers.ReLU(6.0)(K.layers.Add()(x))


SPECS: list[OpSpec] = [
    OpSpec("conv_k1_s1", ((6, 6, 5),), _conv(7, 1)),
    OpSpec("conv_k3_s1_same_relu", ((7, 9, 3),), _conv(8, 3, act="relu")),
    OpSpec("conv_k3_s2_valid", ((9, 9, 4),), _conv(5, 3, s=2, pad="valid")),
    OpSpec("conv_k5_s2_same_relu6", ((11, 10, 3),), _conv(6, 5, s=2, act="relu6")),
    OpSpec("conv_k3_dilation2", ((10, 10, 3),), _conv(4, 3, pad="valid"), dilation=2),
    OpSpec("conv_k3_dilation2_same", ((9, 8, 3),), _conv(4, 3), dilation=2),
    OpSpec("conv_k1_s2_nobias_odd", ((7, 7, 9),), _conv(3, 1, s=2, bias=False)),
    OpSpec("conv_k3_per_tensor", ((8, 8, 3),), _conv(8, 3, act="relu"), quant="int8_per_tensor"),
    OpSpec("conv_k3_s2_same_c10_relu6", ((9, 7, 6),), _conv(10, 3, s=2, act="relu6")),
    OpSpec("conv_k3_wide_range", ((6, 6, 3),), _conv(4, 3), input_range=(-200.0, 300.0)),
    OpSpec("conv_k3_tiny_range", ((6, 6, 3),), _conv(4, 3), input_range=(-0.001, 0.002)),
    # channel counts that are multiples of 4 (the DSP kernel's two-pixel im2col and its 1x1 path)
    OpSpec("conv_pw_c16_relu", ((5, 6, 16),), _conv(12, 1, act="relu")),
    OpSpec("conv_k1_s2_c8_odd", ((8, 7, 8),), _conv(5, 1, s=2, act="relu")),
    OpSpec("conv_k3_s2_c8_relu6_odd", ((9, 7, 8),), _conv(7, 3, s=2, act="relu6")),
    OpSpec("conv_k3_dilation2_c12", ((10, 9, 12),), _conv(6, 3, pad="valid"), dilation=2),
    OpSpec("conv_k3_c4_per_tensor", ((6, 5, 4),), _conv(9, 3, act="relu"), quant="int8_per_tensor"),
    # one or two input channels (first layers: cg_conv2d_dsp_c1_s8 where packing the taps saves steps)
    OpSpec("conv_c1_k5_valid_relu", ((12, 11, 1),), _conv(6, 5, pad="valid", act="relu")),
    OpSpec("conv_c1_k5_same_per_tensor", ((9, 10, 1),), _conv(7, 5), quant="int8_per_tensor"),
    OpSpec("conv_c1_k3_same_relu6", ((9, 8, 1),), _conv(5, 3, act="relu6")),
    OpSpec("conv_c1_k10x4_s2_same", ((13, 10, 1),), _conv(10, (10, 4), s=2, act="relu")),
    OpSpec("conv_c2_k5_s2_same_relu6", ((10, 9, 2),), _conv(5, 5, s=2, act="relu6")),
    OpSpec("dw_k3_s1_m1", ((8, 8, 6),), _dw(3)),
    OpSpec("dw_k3_s2_valid_relu", ((9, 9, 5),), _dw(3, s=2, pad="valid", act="relu")),
    OpSpec("dw_k5_m2_relu6", ((8, 7, 3),), _dw(5, m=2, act="relu6")),
    OpSpec("dw_k3_m3_dilation2", ((9, 9, 2),), _dw(3, m=3), dilation=2),
    OpSpec("dw_k3_per_tensor", ((8, 8, 4),), _dw(3), quant="int8_per_tensor"),
    OpSpec("dw_k3_s2_same_relu6_m1", ((7, 8, 9),), _dw(3, s=2, act="relu6")),
    OpSpec("dw_k3_dilation2_m1", ((9, 8, 5),), _dw(3), dilation=2),
    OpSpec("dw_k5_valid_m1", ((8, 9, 6),), _dw(5, pad="valid")),
    OpSpec("dw_k3_s1_c8", ((7, 6, 8),), _dw(3)),  # the DSP kernel's Thumb-2 3x3 row loop on the board
    OpSpec("dw_k3_s2_same_c11", ((10, 9, 11),), _dw(3, s=2)),  # stride 2 SAME: padding after only; 3 channels left
    OpSpec("fc_relu", ((20,),), lambda K, x: K.layers.Dense(7, activation="relu")(x[0])),
    OpSpec("fc_flatten", ((4, 3, 5),), lambda K, x: K.layers.Dense(9)(K.layers.Flatten()(x[0]))),
    # a Dense per time step: 3 rows of 22 (batch 1: FULLY_CONNECTED with keep_num_dims; the dynamic-batch form is in
    # test_dense_sequence.py)
    OpSpec("fc_rows3_relu", ((3, 22),), lambda K, x: K.layers.Dense(8, activation="relu")(x[0]), batch=1),
    OpSpec("fc_19_units_odd_depth", ((21,),), lambda K, x: K.layers.Dense(19, activation="relu")(x[0])),
    # depth 601 (three accumulation chunks of the DSP kernel and a tail of 1), 6 units (a partial group of 8)
    OpSpec("fc_deep_relu6", ((601,),), lambda K, x: K.layers.Dense(6, activation="relu6")(x[0])),
    # 31 blocks of 4 (1 + 2 + 4 + 3 x 8 in the DSP kernel), per tensor, no clamp: two groups of 8 units with the
    # output stage in registers and a partial group
    OpSpec("fc_wide", ((124,),), lambda K, x: K.layers.Dense(20)(x[0]), quant="int8_per_tensor"),
    OpSpec("avgpool_2x2", ((8, 8, 3),), lambda K, x: K.layers.AveragePooling2D(2)(x[0])),
    OpSpec(
        "avgpool_3x3_s2_same",
        ((9, 7, 4),),
        lambda K, x: K.layers.AveragePooling2D(3, strides=2, padding="same")(x[0]),
    ),
    OpSpec("maxpool_2x2", ((8, 8, 3),), lambda K, x: K.layers.MaxPooling2D(2)(x[0])),
    OpSpec(
        "maxpool_3x3_s2_same",
        ((9, 7, 4),),
        lambda K, x: K.layers.MaxPooling2D(3, strides=2, padding="same")(x[0]),
    ),
    # channel counts with and without a multiple of 4 for the DSP pools (four channels per word, bytewise rest)
    OpSpec("maxpool_2x2_c14", ((8, 9, 14),), lambda K, x: K.layers.MaxPooling2D(2)(x[0])),
    OpSpec(
        "maxpool_3x3_s2_same_c6",
        ((9, 9, 6),),
        lambda K, x: K.layers.MaxPooling2D(3, strides=2, padding="same")(x[0]),
    ),
    OpSpec(
        "avgpool_3x3_s2_same_c7",
        ((9, 9, 7),),
        lambda K, x: K.layers.AveragePooling2D(3, strides=2, padding="same")(x[0]),
    ),
    # 400 values per window: the DSP kernel's 16-bit sums are moved out every 255 values
    OpSpec("avgpool_20x20_c8", ((20, 20, 8),), lambda K, x: K.layers.AveragePooling2D(20)(x[0])),
    OpSpec("mean_hw", ((5, 6, 7),), lambda K, x: K.layers.GlobalAveragePooling2D()(x[0])),
    # a sequence averaged over its steps (GlobalAveragePooling1D: MEAN over axis 1 of a rank-3 tensor; int16 in
    # test_dense_sequence.py)
    OpSpec("mean_steps", ((13, 7),), lambda K, x: K.layers.GlobalAveragePooling1D()(x[0]), batch=1),
    OpSpec("mean_steps_keepdims", ((49, 5),), lambda K, x: K.layers.GlobalAveragePooling1D(keepdims=True)(x[0]),
           batch=1, input_range=(-3.0, 1.0)),
    OpSpec("add_same_shape", ((5, 5, 4), (5, 5, 4)), lambda K, x: K.layers.Add()(x)),
    OpSpec("add_relu6", ((4, 4, 3), (4, 4, 3)), _relu6_add),
    # 105 elements (not a multiple of 4: the DSP kernel's remainder loop), ReLU6 clamp
    OpSpec("add_relu6_odd", ((7, 5, 3), (7, 5, 3)), _relu6_add),
    OpSpec("add_broadcast", ((4, 5, 3), (1, 1, 3)), lambda K, x: x[0] + x[1]),
    OpSpec("add_constant", ((4, 5, 3),), lambda K, x: x[0] + np.linspace(-1, 1, 3, dtype=np.float32)),
    OpSpec("add_broadcast_tabulated", ((8, 16, 8), (1, 16, 8)), lambda K, x: x[0] + x[1]),
    OpSpec("add_same_shape_tabulated", ((16, 16, 4), (16, 16, 4)), lambda K, x: K.layers.Add()(x)),
    OpSpec("sub_same_shape", ((5, 5, 4), (5, 5, 4)), lambda K, x: K.layers.Subtract()(x)),
    OpSpec("sub_broadcast", ((4, 5, 3), (1, 1, 3)), lambda K, x: x[0] - x[1]),
    OpSpec("sub_broadcast_tabulated", ((8, 16, 8), (8, 1, 8)), lambda K, x: x[0] - x[1]),
    OpSpec("mul_same_shape", ((5, 5, 4), (5, 5, 4)), lambda K, x: K.layers.Multiply()(x)),
    OpSpec("mul_broadcast", ((4, 5, 3), (4, 1, 3)), lambda K, x: x[0] * x[1]),
    # 105 elements, ReLU6 clamp (the DSP kernel's clamp path)
    OpSpec("mul_relu6_odd", ((7, 5, 3), (7, 5, 3)), lambda K, x: K.layers.ReLU(6.0)(K.layers.Multiply()(x))),
    OpSpec("concat_channels", ((4, 4, 3), (4, 4, 5)), lambda K, x: K.layers.Concatenate()(x)),
    OpSpec("pad_hw", ((5, 5, 3),), lambda K, x: K.layers.ZeroPadding2D(((1, 2), (2, 0)))(x[0])),
    OpSpec("softmax", ((10,),), lambda K, x: K.layers.Softmax()(x[0]), input_range=(-8.0, 8.0)),
    OpSpec(
        "logistic", ((24,),), lambda K, x: K.layers.Activation("sigmoid")(x[0]), input_range=(-10.0, 10.0)
    ),
    OpSpec("tanh", ((40,),), lambda K, x: K.layers.Activation("tanh")(x[0]), input_range=(-5.0, 5.0)),
    OpSpec("tanh_narrow", ((40,),), lambda K, x: K.layers.Activation("tanh")(x[0]), input_range=(-0.5, 0.7)),
    OpSpec("hard_swish", ((6, 6, 4),), _hard_swish, input_range=(-5.0, 5.0)),
    OpSpec("hard_swish_wide", ((50,),), _hard_swish, input_range=(-40.0, 90.0)),
    OpSpec("hard_swish_narrow", ((50,),), _hard_swish, input_range=(-0.2, 0.3)),
    OpSpec("relu", ((4, 4, 3),), lambda K, x: K.layers.ReLU()(x[0]), input_range=(-3.0, 5.0)),
    OpSpec("leaky_relu", ((30,),), lambda K, x: K.layers.LeakyReLU(0.3)(x[0]), input_range=(-3.0, 5.0)),
    OpSpec(
        "float_conv_dw_pool",
        ((9, 9, 3),),
        lambda K, x: K.layers.MaxPooling2D(2)(_dw(3, act="relu")(K, [_conv(6, 3, s=2, act="relu6")(K, x)])),
        quant="float32",
    ),
    OpSpec(
        "float_fc_softmax",
        ((12,),),
        lambda K, x: K.layers.Softmax()(K.layers.Dense(5)(x[0])),
        quant="float32",
    ),
    OpSpec(
        "float_add_mul_concat",
        ((4, 4, 3), (4, 4, 3)),
        lambda K, x: K.layers.Concatenate()([x[0] + x[1], x[0] * x[1]]),
        quant="float32",
    ),
    OpSpec(
        "float_tanh", ((30,),), lambda K, x: K.layers.Activation("tanh")(x[0]), quant="float32", input_range=(-6, 6)
    ),
    OpSpec(
        "float_sub_broadcast",
        ((4, 4, 3), (1, 4, 3)),
        lambda K, x: x[0] - x[1],
        quant="float32",
    ),
    OpSpec("float_mean_steps", ((9, 6),), lambda K, x: K.layers.GlobalAveragePooling1D()(x[0]), quant="float32",
           batch=1),
    OpSpec(
        "float_mean_pad_leaky_logistic",
        ((6, 6, 3),),
        lambda K, x: K.layers.Activation("sigmoid")(
            K.layers.LeakyReLU(0.2)(K.layers.GlobalAveragePooling2D()(K.layers.ZeroPadding2D(1)(x[0])))
        ),
        quant="float32",
    ),
]


def _cache_key(spec: OpSpec, tf_version: str) -> str:
    import inspect

    try:
        src = inspect.getsource(spec.build)
    except (OSError, TypeError):
        src = spec.name
    text = repr(
        (spec.name, spec.shapes, spec.quant, spec.input_range, spec.key, spec.dilation, src, tf_version)
        + ((spec.batch,) if spec.batch is not None else ())
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build(spec: OpSpec, cache: Path = CACHE) -> Path:
    """Build (or reuse the cached) .tflite for ``spec``."""
    import tensorflow as tf
    import tf_keras as keras

    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{spec.name}-{_cache_key(spec, tf.__version__)}.tflite"
    if path.exists():
        return path
    keras.utils.set_random_seed(_seed(spec.name))
    inputs = [keras.Input(s, name=f"in{i}", batch_size=spec.batch) for i, s in enumerate(spec.shapes)]
    model = keras.Model(inputs, spec.build(keras, inputs))
    lo, hi = spec.input_range

    def rep():  # noqa: ANN202
        rng = np.random.default_rng(1)
        for _ in range(16):
            yield [rng.uniform(lo, hi, (1, *s)).astype(np.float32) for s in spec.shapes]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if spec.quant != "float32":
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        if spec.quant.startswith("int16x8"):  # TensorFlow's 16x8 mode: int16 activations, int8 weights, int64 bias
            ops16 = tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
            conv.target_spec.supported_ops = [ops16]
            io = tf.float32 if spec.quant == "int16x8_float_io" else tf.int16
            conv.inference_input_type = conv.inference_output_type = io
        if spec.quant == "int8_per_tensor":
            conv._experimental_disable_per_channel = True
    data = conv.convert()
    if spec.dilation != 1:
        data = _dilate(data, spec.dilation)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path


def _seed(name: str) -> int:
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def _dilate(data: bytes, d: int) -> bytes:
    """Set dilation ``d`` on the model's single conv op and fix its output shape (VALID or SAME padding)."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    (op,) = sg.operators
    opts = op.builtinOptions
    opts.dilationHFactor = opts.dilationWFactor = d
    inp, filt, out = (sg.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    out.shape = [int(v) for v in out.shape]
    for axis, stride in ((1, opts.strideH), (2, opts.strideW)):
        size, k = int(inp.shape[axis]), int(filt.shape[axis])
        eff = (k - 1) * d + 1
        out.shape[axis] = (
            (size + stride - 1) // stride if opts.padding == 0 else (size - eff + stride) // stride
        )
    for t in (out,):
        if t.shapeSignature is not None:
            t.shapeSignature = list(t.shape)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
