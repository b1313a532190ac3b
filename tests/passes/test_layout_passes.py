"""TRANSPOSE pairs: cancelled when they compose to the identity, merged into one TRANSPOSE otherwise."""

from __future__ import annotations

import numpy as np

from codegen import ir
from codegen.passes import run_pipeline
from codegen.passes.fold import FOLDERS


def _graph(p1: tuple[int, ...], p2: tuple[int, ...], quant2: ir.QuantParams | None = None) -> ir.Graph:
    shape = (2, 3, 4, 5)
    s1 = tuple(shape[a] for a in p1)
    s2 = tuple(s1[a] for a in p2)
    tensors = (
        ir.Tensor(0, "x", shape, ir.DType.FLOAT32),
        ir.Tensor(1, "p1", (4,), ir.DType.INT32, data=np.array(p1, np.int32)),
        ir.Tensor(2, "y1", s1, ir.DType.FLOAT32),
        ir.Tensor(3, "p2", (4,), ir.DType.INT32, data=np.array(p2, np.int32)),
        ir.Tensor(4, "y2", s2, ir.DType.FLOAT32, quant=quant2),
        ir.Tensor(5, "out", s2, ir.DType.FLOAT32),
    )
    ops = (
        ir.Transpose(index=0, inputs=(0, 1), outputs=(2,)),
        ir.Transpose(index=1, inputs=(2, 3), outputs=(4,)),
        ir.Relu(index=2, inputs=(4,), outputs=(5,)),
    )
    return ir.Graph("t", tensors, ops, inputs=(0,), outputs=(5,))


def test_inverse_transposes_cancel_and_the_reader_takes_the_original_input() -> None:
    g = run_pipeline(_graph((0, 2, 3, 1), (0, 3, 1, 2)), "native")
    assert g.op_set == ["RELU"]
    assert g.operators[0].inputs == (0,)


def test_inverse_transposes_with_other_quantization_are_merged_not_dropped() -> None:
    q = ir.QuantParams(scale=(0.5,), zero_point=(1,))
    g = run_pipeline(_graph((0, 2, 3, 1), (0, 3, 1, 2), quant2=q), "native")
    assert g.op_set == ["RELU", "TRANSPOSE"]


def test_two_transposes_merge_into_one_with_the_composed_permutation() -> None:
    graph = _graph((0, 2, 3, 1), (1, 0, 3, 2))
    g = run_pipeline(graph, "native")
    assert g.op_set == ["RELU", "TRANSPOSE"]
    (t,) = [op for op in g.operators if op.op == "TRANSPOSE"]
    x = np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5)
    got = FOLDERS["TRANSPOSE"](g, t, [x, g.tensors[t.inputs[1]].data])[0]
    np.testing.assert_array_equal(got, np.transpose(np.transpose(x, (0, 2, 3, 1)), (1, 0, 3, 2)))
    assert got.shape == g.tensors[t.outputs[0]].shape
