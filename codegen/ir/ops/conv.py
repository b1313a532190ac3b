"""Convolution and fully-connected operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from codegen.ir.ops.base import Activation, Operator, Padding, register_op

if TYPE_CHECKING:
    from codegen.ir.graph import Graph


@register_op
@dataclass(frozen=True, kw_only=True)
class Conv2D(Operator):
    """inputs: (input NHWC, filter OHWI, bias or -1)."""

    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    padding: Padding = Padding.SAME
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "CONV_2D"
    family: ClassVar[str] = "conv"

    def macs(self, graph: Graph) -> int:
        out = graph.tensors[self.outputs[0]].shape
        filt = graph.tensors[self.inputs[1]].shape
        # output elements x (kernel h x kernel w x input channels per group)
        return _prod(out) * filt[1] * filt[2] * filt[3]


@register_op
@dataclass(frozen=True, kw_only=True)
class DepthwiseConv2D(Operator):
    """inputs: (input NHWC, filter 1HW(C*M), bias or -1)."""

    stride_h: int = 1
    stride_w: int = 1
    dilation_h: int = 1
    dilation_w: int = 1
    depth_multiplier: int = 1
    padding: Padding = Padding.SAME
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "DEPTHWISE_CONV_2D"
    family: ClassVar[str] = "conv"

    def macs(self, graph: Graph) -> int:
        out = graph.tensors[self.outputs[0]].shape
        filt = graph.tensors[self.inputs[1]].shape
        return _prod(out) * filt[1] * filt[2]


@register_op
@dataclass(frozen=True, kw_only=True)
class FullyConnected(Operator):
    """inputs: (input, weights [units, depth], bias or -1)."""

    activation: Activation = Activation.NONE
    keep_num_dims: bool = False

    op: ClassVar[str] = "FULLY_CONNECTED"
    family: ClassVar[str] = "conv"

    def macs(self, graph: Graph) -> int:
        units, depth = graph.tensors[self.inputs[1]].shape[:2]
        batches = graph.tensors[self.inputs[0]].size // max(depth, 1)
        return batches * units * depth


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


@register_op
@dataclass(frozen=True, kw_only=True)
class TransposeConv(Operator):
    """inputs: (output shape int32 [4], filter OHWI, input NHWC, bias or -1)."""

    stride_h: int = 1
    stride_w: int = 1
    padding: Padding = Padding.SAME
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "TRANSPOSE_CONV"
    family: ClassVar[str] = "conv"

    def macs(self, graph: Graph) -> int:
        filt = graph.tensors[self.inputs[1]].shape
        return _prod(graph.tensors[self.inputs[2]].shape) * filt[0] * filt[1] * filt[2]
