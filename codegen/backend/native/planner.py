"""Static memory planner: one arena, offsets from buffer lifetimes.

Buffers are the non-constant tensors (RESHAPE/SQUEEZE outputs share their input's buffer), each layer's
scratch, and each layer's decode buffers (constants stored compressed and decoded right before their layer).
Two buffers alive at the same layer never overlap, with one exception: a layer's output may overlap an input
that dies at that layer, as far as the kernel's access pattern allows (:mod:`.access`: the output placed at
most ``max_delta`` bytes above the input). Buffers are placed first-fit at the lowest 16-byte-aligned offset
that respects these constraints; several placement orders are tried and the smallest arena is kept (ties: the
first order in :data:`ORDERS`). The result is deterministic.

Variable (state) tensors, which TFLite marks ``is_variable`` (SVDF's activation state, LSTM's cell and output
state), keep their values from one inference to the next: they are not arena buffers but get fixed offsets in a
separate static state buffer (:func:`plan_state`), which ``P_init``/``P_reset`` clear.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from codegen import ir
from codegen.backend.native.access import in_place_options
from codegen.backend.native.layers import Layer

ALIGN = 16


def align(n: int, a: int = ALIGN) -> int:
    return (n + a - 1) // a * a


def align_down(n: int, a: int = ALIGN) -> int:
    return n // a * a


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
class Overlap:
    """Buffer ``output`` may start at most ``max_delta`` bytes above buffer ``input`` (negative: below), so that
    they overlap; ``input`` dies at the layer that writes ``output``."""

    input: str
    output: str
    max_delta: int


@dataclass(frozen=True)
class MemoryPlan:
    arena_bytes: int
    buffers: tuple[Buffer, ...]
    tensor_offsets: tuple[tuple[int, int], ...]  # (tensor index, arena offset)
    scratch_offsets: tuple[tuple[int, int], ...]  # (layer index, arena offset)
    decode_offsets: tuple[tuple[str, int], ...] = ()  # (constant name, arena offset)
    overlaps: tuple[Overlap, ...] = ()  # the in-place overlaps the planner was allowed to use
    order: str = "size"  # how the placement order that gave the smallest arena was found
    state_offsets: tuple[tuple[int, int], ...] = ()  # (variable tensor index, offset in the state buffer)
    state_bytes: int = 0  # the static state buffer (variable tensors), outside the arena

    def tensor_offset(self, tensor: int) -> int:
        return dict(self.tensor_offsets)[tensor]

    def scratch_offset(self, layer: int) -> int:
        return dict(self.scratch_offsets)[layer]

    def decode_offset(self, name: str) -> int:
        return dict(self.decode_offsets)[name]

    def state_offset(self, tensor: int) -> int:
        return dict(self.state_offsets)[tensor]

    def is_state(self, tensor: int) -> bool:
        return any(t == tensor for t, _ in self.state_offsets)

    @property
    def tensor_bytes(self) -> int:
        return sum(b.size for b in self.buffers if b.kind == "tensor")

    @property
    def in_place(self) -> tuple[Overlap, ...]:
        """The allowed overlaps the plan actually uses (the two buffers share bytes)."""
        at = {b.key: b for b in self.buffers}
        return tuple(
            o
            for o in self.overlaps
            if _intersect(at[o.input], at[o.output])
        )


def _intersect(a: Buffer, b: Buffer) -> bool:
    return a.offset < b.offset + b.size and b.offset < a.offset + a.size


def _find(parent: dict[int, int], t: int) -> int:
    while parent.get(t, t) != t:
        t = parent[t]
    return t


def plan_state(graph: ir.Graph) -> tuple[tuple[tuple[int, int], ...], int]:
    """Offsets of the variable tensors the operators read, in the static state buffer (in tensor order, each
    16-byte aligned), and the buffer's size. They persist across inferences, so they never share the arena."""
    used = sorted({t for op in graph.operators for t in op.inputs if t >= 0 and graph.tensors[t].is_variable})
    offsets, offset = [], 0
    for t in used:
        offsets.append((t, offset))
        offset += align(graph.tensors[t].nbytes)
    return tuple(offsets), offset


