"""Valid single-op models per supported operator, and models whose shapes or indices do not agree.

``VALID`` builds one small consistent model per operator the native backend generates (bytes, no TensorFlow).
``BROKEN`` holds the inconsistent models of issue #11 (and one per operator): each entry is (bytes, words the
one-line error must contain).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tests.safety.builder import OpSpec, TensorSpec, build, model_tree, pack, q8, single_op

I32 = "int32"


def _w(shape: tuple[int, ...], seed: int = 0) -> TensorSpec:
    rng = np.random.default_rng(seed)
    return TensorSpec(shape, "int8", [0.02] * shape[0] if len(shape) == 4 and shape[0] > 1 else 0.02, 0,
                      rng.integers(-127, 128, shape), axis=0)


def _b(n: int) -> TensorSpec:
    return TensorSpec((n,), I32, 0.001, 0, np.arange(n) * 7 - 10)


def conv(inp=(1, 6, 6, 3), filt=(4, 3, 3, 3), out=(1, 6, 6, 4), **opts) -> bytes:  # noqa: ANN001
    o = {"padding": 0, "strideH": 1, "strideW": 1, "dilationHFactor": 1, "dilationWFactor": 1, **opts}
    return single_op("CONV_2D", [q8(inp, 0.05, -3), _w(filt), _b(filt[0])], q8(out, 0.1, 2), **o)


def depthwise(inp=(1, 7, 7, 4), filt=(1, 3, 3, 8), out=(1, 3, 3, 8), **opts) -> bytes:  # noqa: ANN001
    o = {"padding": 1, "strideH": 2, "strideW": 2, "depthMultiplier": 2, "dilationHFactor": 1,
         "dilationWFactor": 1, **opts}
    w = TensorSpec(filt, "int8", [0.02] * filt[3], 0, np.random.default_rng(1).integers(-127, 128, filt), axis=3)
    return single_op("DEPTHWISE_CONV_2D", [q8(inp, 0.05, 1), w, _b(filt[3])], q8(out, 0.1, -1), **o)


def fc(inp=(1, 12), w=(5, 12), out=(1, 5), bias: bool = True) -> bytes:  # noqa: ANN001
    ins = [q8(inp, 0.05, 4), _w(w, 2)] + ([_b(w[0])] if bias else [])
    return single_op("FULLY_CONNECTED", ins, q8(out, 0.2, 0))


def pool(op: str = "AVERAGE_POOL_2D", inp=(1, 8, 8, 3), out=(1, 4, 4, 3), **opts) -> bytes:  # noqa: ANN001
    o = {"padding": 1, "strideH": 2, "strideW": 2, "filterHeight": 2, "filterWidth": 2, **opts}
    return single_op(op, [q8(inp, 0.05, 1)], q8(out, 0.05, 1), **o)


def mean(inp=(1, 4, 4, 6), out=(1, 6), axes=(1, 2), keep: bool = False, in_q=(0.1, 0), out_q=(0.1, 0),
         ) -> bytes:  # noqa: ANN001
    return single_op("MEAN", [q8(inp, *in_q), TensorSpec((len(axes),), I32, data=list(axes))], q8(out, *out_q),
                     keepDims=keep)


def binary(op: str = "ADD", a=(1, 4, 4, 3), b=(1, 1, 1, 3), out=(1, 4, 4, 3)) -> bytes:  # noqa: ANN001
    return single_op(op, [q8(a, 0.05, 1), q8(b, 0.04, -2)], q8(out, 0.1, 0))


def concat(shapes=((1, 3, 3, 2), (1, 3, 3, 5)), out=(1, 3, 3, 7), axis: int = 3) -> bytes:  # noqa: ANN001
    return single_op("CONCATENATION", [q8(s, 0.05, 0) for s in shapes], q8(out, 0.05, 0), axis=axis)


def pad(inp=(1, 4, 4, 2), pads=((0, 0), (1, 2), (2, 0), (0, 0)), out=(1, 7, 6, 2)) -> bytes:  # noqa: ANN001
    return single_op("PAD", [q8(inp, 0.05, 3), TensorSpec((len(pads), 2), I32, data=np.array(pads))],
                     q8(out, 0.05, 3))


def unary(op: str, inp=(1, 20), out=(1, 20)) -> bytes:  # noqa: ANN001
    out_q = {"SOFTMAX": (1 / 256, -128), "LOGISTIC": (1 / 256, -128), "TANH": (1 / 128, 0)}.get(op, (0.05, 1))
    opts = {"SOFTMAX": {"beta": 1.0}, "LEAKY_RELU": {"alpha": 0.2}}.get(op, {})
    return single_op(op, [q8(inp, 0.05, 1)], q8(out, *out_q), **opts)


def reshape(inp=(1, 2, 3, 4), out=(1, 24), shape=(1, -1)) -> bytes:  # noqa: ANN001
    return single_op("RESHAPE", [q8(inp, 0.05, 0), TensorSpec((len(shape),), I32, data=list(shape))],
                     q8(out, 0.05, 0))


def squeeze(inp=(1, 1, 1, 6), out=(1, 6), dims=(1, 2)) -> bytes:  # noqa: ANN001
    return single_op("SQUEEZE", [q8(inp, 0.05, 0)], q8(out, 0.05, 0), squeezeDims=list(dims))


def quantize(inp=(1, 10), out=(1, 10)) -> bytes:  # noqa: ANN001
    return single_op("QUANTIZE", [TensorSpec(inp, "float32")], q8(out, 0.05, 0))


def dequantize(inp=(1, 10), out=(1, 10)) -> bytes:  # noqa: ANN001
    return single_op("DEQUANTIZE", [q8(inp, 0.05, 0)], TensorSpec(out, "float32"))


def _f32(shape: tuple[int, ...]) -> TensorSpec:
    return TensorSpec(shape, "float32")


def _i32(values: Any) -> TensorSpec:
    arr = np.asarray(values, dtype=np.int32)
    return TensorSpec(arr.shape, I32, data=arr)


def layout_op(op: str) -> bytes:
    """Valid models of the layout and element-wise operators added for issue #14 (int8 unless float only)."""
    x = q8((1, 4, 6, 4), 0.05, 2)
    same = q8((1, 4, 6, 4), 0.05, 2)
    if op == "TRANSPOSE":
        return single_op(op, [x, _i32([0, 2, 1, 3])], q8((1, 6, 4, 4), 0.05, 2))
    if op == "SLICE":
        return single_op(op, [x, _i32([0, 1, 2, 0]), _i32([1, 2, 3, 4])], q8((1, 2, 3, 4), 0.05, 2))
    if op == "STRIDED_SLICE":
        return single_op(op, [x, _i32([0, 0, 1, 0]), _i32([1, 4, 6, 4]), _i32([1, 2, 2, 1])],
                         q8((1, 2, 3, 4), 0.05, 2), beginMask=0, endMask=0)
    if op == "SPLIT":
        return single_op(op, [_i32(3), x], [q8((1, 4, 6, 2), 0.05, 2), q8((1, 4, 6, 2), 0.05, 2)], numSplits=2)
    if op == "SPLIT_V":
        return single_op(op, [x, _i32([1, 3]), _i32(3)], [q8((1, 4, 6, 1), 0.05, 2), q8((1, 4, 6, 3), 0.05, 2)],
                         numSplits=2)
    if op == "PACK":
        return single_op(op, [q8((4, 6), 0.05, 2), q8((4, 6), 0.05, 2)], q8((2, 4, 6), 0.05, 2), axis=0,
                         valuesCount=2)
    if op == "UNPACK":
        return single_op(op, [q8((2, 4, 6), 0.05, 2)], [q8((4, 6), 0.05, 2), q8((4, 6), 0.05, 2)], axis=0, num=2)
    if op == "DEPTH_TO_SPACE":
        return single_op(op, [x], q8((1, 8, 12, 1), 0.05, 2), blockSize=2)
    if op == "SPACE_TO_DEPTH":
        return single_op(op, [x], q8((1, 2, 3, 16), 0.05, 2), blockSize=2)
    if op == "RESIZE_NEAREST_NEIGHBOR":
        return single_op(op, [x, _i32([8, 12])], q8((1, 8, 12, 4), 0.05, 2))
    if op in ("MAXIMUM", "MINIMUM"):
        return single_op(op, [x, same], q8((1, 4, 6, 4), 0.05, 2))
    if op == "PRELU":
        alpha = TensorSpec((1, 1, 4), "int8", 0.01, 0, [10, -20, 30, 50])
        return single_op(op, [x, alpha], q8((1, 4, 6, 4), 0.06, -1))
    if op == "SQUARED_DIFFERENCE":
        return single_op(op, [x, q8((1, 1, 1, 4), 0.04, -1)], q8((1, 4, 6, 4), 0.1, -128))
    if op in ("EXP", "RSQRT"):
        return single_op(op, [_f32((1, 10))], _f32((1, 10)))
    raise KeyError(op)


