"""The graph: tensors, operators in execution order, graph inputs and outputs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from codegen.ir.ops.base import Operator
from codegen.ir.tensor import Tensor


@dataclass(frozen=True, eq=False)
class Graph:
    """A model as the rest of the toolchain sees it. Operators are in execution (topological) order."""

    name: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    source: str = ""
    sha256: str = ""
    description: str = ""
    metadata: tuple[tuple[str, str], ...] = field(default=())

    def op_inputs(self, op: Operator) -> list[Tensor | None]:
        """Input tensors of ``op`` (``None`` for absent optional inputs)."""
        return [self.tensors[i] if i >= 0 else None for i in op.inputs]

    def op_outputs(self, op: Operator) -> list[Tensor]:
        return [self.tensors[i] for i in op.outputs]

    @property
    def input_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.inputs]

    @property
    def output_tensors(self) -> list[Tensor]:
        return [self.tensors[i] for i in self.outputs]

    @cached_property
    def producers(self) -> dict[int, Operator]:
        """Tensor index -> the operator that writes it."""
        return {t: op for op in self.operators for t in op.outputs if t >= 0}

    @cached_property
    def consumers(self) -> dict[int, list[Operator]]:
        """Tensor index -> operators that read it, in execution order."""
        out: dict[int, list[Operator]] = {}
        for op in self.operators:
            for t in op.inputs:
                if t >= 0:
                    out.setdefault(t, []).append(op)
        return out

    @property
    def op_set(self) -> list[str]:
        """Sorted names of the operators used."""
        return sorted({op.op for op in self.operators})

    @property
    def constant_tensors(self) -> list[Tensor]:
        """Constant tensors that some operator reads (weights, biases, shapes)."""
        used = {t for op in self.operators for t in op.inputs if t >= 0}
        return [t for t in self.tensors if t.is_constant and t.index in used]
