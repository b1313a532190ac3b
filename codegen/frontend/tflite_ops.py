"""Frontend handlers: TFLite builtin options -> typed IR operators. One handler per builtin operator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from codegen import ir
from codegen.errors import ModelError

Handler = Callable[[Any, dict[str, Any]], ir.Operator]
HANDLERS: dict[str, Handler] = {}

_PADDING = {0: ir.Padding.SAME, 1: ir.Padding.VALID}
_ACTIVATION = {
    0: ir.Activation.NONE,
    1: ir.Activation.RELU,
    2: ir.Activation.RELU_N1_TO_1,
    3: ir.Activation.RELU6,
    4: ir.Activation.TANH,
    5: ir.Activation.SIGN_BIT,
}


def handler(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for one or more TFLite builtin operator names; registering a name twice is an error."""

    def deco(fn: Handler) -> Handler:
        for name in names:
            if name in HANDLERS:
                raise TypeError(f"frontend handler for {name} registered twice")
            HANDLERS[name] = fn
        return fn

    return deco


class OptionError(Exception):
    """A builtin option value the schema does not define; :func:`build_operator` words the error."""


def _pad(opts: Any) -> ir.Padding:
    code = getattr(opts, "padding", 0)
    if code not in _PADDING:
        raise OptionError(f"padding code {code} is not SAME (0) or VALID (1)")
    return _PADDING[code]


def _act(opts: Any) -> ir.Activation:
    code = getattr(opts, "fusedActivationFunction", 0) if opts else 0
    if code not in _ACTIVATION:
        raise OptionError(f"fused activation code {code} is not defined by the TFLite schema")
    return _ACTIVATION[code]


