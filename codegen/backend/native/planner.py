"""Static memory planner: one arena, offsets from buffer lifetimes.

Buffers are the non-constant tensors (RESHAPE/SQUEEZE outputs share their input's buffer), each layer's
scratch, and each layer's decode buffers (constants stored compressed and decoded right before their layer).
Buffers are placed greedily, largest first, at the lowest 16-byte-aligned offset that does not collide with
an already placed buffer whose lifetime overlaps. The result is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen import ir
from codegen.backend.native.layers import Layer

ALIGN = 16


def align(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


@dataclass(frozen=True)
class Buffer:
    """A region of the arena: ``kind`` is "tensor", "scratch" or "decode"."""

    key: str
    kind: str
    size: int
    first: int  # first layer that needs it (-1: before the first layer, i.e. a graph input)
    last: int  # last layer that needs it (number of layers for graph outputs)
    offset: int = 0
    tensors: tuple[int, ...] = ()


@dataclass(frozen=True)
class MemoryPlan:
    arena_bytes: int
    buffers: tuple[Buffer, ...]
    tensor_offsets: tuple[tuple[int, int], ...]  # (tensor index, arena offset)
    scratch_offsets: tuple[tuple[int, int], ...]  # (layer index, arena offset)
    decode_offsets: tuple[tuple[str, int], ...] = ()  # (constant name, arena offset)

    def tensor_offset(self, tensor: int) -> int:
        return dict(self.tensor_offsets)[tensor]

    def scratch_offset(self, layer: int) -> int:
        return dict(self.scratch_offsets)[layer]

    def decode_offset(self, name: str) -> int:
        return dict(self.decode_offsets)[name]

    @property
    def tensor_bytes(self) -> int:
        return sum(b.size for b in self.buffers if b.kind == "tensor")


def _find(parent: dict[int, int], t: int) -> int:
    while parent.get(t, t) != t:
        t = parent[t]
    return t


def plan_layers(
    graph: ir.Graph,
    layers: tuple[Layer, ...] | list[Layer],
    decoded: dict[int, list[tuple[str, int]]] | None = None,
    init_only: list[tuple[str, int]] | None = None,
) -> MemoryPlan:
    """Plan the arena for lowered ``layers``; ``decoded`` maps layer index -> [(constant name, bytes)] decoded
    right before that layer; ``init_only`` lists [(name, bytes)] used only inside ``P_init`` (before any input
    is written), which may overlap everything else. Both are looked up with :meth:`MemoryPlan.decode_offset`."""
    n = len(layers)
    parent: dict[int, int] = {}
    for layer in layers:
        if layer.alias_of >= 0:
            parent[layer.output] = _find(parent, layer.alias_of)

    first: dict[int, int] = {}
    last: dict[int, int] = {}

    def touch(t: int, pos: int) -> None:
        if t < 0 or graph.tensors[t].is_constant:
            return
        r = _find(parent, t)
        first[r] = min(first.get(r, pos), pos)
        last[r] = max(last.get(r, pos), pos)

    for t in graph.inputs:
        touch(t, -1)
    for pos, (op, layer) in enumerate(zip(graph.operators, layers, strict=True)):
        for t in (*op.inputs, *op.outputs):
            touch(t, pos)
        del layer
    for t in graph.outputs:
        touch(t, n)

    members: dict[int, list[int]] = {}
    for t in sorted({*first, *parent}):
        if graph.tensors[t].is_constant:
            continue
        members.setdefault(_find(parent, t), []).append(t)

    buffers: list[Buffer] = []
    for root in sorted(first):
        size = max(graph.tensors[t].nbytes for t in members.get(root, [root]))
        buffers.append(
            Buffer(
                f"t{root}",
                "tensor",
                align(size),
                first[root],
                last[root],
                tensors=tuple(sorted(members.get(root, [root]))),
            )
        )
    for pos, layer in enumerate(layers):
        if layer.scratch_bytes > 0:
            buffers.append(Buffer(f"s{layer.index}", "scratch", align(layer.scratch_bytes), pos, pos))
        for name, nbytes in (decoded or {}).get(layer.index, []):
            buffers.append(Buffer(f"d:{name}", "decode", align(nbytes), pos, pos))
    for name, nbytes in init_only or []:
        buffers.append(Buffer(f"d:{name}", "decode", align(nbytes), -2, -2))

    placed = _place(buffers)
    arena = max((b.offset + b.size for b in placed), default=0)
    tensor_offsets = sorted((t, b.offset) for b in placed if b.kind == "tensor" for t in b.tensors)
    scratch = sorted((int(b.key[1:]), b.offset) for b in placed if b.kind == "scratch")
    decode = sorted((b.key[2:], b.offset) for b in placed if b.kind == "decode")
    return MemoryPlan(align(arena), tuple(placed), tuple(tensor_offsets), tuple(scratch), tuple(decode))


def _place(buffers: list[Buffer]) -> list[Buffer]:
    order = sorted(buffers, key=lambda b: (-b.size, b.first, b.key))
    placed: list[Buffer] = []
    for b in order:
        clashes = sorted(
            (p for p in placed if p.first <= b.last and b.first <= p.last), key=lambda p: p.offset
        )
        offset = 0
        for p in clashes:
            if offset + b.size <= p.offset:
                break
            offset = max(offset, align(p.offset + p.size))
        placed.append(Buffer(b.key, b.kind, b.size, b.first, b.last, offset, b.tensors))
    return sorted(placed, key=lambda b: (b.offset, b.key))


def plan(graph: ir.Graph) -> MemoryPlan:
    """Run the native passes, lower ``graph`` and plan its arena (what ``codegen analyze`` reports as the
    planned peak)."""
    from codegen.backend.native.program import lower_graph, native_graph

    graph = native_graph(graph)
    return plan_layers(graph, lower_graph(graph).layers)
