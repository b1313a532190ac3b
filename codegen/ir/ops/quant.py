"""Conversions between float and quantized tensors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from codegen.ir.ops.base import Operator, register_op


@register_op
@dataclass(frozen=True, kw_only=True)
class Quantize(Operator):
    op: ClassVar[str] = "QUANTIZE"
    family: ClassVar[str] = "quant"


@register_op
@dataclass(frozen=True, kw_only=True)
class Dequantize(Operator):
    op: ClassVar[str] = "DEQUANTIZE"
    family: ClassVar[str] = "quant"
