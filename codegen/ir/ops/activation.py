"""Stand-alone activation operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codegen.ir.ops.base import Operator, register_op


@register_op
@dataclass(frozen=True, kw_only=True)
class Softmax(Operator):
    beta: float = 1.0

    op: ClassVar[str] = "SOFTMAX"
    family: ClassVar[str] = "activation"


@register_op
@dataclass(frozen=True, kw_only=True)
class Logistic(Operator):
    op: ClassVar[str] = "LOGISTIC"
    family: ClassVar[str] = "activation"


@register_op
@dataclass(frozen=True, kw_only=True)
class Tanh(Operator):
    op: ClassVar[str] = "TANH"
    family: ClassVar[str] = "activation"


@register_op
@dataclass(frozen=True, kw_only=True)
class Relu(Operator):
    op: ClassVar[str] = "RELU"
    family: ClassVar[str] = "activation"


@register_op
@dataclass(frozen=True, kw_only=True)
class Relu6(Operator):
    op: ClassVar[str] = "RELU6"
    family: ClassVar[str] = "activation"


@register_op
@dataclass(frozen=True, kw_only=True)
class LeakyRelu(Operator):
    alpha: float = 0.2

    op: ClassVar[str] = "LEAKY_RELU"
    family: ClassVar[str] = "activation"


@register_op
@dataclass(frozen=True, kw_only=True)
class HardSwish(Operator):
    op: ClassVar[str] = "HARD_SWISH"
    family: ClassVar[str] = "activation"
