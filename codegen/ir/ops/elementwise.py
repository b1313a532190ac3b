"""Binary element-wise operators (with broadcasting) and concatenation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codegen.ir.ops.base import Activation, Operator, register_op


@register_op
@dataclass(frozen=True, kw_only=True)
class Add(Operator):
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "ADD"
    family: ClassVar[str] = "elementwise"


@register_op
@dataclass(frozen=True, kw_only=True)
class Sub(Operator):
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "SUB"
    family: ClassVar[str] = "elementwise"


@register_op
@dataclass(frozen=True, kw_only=True)
class Mul(Operator):
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "MUL"
    family: ClassVar[str] = "elementwise"


@register_op
@dataclass(frozen=True, kw_only=True)
class Concatenation(Operator):
    axis: int = -1
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "CONCATENATION"
    family: ClassVar[str] = "elementwise"
