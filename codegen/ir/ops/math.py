"""Element-wise arithmetic beyond ADD/SUB/MUL, and reductions to an index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codegen.ir.ops.base import Activation, Operator, register_op


@register_op
@dataclass(frozen=True, kw_only=True)
class Maximum(Operator):
    op: ClassVar[str] = "MAXIMUM"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class Minimum(Operator):
    op: ClassVar[str] = "MINIMUM"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class ReduceProd(Operator):
    """inputs: (input, axis tensor). Only folded (an integer shape computation, e.g. the rows of a Dense on a
    sequence with a dynamic batch); no native kernel, as in TFLM."""

    keep_dims: bool = False

    op: ClassVar[str] = "REDUCE_PROD"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class Div(Operator):
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "DIV"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class FloorDiv(Operator):
    op: ClassVar[str] = "FLOOR_DIV"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class SquaredDifference(Operator):
    op: ClassVar[str] = "SQUARED_DIFFERENCE"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class Rsqrt(Operator):
    op: ClassVar[str] = "RSQRT"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class Exp(Operator):
    op: ClassVar[str] = "EXP"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class Prelu(Operator):
    """inputs: (input, alpha) with alpha broadcast against the input."""

    op: ClassVar[str] = "PRELU"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class ArgMax(Operator):
    """inputs: (input, axis)."""

    op: ClassVar[str] = "ARG_MAX"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class ArgMin(Operator):
    """inputs: (input, axis)."""

    op: ClassVar[str] = "ARG_MIN"
    family: ClassVar[str] = "math"


@register_op
@dataclass(frozen=True, kw_only=True)
class BatchMatMul(Operator):
    """inputs: (lhs [..., M, K], rhs [..., K, N]); ``adj_x`` / ``adj_y`` transpose the last two axes first."""

    adj_x: bool = False
    adj_y: bool = False

    op: ClassVar[str] = "BATCH_MATMUL"
    family: ClassVar[str] = "math"
