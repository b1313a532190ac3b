"""Operator base class and the registry of operators the IR understands."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

if TYPE_CHECKING:
    from codegen.ir.graph import Graph


class Padding(enum.Enum):
    SAME = "SAME"
    VALID = "VALID"


class Activation(enum.Enum):
    """Fused activation functions (TFLite ActivationFunctionType)."""

    NONE = "NONE"
    RELU = "RELU"
    RELU_N1_TO_1 = "RELU_N1_TO_1"
    RELU6 = "RELU6"
    TANH = "TANH"
    SIGN_BIT = "SIGN_BIT"


@dataclass(frozen=True, kw_only=True)
class Operator:
    """One node of the graph. ``inputs``/``outputs`` are tensor indices; -1 marks an absent optional input."""

    index: int
    version: int = 1
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    op: ClassVar[str] = ""
    family: ClassVar[str] = ""

    def macs(self, graph: Graph) -> int:
        """Multiply-accumulates of one inference of this operator (0 for data movement and element-wise ops)."""
        return 0


OP_REGISTRY: dict[str, type[Operator]] = {}

T = TypeVar("T", bound=type[Operator])


def register_op(cls: T) -> T:
    """Class decorator: make an operator class known under its TFLite builtin name ``cls.op``."""
    if not cls.op:
        raise TypeError(f"{cls.__name__} has no op name")
    if cls.op in OP_REGISTRY:
        raise TypeError(f"operator {cls.op} registered twice ({OP_REGISTRY[cls.op].__name__}, {cls.__name__})")
    OP_REGISTRY[cls.op] = cls
    return cls


@dataclass(frozen=True, kw_only=True)
class UnknownOp(Operator):
    """An operator the IR does not model; kept so that analysis still reads the model."""

    builtin: str
    family: ClassVar[str] = "unknown"

    @property
    def op(self) -> str:  # type: ignore[override]
        return self.builtin