@handler("CONV_2D")
def _conv2d(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.Conv2D(
        stride_h=o.strideH, stride_w=o.strideW, dilation_h=o.dilationHFactor,
        dilation_w=o.dilationWFactor, padding=_pad(o), activation=_act(o), **common,
    )


@handler("DEPTHWISE_CONV_2D")
def _dwconv2d(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.DepthwiseConv2D(
        stride_h=o.strideH, stride_w=o.strideW, dilation_h=o.dilationHFactor,
        dilation_w=o.dilationWFactor, depth_multiplier=o.depthMultiplier or 1, padding=_pad(o),
        activation=_act(o), **common,
    )


@handler("FULLY_CONNECTED")
def _fc(o: Any, common: dict[str, Any]) -> ir.Operator:
    keep = bool(getattr(o, "keepNumDims", False)) if o else False
    return ir.FullyConnected(activation=_act(o), keep_num_dims=keep, **common)


@handler("AVERAGE_POOL_2D", "MAX_POOL_2D")
def _pool(o: Any, common: dict[str, Any]) -> ir.Operator:
    cls = ir.AveragePool2D if common.pop("_name") == "AVERAGE_POOL_2D" else ir.MaxPool2D
    return cls(
        filter_h=o.filterHeight, filter_w=o.filterWidth, stride_h=o.strideH, stride_w=o.strideW,
        padding=_pad(o), activation=_act(o), **common,
    )


@handler("MEAN", "REDUCE_PROD")
def _mean(o: Any, common: dict[str, Any]) -> ir.Operator:
    cls = ir.Mean if common.pop("_name") == "MEAN" else ir.ReduceProd
    return cls(keep_dims=bool(o.keepDims) if o else False, **common)


@handler("ADD", "SUB", "MUL")
def _binary(o: Any, common: dict[str, Any]) -> ir.Operator:
    cls = {"ADD": ir.Add, "SUB": ir.Sub, "MUL": ir.Mul}[common.pop("_name")]
    return cls(activation=_act(o), **common)


@handler("CONCATENATION")
def _concat(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.Concatenation(axis=o.axis, activation=_act(o), **common)


@handler("SOFTMAX")
def _softmax(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.Softmax(beta=float(o.beta) if o else 1.0, **common)


@handler("LEAKY_RELU")
def _leaky(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.LeakyRelu(alpha=float(o.alpha) if o else 0.2, **common)


@handler("RESHAPE")
def _reshape(o: Any, common: dict[str, Any]) -> ir.Operator:
    shape = tuple(int(d) for d in o.newShape) if o is not None and o.newShape is not None else ()
    return ir.Reshape(new_shape=shape, **common)


@handler("SQUEEZE")
def _squeeze(o: Any, common: dict[str, Any]) -> ir.Operator:
    dims = tuple(int(d) for d in o.squeezeDims) if o is not None and o.squeezeDims is not None else ()
    return ir.Squeeze(squeeze_dims=dims, **common)


@handler("STRIDED_SLICE")
def _strided_slice(o: Any, common: dict[str, Any]) -> ir.Operator:
    if o is None:
        return ir.StridedSlice(**common)
    return ir.StridedSlice(
        begin_mask=int(o.beginMask), end_mask=int(o.endMask), ellipsis_mask=int(o.ellipsisMask),
        new_axis_mask=int(o.newAxisMask), shrink_axis_mask=int(o.shrinkAxisMask), offset=bool(o.offset), **common,
    )


def _count_option(o: Any, name: str, actual: int, what: str) -> None:
    """TFLM loops over an operand count stored in the options (PACK values_count, UNPACK num, SPLIT num_splits):
    it must equal the operator's real number of operands."""
    value = getattr(o, name, None) if o is not None else None
    if value is not None and int(value) != actual:
        raise OptionError(f"option {name} is {int(value)}, but the operator has {actual} {what}")


@handler("PACK")
def _pack(o: Any, common: dict[str, Any]) -> ir.Operator:
    _count_option(o, "valuesCount", len(common["inputs"]), "inputs")
    return ir.Pack(axis=int(o.axis) if o else 0, **common)


@handler("UNPACK")
def _unpack(o: Any, common: dict[str, Any]) -> ir.Operator:
    _count_option(o, "num", len(common["outputs"]), "outputs")
    return ir.Unpack(axis=int(o.axis) if o else 0, **common)


@handler("GATHER")
def _gather(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.Gather(axis=int(o.axis) if o else 0, batch_dims=int(o.batchDims) if o else 0, **common)


@handler("SPLIT", "SPLIT_V")
def _split(o: Any, common: dict[str, Any]) -> ir.Operator:
    cls = ir.Split if common.pop("_name") == "SPLIT" else ir.SplitV
    _count_option(o, "numSplits", len(common["outputs"]), "outputs")
    return cls(num_splits=int(o.numSplits) if o else len(common["outputs"]), **common)


@handler("DEPTH_TO_SPACE", "SPACE_TO_DEPTH")
def _depth_space(o: Any, common: dict[str, Any]) -> ir.Operator:
    cls = ir.DepthToSpace if common.pop("_name") == "DEPTH_TO_SPACE" else ir.SpaceToDepth
    return cls(block_size=int(o.blockSize) if o else 1, **common)


@handler("RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR")
def _resize(o: Any, common: dict[str, Any]) -> ir.Operator:
    cls = ir.ResizeNearestNeighbor if common.pop("_name") == "RESIZE_NEAREST_NEIGHBOR" else ir.ResizeBilinear
    if o is None:
        return cls(**common)
    return cls(align_corners=bool(o.alignCorners), half_pixel_centers=bool(o.halfPixelCenters), **common)


@handler("TRANSPOSE_CONV")
def _transpose_conv(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.TransposeConv(stride_h=o.strideH, stride_w=o.strideW, padding=_pad(o), activation=_act(o), **common)


@handler("BATCH_MATMUL")
def _batch_matmul(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.BatchMatMul(adj_x=bool(o.adjX) if o else False, adj_y=bool(o.adjY) if o else False, **common)


@handler("SVDF")
def _svdf(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.Svdf(rank=int(o.rank), activation=_act(o), **common)


@handler("UNIDIRECTIONAL_SEQUENCE_LSTM")
def _lstm(o: Any, common: dict[str, Any]) -> ir.Operator:
    if o is None:
        return ir.UnidirectionalSequenceLstm(**common)
    return ir.UnidirectionalSequenceLstm(
        activation=_act(o), cell_clip=float(o.cellClip), proj_clip=float(o.projClip), time_major=bool(o.timeMajor),
        asymmetric_quantize_inputs=bool(o.asymmetricQuantizeInputs), **common,
    )


@handler("DIV")
def _div(o: Any, common: dict[str, Any]) -> ir.Operator:
    return ir.Div(activation=_act(o), **common)


_SIMPLE = {
    "REVERSE_V2": ir.ReverseV2,
    "LOGISTIC": ir.Logistic, "TANH": ir.Tanh, "RELU": ir.Relu, "RELU6": ir.Relu6, "HARD_SWISH": ir.HardSwish,
    "PAD": ir.Pad, "QUANTIZE": ir.Quantize, "DEQUANTIZE": ir.Dequantize,
    "SHAPE": ir.Shape, "SLICE": ir.Slice, "CAST": ir.Cast, "EXPAND_DIMS": ir.ExpandDims, "TRANSPOSE": ir.Transpose,
    "MAXIMUM": ir.Maximum, "MINIMUM": ir.Minimum, "FLOOR_DIV": ir.FloorDiv, "SQUARED_DIFFERENCE": ir.SquaredDifference,
    "RSQRT": ir.Rsqrt, "EXP": ir.Exp, "PRELU": ir.Prelu, "ARG_MAX": ir.ArgMax, "ARG_MIN": ir.ArgMin,
}


def _simple(o: Any, common: dict[str, Any]) -> ir.Operator:
    return _SIMPLE[common.pop("_name")](**common)


for _name in _SIMPLE:
    handler(_name)(_simple)


def build_operator(name: str, options: Any, common: dict[str, Any], source: str = "<bytes>") -> ir.Operator:
    """Make the typed IR operator for TFLite builtin ``name``; unknown builtins become :class:`ir.UnknownOp`.
    Missing or undefined options raise :class:`ModelError` naming the operator."""
    fn = HANDLERS.get(name)
    if fn is None:
        return ir.UnknownOp(builtin=name, **common)
    try:
        return fn(options, {**common, "_name": name} if name in _NEEDS_NAME else dict(common))
    except OptionError as exc:
        raise ModelError(f"{source}: operator {common['index']} ({name}): {exc}",
                         hint="the file is corrupted; re-export it") from exc
    except (AttributeError, TypeError, ValueError) as exc:  # options of another type, or none where needed
        raise ModelError(f"{source}: operator {common['index']} ({name}) has missing or malformed options "
                         f"({type(exc).__name__})", hint="the file is corrupted; re-export it") from exc


_NEEDS_NAME = {
    "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "REDUCE_PROD",
    "ADD", "SUB", "MUL", "SPLIT", "SPLIT_V", "DEPTH_TO_SPACE", "SPACE_TO_DEPTH",
    "RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", *_SIMPLE,
}
