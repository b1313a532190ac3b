"""Sequence operators that keep state across inferences in variable tensors: SVDF, UNIDIRECTIONAL_SEQUENCE_LSTM."""

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


#: operand positions of UNIDIRECTIONAL_SEQUENCE_LSTM (TFLite's lstm_shared.h); gates in the order input, forget,
#: cell, output
LSTM_INPUT = 0
LSTM_INPUT_WEIGHTS = (1, 2, 3, 4)
LSTM_RECURRENT_WEIGHTS = (5, 6, 7, 8)
LSTM_PEEPHOLE = (9, 10, 11)
LSTM_BIAS = (12, 13, 14, 15)
LSTM_PROJECTION = (16, 17)
LSTM_OUTPUT_STATE = 18
LSTM_CELL_STATE = 19
LSTM_LAYER_NORM = (20, 21, 22, 23)


@register_op
@dataclass(frozen=True, kw_only=True)
class UnidirectionalSequenceLstm(Operator):
    """inputs: the 24 operands of TFLite's LSTM (see the ``LSTM_*`` positions; -1 for absent optional ones); the
    output state (18) and cell state (19) are variable tensors that persist across invocations."""

    activation: Activation = Activation.TANH  # the cell gate's and the cell output's nonlinearity
    cell_clip: float = 0.0
    proj_clip: float = 0.0
    time_major: bool = False
    asymmetric_quantize_inputs: bool = False

    op: ClassVar[str] = "UNIDIRECTIONAL_SEQUENCE_LSTM"
    family: ClassVar[str] = "sequence"

    def macs(self, graph: Graph) -> int:
        x = graph.tensors[self.inputs[LSTM_INPUT]].shape
        units = graph.tensors[self.outputs[0]].shape[-1]
        steps = 1
        for d in x[:-1]:
            steps *= d
        return steps * 4 * units * (x[-1] + units)
