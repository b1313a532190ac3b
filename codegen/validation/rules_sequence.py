"""Shape rules of the sequence operators, which keep state in variable tensors (see ``variable=`` of
:func:`codegen.validation.rules.shape_rule`)."""

from __future__ import annotations

from typing import cast

from codegen import ir
from codegen.ir.ops.sequence import (
    LSTM_BIAS,
    LSTM_CELL_STATE,
    LSTM_INPUT_WEIGHTS,
    LSTM_LAYER_NORM,
    LSTM_OUTPUT_STATE,
    LSTM_PEEPHOLE,
    LSTM_PROJECTION,
    LSTM_RECURRENT_WEIGHTS,
)
from codegen.validation.rules import OpCheck, RuleResult, _fmt, shape_rule


@shape_rule("SVDF", inputs=5, optional=(3,), variable=(4,))
def _svdf(c: OpCheck) -> RuleResult:
    """TFLM PrepareSvdf: input [batch, input size], weights feature [filters, input size], weights time
    [filters, memory], bias [units], state [batch, memory * filters]; filters = units * rank."""
    op = cast(ir.Svdf, c.op)
    x, wf, wt = c.input(0), c.input(1, "weights feature"), c.input(2, "weights time")
    state = c.input(4, "activation state")
    c.rank(x, (2,), "input")
    c.rank(wf, (2,), "weights feature")
    c.rank(wt, (2,), "weights time")
    c.rank(state, (2,), "activation state")
    c.require(op.rank >= 1, f"rank is {op.rank}, must be at least 1")
    batch, depth = x.shape
    filters, wf_depth = wf.shape
    c.require(wf_depth == depth, f"weights feature {_fmt(wf.shape)} do not match the input depth {depth}")
    c.require(filters % op.rank == 0, f"{filters} filters are not a multiple of the rank {op.rank}")
    c.require(wt.shape[0] == filters, f"weights time {_fmt(wt.shape)} do not have {filters} filters")
    memory = wt.shape[1]
    units = filters // op.rank
    b = c.optional(3)
    if b is not None:
        c.require(b.size == units, f"bias (tensor {b.index}) has {b.size} values for {units} units")
    c.require(state.shape == (batch, memory * filters),
              f"activation state {_fmt(state.shape)} should be {_fmt((batch, memory * filters))}")
    return (batch, units)


#: TFLite's optional LSTM operands: CIFG (no input gate), peephole, projection, layer norm
_OPTIONAL = (LSTM_INPUT_WEIGHTS[0], LSTM_RECURRENT_WEIGHTS[0], *LSTM_PEEPHOLE, LSTM_BIAS[0], *LSTM_PROJECTION,
             *LSTM_LAYER_NORM)


@shape_rule("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs=24, optional=_OPTIONAL,
            variable=(LSTM_OUTPUT_STATE, LSTM_CELL_STATE))
def _lstm(c: OpCheck) -> RuleResult:
    """TFLM ValidateTensorSize: input [batch, time, depth] ([time, batch, depth] time-major), input weights
    [units, depth], recurrent weights [units, units], biases [units], states of batch x units values."""
    op = cast(ir.UnidirectionalSequenceLstm, c.op)
    x = c.input(0)
    c.rank(x, (3,), "input")
    forget = c.input(LSTM_INPUT_WEIGHTS[1], "input-to-forget weights")
    c.rank(forget, (2,), "input-to-forget weights")
    units, depth = forget.shape
    batches = x.shape[1] if op.time_major else x.shape[0]
    c.require(depth == x.shape[2], f"input-to-forget weights {_fmt(forget.shape)} do not match the input depth "
              f"{x.shape[2]}")
    for group, cols, what in ((LSTM_INPUT_WEIGHTS, depth, "input"), (LSTM_RECURRENT_WEIGHTS, units, "recurrent")):
        for i in group:
            w = c.optional(i)
            if w is not None:
                c.require(tuple(w.shape) == (units, cols), f"{what} weights (tensor {w.index}) have shape "
                          f"{_fmt(w.shape)}, expected {_fmt((units, cols))}")
    for i in LSTM_BIAS:
        b = c.optional(i)
        if b is not None:
            c.require(tuple(b.shape) == (units,), f"gate bias (tensor {b.index}) has shape {_fmt(b.shape)}, "
                      f"expected {_fmt((units,))}")
    for i, what in ((LSTM_OUTPUT_STATE, "output state"), (LSTM_CELL_STATE, "cell state")):
        s = c.input(i, what)
        c.require(s.size == batches * units, f"{what} (tensor {s.index}) has {s.size} values, expected "
                  f"{batches * units} (batches x units)")
    return (x.shape[0], x.shape[1], units)
