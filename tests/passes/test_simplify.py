"""Passes rewrite graphs without changing what they compute."""

from __future__ import annotations

import numpy as np

from codegen import ir
from codegen.passes import run_pipeline


def _t(i, shape, dtype=ir.DType.FLOAT32, data=None, quant=None):
    return ir.Tensor(index=i, name=f"t{i}", shape=shape, dtype=dtype, data=data, quant=quant)


def _graph(ops, tensors, outputs):
    return ir.Graph(name="g", tensors=tuple(tensors), operators=tuple(ops), inputs=(0,), outputs=outputs)


def _conv_graph(act_cls, out_quant=None, extra_consumer=False):
    q = ir.QuantParams((0.1,), (-3,))
    w = np.zeros((4, 1, 1, 4), np.int8)
    tensors = [_t(0, (1, 2, 2, 4), ir.DType.INT8, quant=q), _t(1, (4, 1, 1, 4), ir.DType.INT8, w, q),
               _t(2, (1, 2, 2, 4), ir.DType.INT8, quant=q), _t(3, (1, 2, 2, 4), ir.DType.INT8, quant=out_quant or q)]
    ops = [ir.Conv2D(index=0, inputs=(0, 1, -1), outputs=(2,)), act_cls(index=1, inputs=(2,), outputs=(3,))]
    outputs = (3,)
    if extra_consumer:
        outputs = (3, 2)
    return _graph(ops, tensors, outputs)


def test_relu6_after_conv_is_fused_when_quantization_matches():
    g = run_pipeline(_conv_graph(ir.Relu6), "native")
    assert [op.op for op in g.operators] == ["CONV_2D"]
    assert g.operators[0].activation is ir.Activation.RELU6 and g.operators[0].outputs == (3,)


def test_relu_is_kept_when_its_quantization_differs():
    g = run_pipeline(_conv_graph(ir.Relu, out_quant=ir.QuantParams((0.05,), (-128,))), "native")
    assert [op.op for op in g.operators] == ["CONV_2D", "RELU"]


def test_relu_is_kept_when_the_raw_output_is_also_used():
    g = run_pipeline(_conv_graph(ir.Relu, extra_consumer=True), "native")
    assert [op.op for op in g.operators] == ["CONV_2D", "RELU"]


def test_squeeze_becomes_reshape_to_the_output_shape():
    tensors = [_t(0, (1, 1, 1, 8)), _t(1, (1, 8))]
    g = _graph([ir.Squeeze(index=0, inputs=(0,), outputs=(1,), squeeze_dims=(1, 2))], tensors, (1,))
    out = run_pipeline(g, "native")
    assert isinstance(out.operators[0], ir.Reshape) and out.operators[0].new_shape == (1, 8)