def plan_layers(
    graph: ir.Graph,
    layers: tuple[Layer, ...] | list[Layer],
    decoded: dict[int, list[tuple[str, int]]] | None = None,
    init_only: list[tuple[str, int]] | None = None,
    in_place: bool = True,
) -> MemoryPlan:
    """Plan the arena for lowered ``layers``; ``decoded`` maps layer index -> [(constant name, bytes)] decoded
    right before that layer; ``init_only`` lists [(name, bytes)] used only inside ``P_init`` (before any input
    is written), which may overlap everything else. Both are looked up with :meth:`MemoryPlan.decode_offset`.
    ``in_place=False`` forbids every overlap of live buffers (the plan before in-place execution)."""
    n = len(layers)
    parent: dict[int, int] = {}
    for layer in layers:
        if layer.alias_of >= 0:
            parent[layer.output] = _find(parent, layer.alias_of)

    first: dict[int, int] = {}
    last: dict[int, int] = {}

    def touch(t: int, pos: int) -> None:
        if t < 0 or graph.tensors[t].is_constant or graph.tensors[t].is_variable:
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

    overlaps: list[Overlap] = []
    if in_place:
        for pos, layer in enumerate(layers):
            for opt in in_place_options(graph, layer):
                src, dst = _find(parent, opt.input), _find(parent, opt.output)
                # only an input that dies here, written by nobody else, and whose buffer is not the output's
                if src == dst or last.get(src) != pos or first.get(dst) != pos:
                    continue
                overlaps.append(Overlap(f"t{src}", f"t{dst}", align_down(opt.max_delta)))
        overlaps = sorted(set(overlaps), key=lambda o: (o.input, o.output, o.max_delta))

    arena, order, placed = _search(buffers, overlaps)
    tensor_offsets = sorted((t, b.offset) for b in placed if b.kind == "tensor" for t in b.tensors)
    scratch = sorted((int(b.key[1:]), b.offset) for b in placed if b.kind == "scratch")
    decode = sorted((b.key[2:], b.offset) for b in placed if b.kind == "decode")
    state_offsets, state_bytes = plan_state(graph)
    result = MemoryPlan(
        arena, tuple(placed), tuple(tensor_offsets), tuple(scratch), tuple(decode), tuple(overlaps), order,
        state_offsets, state_bytes,
    )
    problems = violations(result)
    if problems:  # an invariant of the placement, not an input error
        raise RuntimeError("memory plan violates its constraints: " + "; ".join(problems[:3]))
    return result


#: Placement orders tried by :func:`plan_layers` (buffer -> sort key; ties broken by the buffer key).
ORDERS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first),
    "first use": lambda b: (b.first, -b.size),
    "last use, reversed": lambda b: (-b.last, -b.size),
    "lifetime": lambda b: (-(b.last - b.first), -b.size),
    "size x lifetime": lambda b: (-b.size * (b.last - b.first + 1), b.first),
}

#: Local search from each heuristic order: at most this many moves (one buffer moved elsewhere in the order,
#: half of the time one that ends at the top of the arena, moved earlier; kept if the arena does not grow),
#: fewer for big graphs so that planning stays around a second at most.
SEARCH_MOVES = 120
SEARCH_BUDGET = 2_000_000  # moves x buffers^2, per order
SEARCH_SEED = 0


def _arena(placed: list[Buffer]) -> int:
    return align(max((b.offset + b.size for b in placed), default=0))


