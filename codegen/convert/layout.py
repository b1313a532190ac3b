"""ONNX rewrites that keep the converted graph free of TRANSPOSE.

onnx2tf keeps 4D activations channel-last (NHWC). A PyTorch ``flatten`` of an NCHW tensor feeding a linear layer
(``Flatten``/``Reshape`` -> ``Gemm``/``MatMul``) reads the elements in C, H, W order, so onnx2tf has to put a
TRANSPOSE back to NCHW in front of the flatten. :func:`fold_flatten_transposes` moves that permutation into the
weights instead: the flatten reads an explicit NHWC ``Transpose`` of its input (which onnx2tf recognises as its
own layout, so no op is emitted) and the weight rows of the linear layer are permuted to H, W, C order. The
result computes the same function; the converted model has no TRANSPOSE before its classifier.

A ``Reshape`` whose target shape is computed (PyTorch's ``x.view(x.size(0), -1)`` exports
Shape/Gather/Unsqueeze/Concat) gets the constant target ``[1, K]`` (the batch is fixed to 1 by then), and nodes
left without a consumer are removed.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from codegen.convert.onnx_model import inferred_shapes

log = logging.getLogger(__name__)


def _channel_last_perm(rank: int) -> list[int]:
    return [0, *range(2, rank), 1]


def fold_flatten_transposes(proto: Any) -> tuple[Any, int]:
    """Return a rewritten copy of ``proto`` and the number of flatten -> linear pairs rewritten."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.ModelProto()
    model.CopyFrom(proto)
    g = model.graph
    shapes = inferred_shapes(model)
    inits = {i.name: i for i in g.initializer}
    consumers: dict[str, list[Any]] = {}
    for node in g.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    graph_outputs = {o.name for o in g.output}
    new_inits: list[Any] = []
    inserted: dict[int, Any] = {}  # index of the flatten node -> Transpose node to put before it
    count = 0
    for idx, node in enumerate(g.node):
        if node.op_type not in ("Flatten", "Reshape") or not node.input or not node.output:
            continue
        src, dst = node.input[0], node.output[0]
        in_shape, out_shape = shapes.get(src), shapes.get(dst)
        if in_shape is None or len(in_shape) not in (3, 4) or in_shape[0] != 1 or dst in graph_outputs:
            continue
        size = int(np.prod(in_shape))
        if node.op_type == "Flatten" and next((a.i for a in node.attribute if a.name == "axis"), 1) != 1:
            continue
        users = consumers.get(dst, [])
        if len(users) != 1:
            continue
        lin = users[0]
        weight = _linear_weight(lin, dst, inits)
        if weight is None:
            continue
        w_name, transposed = weight
        w = numpy_helper.to_array(inits[w_name])
        if w.ndim != 2 or w.shape[1 if transposed else 0] != size:
            continue
        # the flattened shape must be [1, K]; shape inference cannot always follow a computed Reshape target
        # (Shape -> Gather -> Concat), but a Gemm only takes 2-D inputs, so with K matching it must be [1, K]
        if out_shape != (1, size) and not (out_shape is None and lin.op_type == "Gemm"):
            continue
        c, spatial = in_shape[1], in_shape[2:]
        if transposed:  # Gemm transB=1: [N, K]
            n = w.shape[0]
            w_new = w.reshape(n, c, *spatial).transpose(0, *range(2, 2 + len(spatial)), 1).reshape(n, size)
        else:  # [K, N]
            n = w.shape[1]
            w_new = w.reshape(c, *spatial, n).transpose(*range(1, 1 + len(spatial)), 0, len(spatial) + 1)
            w_new = w_new.reshape(size, n)
        new_w = f"{w_name}__cl{count}"
        new_inits.append(numpy_helper.from_array(np.ascontiguousarray(w_new), new_w))
        for i, name in enumerate(lin.input):
            if name == w_name:
                lin.input[i] = new_w
        t_out = f"{src}__channel_last{count}"
        inserted[idx] = helper.make_node(
            "Transpose", [src], [t_out], perm=_channel_last_perm(len(in_shape)),
            name=f"{node.name or dst}__channel_last",
        )
        node.input[0] = t_out
        if node.op_type == "Reshape" and (len(node.input) < 2 or node.input[1] not in inits):
            target = f"{dst}__shape{count}"
            new_inits.append(numpy_helper.from_array(np.asarray([1, size], np.int64), target))
            node.input[1] = target
        count += 1
        log.info("flatten %s -> %s %s: weights permuted to channel-last order", node.name or dst, lin.op_type,
                 lin.name or lin.output[0])
    if not count:
        return model, 0
    nodes = []
    for idx, node in enumerate(g.node):
        if idx in inserted:
            nodes.append(inserted[idx])
        nodes.append(node)
    del g.node[:]
    g.node.extend(nodes)
    g.initializer.extend(new_inits)
    _remove_dead_nodes(g)
    used = {name for node in g.node for name in node.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    return model, count


def _remove_dead_nodes(graph: Any) -> None:
    """Drop nodes none of whose outputs is read (by a node or as a graph output), until none is left."""
    outputs = {o.name for o in graph.output}
    while True:
        used = outputs | {name for node in graph.node for name in node.input}
        keep = [n for n in graph.node if any(o in used for o in n.output)]
        if len(keep) == len(graph.node):
            return
        del graph.node[:]
        graph.node.extend(keep)


def _linear_weight(node: Any, src: str, inits: dict[str, Any]) -> tuple[str, bool] | None:
    """(weight initializer name, weight is [N, K]) when ``node`` is a linear layer reading ``src`` as its data."""
    attrs = {a.name: a for a in node.attribute}
    if node.op_type == "Gemm":
        if len(node.input) < 2 or node.input[0] != src or node.input[1] not in inits:
            return None
        if "transA" in attrs and attrs["transA"].i:
            return None
        return node.input[1], bool(attrs["transB"].i) if "transB" in attrs else False
    if node.op_type == "MatMul" and len(node.input) == 2 and node.input[0] == src and node.input[1] in inits:
        return node.input[1], False
    return None
