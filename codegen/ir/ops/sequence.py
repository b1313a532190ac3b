"""Sequence operators that keep state across inferences in variable tensors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from codegen.ir.ops.base import Activation, Operator, register_op

if TYPE_CHECKING:
    from codegen.ir.graph import Graph


@register_op
@dataclass(frozen=True, kw_only=True)
class Svdf(Operator):
    """inputs: (input [batch, input size], weights feature [filters, input size], weights time [filters, memory],
    bias [units] or -1, activation state [batch, memory * filters] (variable)); ``filters = units * rank``.

    Each inference shifts the state one step back in time, writes the input's projection on the feature weights
    as the newest step, and sums each unit's ``rank`` filters over the memory with the time weights."""

    rank: int = 1
    activation: Activation = Activation.NONE

    op: ClassVar[str] = "SVDF"
    family: ClassVar[str] = "sequence"

    def macs(self, graph: Graph) -> int:
        filters, depth = graph.tensors[self.inputs[1]].shape[:2]
        memory = graph.tensors[self.inputs[2]].shape[1]
        batch = graph.tensors[self.inputs[0]].shape[0]
        return batch * filters * (depth + memory)
