"""Passes that simplify a graph for code generation without changing what it computes."""

from __future__ import annotations

from dataclasses import replace

from codegen import ir
from codegen.passes.base import GraphPass, define_pipeline, register_pass, renumber

_FUSABLE = (ir.Conv2D, ir.DepthwiseConv2D, ir.FullyConnected, ir.Add, ir.Sub, ir.Mul)
_ACTIVATIONS = {ir.Relu: ir.Activation.RELU, ir.Relu6: ir.Activation.RELU6}


@register_pass
class SqueezeAsReshape(GraphPass):
    """SQUEEZE only drops unit dimensions: it is a RESHAPE to the output shape (an alias, no copy)."""

    name = "squeeze-as-reshape"

    def match(self, graph: ir.Graph, op: ir.Operator) -> bool:
        return isinstance(op, ir.Squeeze)

    def transform(self, graph: ir.Graph, op: ir.Operator) -> ir.Graph:
        out = graph.tensors[op.outputs[0]]
        new = ir.Reshape(index=op.index, version=1, inputs=op.inputs[:1], outputs=op.outputs, new_shape=out.shape)
        return renumber(graph, [new if o is op else o for o in graph.operators])


@register_pass
class FuseActivation(GraphPass):
    """A RELU/RELU6 right after a layer with no fused activation becomes that layer's fused activation.

    Only when the layer's output feeds nothing else, is not a graph output, and (for quantized tensors) has the
    same quantization as the activation's output: then the fused clamp computes exactly what the separate
    operator computed.
    """

    name = "fuse-activation"

    def _producer(self, graph: ir.Graph, op: ir.Operator) -> ir.Operator | None:
        if type(op) not in _ACTIVATIONS:
            return None
        prod = graph.producers.get(op.inputs[0])
        if not isinstance(prod, _FUSABLE) or prod.activation is not ir.Activation.NONE:
            return None
        mid = op.inputs[0]
        if len(graph.consumers.get(mid, [])) != 1 or mid in graph.outputs:
            return None
        a, b = graph.tensors[mid], graph.tensors[op.outputs[0]]
        if a.dtype is not b.dtype or a.quant != b.quant or a.shape != b.shape:
            return None
        return prod

    def match(self, graph: ir.Graph, op: ir.Operator) -> bool:
        return self._producer(graph, op) is not None

    def transform(self, graph: ir.Graph, op: ir.Operator) -> ir.Graph:
        prod = self._producer(graph, op)
        if prod is None:  # match() was false: nothing to fuse
            return graph
        fused = replace(prod, activation=_ACTIVATIONS[type(op)], outputs=op.outputs)
        ops = [fused if o is prod else o for o in graph.operators if o is not op]
        return renumber(graph, ops)


define_pipeline(
    "native",
    ["fold-constants", "drop-dead-ops", "cancel-transposes", "transpose-into-fully-connected", "squeeze-as-reshape",
     "fuse-activation", "remove-pruned-channels"],
)
