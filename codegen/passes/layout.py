"""Layout passes: consecutive TRANSPOSEs (PyTorch NCHW exports put one before and one after NHWC layers)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from codegen import ir
from codegen.ir import semantics
from codegen.passes.base import GraphPass, register_pass, renumber


def _perm(graph: ir.Graph, op: ir.Operator) -> tuple[int, ...] | None:
    if not isinstance(op, ir.Transpose) or len(op.inputs) < 2 or op.inputs[1] < 0:
        return None
    t = graph.tensors[op.inputs[1]]
    if t.data is None:
        return None
    try:
        return semantics.transpose_perm([int(v) for v in t.data.reshape(-1)], len(graph.tensors[op.inputs[0]].shape))
    except ValueError:
        return None


@register_pass
class CancelTransposes(GraphPass):
    """TRANSPOSE(p2) of TRANSPOSE(p1) whose intermediate feeds nothing else is one TRANSPOSE with the composed
    permutation ``p1[p2[k]]``; when that is the identity (and the quantization is the same), both disappear and
    the readers take the first TRANSPOSE's input. Both operators copy raw values, so this is exact."""

    name = "cancel-transposes"

    def _pair(self, graph: ir.Graph, op: ir.Operator) -> tuple[ir.Operator, tuple[int, ...]] | None:
        p2 = _perm(graph, op)
        first = graph.producers.get(op.inputs[0]) if p2 is not None else None
        p1 = _perm(graph, first) if first is not None else None
        if p1 is None or p2 is None or first is None:
            return None
        mid = op.inputs[0]
        if mid in graph.outputs or len(graph.consumers.get(mid, [])) != 1:
            return None
        return first, tuple(p1[k] for k in p2)

    def match(self, graph: ir.Graph, op: ir.Operator) -> bool:
        found = self._pair(graph, op)
        if found is None:
            return False
        _, perm = found
        if perm != tuple(range(len(perm))):
            return True
        src, dst = graph.tensors[found[0].inputs[0]], graph.tensors[op.outputs[0]]
        # the readers of the second output take the first input instead: same type, quantization and shape
        return (dst.index not in graph.outputs and src.dtype is dst.dtype and src.quant == dst.quant
                and src.shape == dst.shape)

    def transform(self, graph: ir.Graph, op: ir.Operator) -> ir.Graph:
        found = self._pair(graph, op)
        if found is None:
            raise RuntimeError(f"operator {op.index} matched but is no TRANSPOSE pair")
        first, perm = found
        x, y = first.inputs[0], op.outputs[0]
        if perm == tuple(range(len(perm))):
            ops = []
            for o in graph.operators:
                if o is first or o is op:
                    continue
                if y in o.inputs:
                    o = replace(o, inputs=tuple(x if i == y else i for i in o.inputs))
                ops.append(o)
            return renumber(graph, ops)
        perm_t = ir.Tensor(len(graph.tensors), f"{graph.tensors[y].name}/perm", (len(perm),), ir.DType.INT32,
                           data=np.array(perm, dtype=np.int32))
        merged = replace(op, inputs=(x, perm_t.index))
        graph = replace(graph, tensors=(*graph.tensors, perm_t))
        return renumber(graph, [merged if o is op else o for o in graph.operators if o is not first])


@register_pass
class TransposeIntoFullyConnected(GraphPass):
    """TRANSPOSE -> (RESHAPE ->) FULLY_CONNECTED on int8 (a PyTorch flatten of an NCHW tensor before a linear
    layer): the FC reads the untransposed tensor and its weight columns are permuted instead. Exact: int8 sums
    are order-independent and the filter sums do not change."""

    name = "transpose-into-fully-connected"

    def _chain(self, graph: ir.Graph, op: ir.Operator) -> tuple[ir.Operator, ir.Operator | None, np.ndarray] | None:
        perm = _perm(graph, op)
        if perm is None:
            return None
        x, t_out = graph.tensors[op.inputs[0]], op.outputs[0]
        if x.dtype is not ir.DType.INT8 or t_out in graph.outputs or len(graph.consumers.get(t_out, [])) != 1:
            return None
        nxt = graph.consumers[t_out][0]
        reshape = None
        if isinstance(nxt, ir.Reshape):
            r_out = nxt.outputs[0]
            if r_out in graph.outputs or len(graph.consumers.get(r_out, [])) != 1:
                return None
            reshape, nxt = nxt, graph.consumers[r_out][0]
        if not isinstance(nxt, ir.FullyConnected) or nxt.keep_num_dims:
            return None
        w = graph.tensors[nxt.inputs[1]]
        if w.data is None or w.data.ndim != 2 or w.data.shape[1] != x.size or x.shape[:1] not in ((1,), ()):
            return None
        fc_in = graph.tensors[nxt.inputs[0]]
        if fc_in.quant != x.quant or graph.tensors[t_out].quant != x.quant:
            return None
        src = np.transpose(np.arange(x.size).reshape(x.shape), perm).reshape(-1)  # FC column p reads x[src[p]]
        return nxt, reshape, src

    def match(self, graph: ir.Graph, op: ir.Operator) -> bool:
        return self._chain(graph, op) is not None

    def transform(self, graph: ir.Graph, op: ir.Operator) -> ir.Graph:
        found = self._chain(graph, op)
        if found is None:
            raise RuntimeError(f"operator {op.index} matched but is no TRANSPOSE -> FULLY_CONNECTED chain")
        fc, reshape, src = found
        w = graph.tensors[fc.inputs[1]]
        data = np.empty_like(w.data)
        data[:, src] = w.data
        data.setflags(write=False)
        new_w = replace(w, index=len(graph.tensors), name=f"{w.name}/columns_permuted", data=data)
        x = op.inputs[0]
        new_fc = replace(fc, inputs=(x, new_w.index, *fc.inputs[2:]))
        drop = {id(op), id(reshape)} if reshape is not None else {id(op)}
        ops = [new_fc if o is fc else o for o in graph.operators if id(o) not in drop]
        return renumber(replace(graph, tensors=(*graph.tensors, new_w)), ops)