def _search(buffers: list[Buffer], overlaps: list[Overlap]) -> tuple[int, str, list[Buffer]]:
    """Smallest arena over the heuristic orders, each improved by a seeded local search."""
    rng = random.Random(SEARCH_SEED)
    n = len(buffers)
    moves = min(SEARCH_MOVES, SEARCH_BUDGET // max(n * n, 1)) if n > 2 else 0
    best: tuple[int, str, list[Buffer]] = (0, "", [])
    for name, key in ORDERS.items():
        order = sorted(buffers, key=lambda b: (*key(b), b.key))
        placed = _place(order, overlaps, None)
        arena = _arena(placed)
        start = arena
        for _ in range(moves):
            if rng.random() < 0.5:
                top = {b.key for b in placed if align(b.offset + b.size) == arena}
                i = rng.choice([k for k, b in enumerate(order) if b.key in top])
                j = rng.randrange(i + 1)
            else:
                i, j = rng.randrange(n), rng.randrange(n)
            trial = list(order)
            trial.insert(j, trial.pop(i))
            t_placed = _place(trial, overlaps, None)
            t_arena = _arena(t_placed)
            if t_arena <= arena:
                arena, order, placed = t_arena, trial, t_placed
        how = f"{name} order" + (f", local search {start} -> {arena} B" if arena < start else "")
        if not best[1] or arena < best[0]:
            best = (arena, how, placed)
    return best


def _forbidden(b: Buffer, p: Buffer, allowed: dict[tuple[str, str], int]) -> tuple[int, int]:
    """Open interval of offsets of ``b`` that clash with the placed ``p`` (both alive at the same layer)."""
    if (p.key, b.key) in allowed:  # b is the output written over p
        d = max(allowed[(p.key, b.key)], -b.size)
        return p.offset + d, p.offset + p.size
    if (b.key, p.key) in allowed:  # b is the input p is written over
        d = max(allowed[(b.key, p.key)], -p.size)
        return p.offset - b.size, p.offset - d
    return p.offset - b.size, p.offset + p.size


def _place(
    buffers: list[Buffer],
    overlaps: list[Overlap] | tuple[Overlap, ...] = (),
    key: Callable[[Buffer], tuple] | None = ORDERS["size"],
) -> list[Buffer]:
    """First fit of ``buffers`` in the order of ``key`` (None: as given) at the lowest aligned offset that clashes
    with no placed buffer alive at the same time (allowed ``overlaps`` excepted)."""
    allowed = {(o.input, o.output): o.max_delta for o in overlaps}
    order = buffers if key is None else sorted(buffers, key=lambda b: (*key(b), b.key))
    placed: list[Buffer] = []
    for b in order:
        gaps = sorted(_forbidden(b, p, allowed) for p in placed if p.first <= b.last and b.first <= p.last)
        offset = 0
        for lo, hi in gaps:  # sorted by lo: offset stays outside every interval already passed
            if offset <= lo:
                break
            if offset < hi:
                offset = align(hi)
        placed.append(Buffer(b.key, b.kind, b.size, b.first, b.last, offset, b.tensors))
    return sorted(placed, key=lambda b: (b.offset, b.key))


def violations(plan: MemoryPlan) -> list[str]:
    """Every pair of buffers alive at the same layer that shares bytes without an allowed overlap (or beyond
    its ``max_delta``), and every misaligned buffer; empty for a valid plan."""
    allowed = {(o.input, o.output): o.max_delta for o in plan.overlaps}
    out: list[str] = []
    bufs = list(plan.buffers)
    for b in bufs:
        if b.offset % ALIGN or b.offset < 0 or b.offset + b.size > plan.arena_bytes:
            out.append(f"{b.key} at {b.offset} (+{b.size}) is misaligned or outside the arena")
    for i, a in enumerate(bufs):
        for b in bufs[i + 1 :]:
            if not (a.first <= b.last and b.first <= a.last) or not _intersect(a, b):
                continue
            for src, dst in ((a, b), (b, a)):
                d = allowed.get((src.key, dst.key))
                if d is not None and dst.offset - src.offset <= d:
                    break
            else:
                out.append(f"{a.key} [{a.offset}, {a.offset + a.size}) and {b.key} [{b.offset}, "
                           f"{b.offset + b.size}) overlap while both alive")
    return out


def plan(graph: ir.Graph, core: str | None = None) -> MemoryPlan:
    """Run the native passes, lower ``graph`` with the kernels a board with CPU ``core`` gets (None: the
    portable ones) and plan its arena (what ``codegen analyze`` reports as the planned peak)."""
    from codegen.backend.native.kernels import use_dsp
    from codegen.backend.native.program import lower_graph, native_graph

    graph = native_graph(graph)
    return plan_layers(graph, lower_graph(graph, use_dsp("auto", core)).layers)
