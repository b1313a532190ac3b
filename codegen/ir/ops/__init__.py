"""Typed operator classes, one module per op family, all registered in :data:`OP_REGISTRY`."""

from codegen.ir.ops.activation import HardSwish, LeakyRelu, Logistic, Relu, Relu6, Softmax, Tanh
from codegen.ir.ops.base import OP_REGISTRY, Activation, Operator, Padding, UnknownOp, register_op
from codegen.ir.ops.conv import Conv2D, DepthwiseConv2D, FullyConnected, TransposeConv
from codegen.ir.ops.elementwise import Add, Concatenation, Mul, Sub
from codegen.ir.ops.layout import (
    Cast,
    DepthToSpace,
    ExpandDims,
    Gather,
    Pack,
    ResizeBilinear,
    ResizeNearestNeighbor,
    ReverseV2,
    Shape,
    Slice,
    SpaceToDepth,
    Split,
    SplitV,
    StridedSlice,
    Transpose,
    Unpack,
)
from codegen.ir.ops.math import (
    ArgMax,
    ArgMin,
    BatchMatMul,
    Div,
    Exp,
    FloorDiv,
    Maximum,
    Minimum,
    Prelu,
    ReduceProd,
    Rsqrt,
    SquaredDifference,
)
from codegen.ir.ops.pool import AveragePool2D, MaxPool2D, Mean, Pool2D
from codegen.ir.ops.quant import Dequantize, Quantize
from codegen.ir.ops.sequence import Svdf, UnidirectionalSequenceLstm
from codegen.ir.ops.shape import Pad, Reshape, Squeeze

__all__ = [
    "OP_REGISTRY", "Activation", "Add", "AveragePool2D", "Concatenation", "Conv2D", "DepthwiseConv2D",
    "Dequantize", "FullyConnected", "HardSwish", "LeakyRelu", "Logistic", "MaxPool2D", "Mean", "Mul", "Operator",
    "Pad", "Padding", "Pool2D", "Quantize", "Relu", "Relu6", "Reshape", "Softmax", "Squeeze", "Sub", "Tanh",
    "UnknownOp", "register_op",
    # layout and math families
    "ArgMax", "ArgMin", "BatchMatMul", "Cast", "DepthToSpace", "Div", "Exp", "ExpandDims", "FloorDiv", "Gather",
    "Maximum", "Minimum", "Pack", "Prelu", "ReduceProd", "ResizeBilinear", "ResizeNearestNeighbor", "Rsqrt", "Shape",
    "Slice",
    "ReverseV2",
    "SpaceToDepth", "Split", "SplitV", "SquaredDifference", "StridedSlice", "Transpose", "TransposeConv", "Unpack",
    # sequence models (state in variable tensors)
    "Svdf", "UnidirectionalSequenceLstm",
]