LAYOUT_OPS = ("TRANSPOSE", "SLICE", "STRIDED_SLICE", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "DEPTH_TO_SPACE",
              "SPACE_TO_DEPTH", "RESIZE_NEAREST_NEIGHBOR", "MAXIMUM", "MINIMUM", "PRELU", "SQUARED_DIFFERENCE",
              "EXP", "RSQRT")


VALID: dict[str, Callable[[], bytes]] = {
    "CONV_2D": conv,
    "DEPTHWISE_CONV_2D": depthwise,
    "FULLY_CONNECTED": fc,
    "AVERAGE_POOL_2D": pool,
    "MAX_POOL_2D": lambda: pool("MAX_POOL_2D"),
    "MEAN": mean,
    "ADD": binary,
    "SUB": lambda: binary("SUB"),
    "MUL": lambda: binary("MUL", b=(1, 4, 1, 3)),
    "CONCATENATION": concat,
    "PAD": pad,
    "SOFTMAX": lambda: unary("SOFTMAX"),
    "LOGISTIC": lambda: unary("LOGISTIC"),
    "TANH": lambda: unary("TANH"),
    "RELU": lambda: unary("RELU"),
    "RELU6": lambda: unary("RELU6"),
    "LEAKY_RELU": lambda: unary("LEAKY_RELU"),
    "HARD_SWISH": lambda: unary("HARD_SWISH"),
    "RESHAPE": reshape,
    "SQUEEZE": squeeze,
    "QUANTIZE": quantize,
    "DEQUANTIZE": dequantize,
    **{op: (lambda op=op: layout_op(op)) for op in LAYOUT_OPS},
}


