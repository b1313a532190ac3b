"""Shape rules of the sequence operators, which keep state in variable tensors (see ``variable=`` of
:func:`codegen.validation.rules.shape_rule`)."""

from __future__ import annotations

from typing import cast

from codegen import ir
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
