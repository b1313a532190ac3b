"""The typed intermediate representation: frozen dataclasses, no backend imports."""

from codegen.ir.graph import Graph
from codegen.ir.ops import *  # noqa: F403
from codegen.ir.ops import __all__ as _ops_all
from codegen.ir.tensor import DType, QuantParams, Tensor

__all__ = ["DType", "Graph", "QuantParams", "Tensor", *_ops_all]
