"""Pooling and reduction operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codegen.ir.ops.base import Activation, Operator, Padding, register_op


@dataclass(frozen=True, kw_only=True)
class Pool2D(Operator):
    filter_h: int = 1
    filter_w: int = 1
    stride_h: int = 1
    stride_w: int = 1
    padding: Padding = Padding.VALID
    activation: Activation = Activation.NONE

    family: ClassVar[str] = "pool"


@register_op
@dataclass(frozen=True, kw_only=True)
class AveragePool2D(Pool2D):
    op: ClassVar[str] = "AVERAGE_POOL_2D"


@register_op
@dataclass(frozen=True, kw_only=True)
class MaxPool2D(Pool2D):
    op: ClassVar[str] = "MAX_POOL_2D"


@register_op
@dataclass(frozen=True, kw_only=True)
class Mean(Operator):
    """inputs: (input, axis tensor). Native kernels implement it as global average pooling over H and W."""

    keep_dims: bool = False

    op: ClassVar[str] = "MEAN"
    family: ClassVar[str] = "pool"
