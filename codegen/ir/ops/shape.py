"""Operators that only change the view of data (reshape, squeeze) or copy it (pad)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codegen.ir.ops.base import Operator, register_op


@register_op
@dataclass(frozen=True, kw_only=True)
class Reshape(Operator):
    """inputs: (input, optional shape tensor). The output tensor's shape is authoritative."""

    new_shape: tuple[int, ...] = ()

    op: ClassVar[str] = "RESHAPE"
    family: ClassVar[str] = "shape"


@register_op
@dataclass(frozen=True, kw_only=True)
class Squeeze(Operator):
    squeeze_dims: tuple[int, ...] = ()

    op: ClassVar[str] = "SQUEEZE"
    family: ClassVar[str] = "shape"


@register_op
@dataclass(frozen=True, kw_only=True)
class Pad(Operator):
    """inputs: (input, paddings [rank, 2] int32 constant)."""

    op: ClassVar[str] = "PAD"
    family: ClassVar[str] = "shape"