def _edit(data: bytes, fn: Callable) -> bytes:  # noqa: ANN001
    from tests.safety.builder import unpack

    m = unpack(data)
    fn(m, m.subgraphs[0])
    return pack(m)


def _const_input(m, sg) -> None:  # noqa: ANN001
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    b = s.BufferT()
    b.data = list(bytes(6 * 6 * 3))
    m.buffers.append(b)
    sg.tensors[sg.inputs[0]].buffer = len(m.buffers) - 1


def _no_outputs(m, sg) -> None:  # noqa: ANN001
    sg.operators[0].outputs = []


def _negative_output(m, sg) -> None:  # noqa: ANN001
    sg.outputs = [-3]


def _fc_missing_input(m, sg) -> None:  # noqa: ANN001
    sg.operators[0].inputs = [-1, 1, 2]


def _unpack_num3(m, sg) -> None:  # noqa: ANN001
    sg.operators[0].builtinOptions.num = 3


def _split_num3(m, sg) -> None:  # noqa: ANN001
    sg.operators[0].builtinOptions.numSplits = 3


#: name -> (model bytes factory, words that the one-line error must contain)
BROKEN: dict[str, tuple[Callable[[], bytes], tuple[str, ...]]] = {
    "mean_output_larger": (lambda: mean(out=(1, 4, 4, 6)), ("operator 0 (MEAN)", "[1, 4, 4, 6]", "[1, 6]")),
    "mean_keep_dims_wrong": (lambda: mean(out=(1, 6), keep=True), ("operator 0 (MEAN)", "[1, 1, 1, 6]")),
    "mean_axis_out_of_range": (lambda: mean(axes=(1, 7)), ("operator 0 (MEAN)", "axis 7")),
    "pad_output_disagrees": (lambda: pad(out=(1, 60, 60, 2)), ("operator 0 (PAD)", "[1, 7, 6, 2]")),
    "pad_negative": (lambda: pad(pads=((0, 0), (-1, 2), (2, 0), (0, 0)), out=(1, 5, 6, 2)),
                     ("operator 0 (PAD)", "negative")),
    "pad_wrong_rank": (lambda: pad(pads=((1, 2), (2, 0))), ("operator 0 (PAD)", "paddings")),
    "concat_inconsistent": (lambda: concat(shapes=((1, 3, 3, 2), (1, 4, 3, 5)), out=(1, 3, 3, 7)),
                            ("operator 0 (CONCATENATION)", "input 1")),
    "concat_sum_wrong": (lambda: concat(out=(1, 3, 3, 9)), ("operator 0 (CONCATENATION)", "[1, 3, 3, 7]")),
    "concat_axis_out_of_range": (lambda: concat(axis=4), ("operator 0 (CONCATENATION)", "axis 4")),
    "graph_input_constant": (lambda: _edit(conv(), _const_input), ("graph input 0", "constant")),
    "output_negative_index": (lambda: _edit(conv(), _negative_output), ("graph output 0", "tensor -3")),
    "operator_without_outputs": (lambda: _edit(conv(), _no_outputs), ("operator 0 (CONV_2D) has no outputs",)),
    "stride_zero": (lambda: conv(strideH=0), ("operator 0 (CONV_2D)", "stride h is 0")),
    "dilation_zero": (lambda: conv(dilationWFactor=0), ("operator 0 (CONV_2D)", "dilation w is 0")),
    "pool_filter_zero": (lambda: pool(filterWidth=0), ("operator 0 (AVERAGE_POOL_2D)", "filter w is 0")),
    "fc_missing_input": (lambda: _edit(fc(), _fc_missing_input), ("operator 0 (FULLY_CONNECTED)", "input 0")),
    "conv_output_wrong": (lambda: conv(out=(1, 5, 6, 4)), ("operator 0 (CONV_2D)", "[1, 6, 6, 4]")),
    "conv_valid_window_too_big": (lambda: conv(inp=(1, 2, 2, 3), out=(1, 1, 1, 4), padding=1),
                                  ("operator 0 (CONV_2D)", "larger than the input")),
    "conv_bias_size": (lambda: single_op("CONV_2D", [q8((1, 6, 6, 3)), _w((4, 3, 3, 3)), _b(3)], q8((1, 6, 6, 4)),
                                         padding=0, strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1),
                       ("operator 0 (CONV_2D)", "bias")),
    "depthwise_output_wrong": (lambda: depthwise(out=(1, 4, 4, 8)), ("operator 0 (DEPTHWISE_CONV_2D)",)),
    "fc_output_wrong": (lambda: fc(out=(1, 6)), ("operator 0 (FULLY_CONNECTED)", "[1, 5]")),
    "fc_depth_mismatch": (lambda: fc(inp=(1, 13)), ("operator 0 (FULLY_CONNECTED)", "weights depth 12")),
    "pool_output_wrong": (lambda: pool(out=(1, 5, 4, 3)), ("operator 0 (AVERAGE_POOL_2D)", "[1, 4, 4, 3]")),
    "add_no_broadcast": (lambda: binary(b=(1, 1, 2, 3)), ("operator 0 (ADD)", "broadcast")),
    "add_output_wrong": (lambda: binary(out=(1, 4, 4, 6)), ("operator 0 (ADD)", "[1, 4, 4, 3]")),
    "softmax_output_wrong": (lambda: unary("SOFTMAX", out=(1, 21)), ("operator 0 (SOFTMAX)", "[1, 20]")),
    "reshape_count": (lambda: reshape(out=(1, 25), shape=(1, 25)), ("operator 0 (RESHAPE)", "25")),
    "reshape_shape_tensor": (lambda: reshape(out=(1, 24), shape=(2, -1)), ("operator 0 (RESHAPE)", "[2, 12]")),
    "squeeze_non_unit": (lambda: squeeze(inp=(1, 2, 1, 3), out=(1, 3), dims=(1, 2)), ("operator 0 (SQUEEZE)",)),
    "scale_zero": (lambda: single_op("RELU", [q8((1, 4), 0.0)], q8((1, 4))), ("tensor 0", "scale")),
    "scale_nan": (lambda: single_op("RELU", [q8((1, 4), float("nan"))], q8((1, 4))), ("tensor 0", "not finite")),
    "zero_point_out_of_range": (lambda: single_op("RELU", [q8((1, 4), 0.1, 300)], q8((1, 4))),
                                ("tensor 0", "zero point")),
    "per_channel_length": (lambda: single_op("CONV_2D", [q8((1, 6, 6, 3)), TensorSpec(
        (4, 3, 3, 3), "int8", [0.1, 0.1, 0.1], [0, 0, 0], np.ones((4, 3, 3, 3)), axis=0), _b(4)], q8((1, 6, 6, 4)),
        padding=0, strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1), ("tensor 1", "3 per-channel")),
    "zero_dimension": (lambda: single_op("RELU", [q8((1, 0))], q8((1, 0))), ("tensor 0", "at least 1")),
    "read_before_write": (lambda: build([q8((1, 4)), q8((1, 4)), q8((1, 4))],
                                        [OpSpec("RELU", [1], [2]), OpSpec("RELU", [0], [1])], [0], [2]),
                          ("operator 0 (RELU)", "before any operator writes it")),
    "written_twice": (lambda: build([q8((1, 4)), q8((1, 4))],
                                    [OpSpec("RELU", [0], [1]), OpSpec("RELU", [0], [1])], [0], [1]),
                      ("operator 1 (RELU)", "already written")),
    "output_never_written": (lambda: build([q8((1, 4)), q8((1, 4)), q8((1, 4))],
                                           [OpSpec("RELU", [0], [1])], [0], [2]),
                             ("graph output 0", "never written")),
    "bad_activation_code": (lambda: conv(fusedActivationFunction=9), ("operator 0 (CONV_2D)", "activation code 9")),
    "bad_padding_code": (lambda: conv(padding=5), ("operator 0 (CONV_2D)", "padding code 5")),
    # found by the fuzzer: TFLM loops over the count in the options, past the real outputs
    "unpack_num_option": (lambda: _edit(layout_op("UNPACK"), _unpack_num3), ("operator 0 (UNPACK)", "num is 3")),
    "split_num_option": (lambda: _edit(layout_op("SPLIT"), _split_num3), ("operator 0 (SPLIT)", "numSplits is 3")),
}


def tree(data: bytes):  # noqa: ANN201
    """The object tree of packed ``data`` (for tests that mutate a model)."""
    from tests.safety.builder import unpack

    return unpack(data)


__all__ = ["BROKEN", "VALID", "model_tree", "tree"]
