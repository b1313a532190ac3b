"""How many output channels a convolution that expands its weights per block (``cg_conv2d_dsp_sparse_s8``,
:mod:`.lower.conv_blocks`) expands at a time, chosen from the arena's free space at that layer (issue #16).

Each such layer comes from the lowering with one block (all its channels) and its dense alternative
(``Layer.raw``: 16-bit weights in flash). Against the plan of the network with every one of them dense (the
``base`` arena: what the same model takes without compression), each layer gets, in this order:

* one block, if its whole scratch (patches, sums and all its weights expanded to 16 bits) fits the largest free
  run of the arena at that layer, the arena allowed to grow by at most ``budget`` bytes: the dense kernel's speed,
  and it may run in place like it (one pass over the pixels);
* else as many groups of 4 channels per block as fit (never in place: an output the dense plan writes over its
  input needs room of its own), if the patches rebuilt once per extra block cost at most
  :data:`MAX_INSTRUCTIONS_PER_BYTE` instructions per byte of flash saved;
* else its dense weights (no RAM, more flash, full speed).

The final plan is checked: while it exceeds ``base + budget`` (a placement differs from the base one), the
blocked layer with the largest scratch goes back to its dense weights. Then, since the planner places buffers
anew for other scratch sizes, each layer that did not get one block is tried again with larger blocks (one block
first, then the largest count found by bisection), each kept if it takes fewer passes over the pixels and the
whole plan stays within ``base + budget``. A block count is always the smallest with its number of passes (13 of
16 groups becomes 8: two passes either way, less RAM).
"""

from __future__ import annotations

import logging

from codegen import ir
from codegen.backend.native.layers import Layer
from codegen.backend.native.lower import conv_blocks
from codegen.backend.native.planner import MemoryPlan, align, plan_layers

log = logging.getLogger(__name__)

#: bytes the expanded blocks may add to the arena over the network with dense weights (issue #16: ``--decode``
#: never silently adds more than a few KB)
BLOCK_BUDGET_BYTES = 2 * 1024


def largest_gap(plan: MemoryPlan, pos: int, skip: str, cap: int) -> int:
    """Largest run of bytes in ``[0, cap)`` that no buffer alive at layer position ``pos`` uses, buffer ``skip``
    (the layer's own scratch) left out."""
    live = sorted((b.offset, b.offset + b.size) for b in plan.buffers if b.first <= pos <= b.last and b.key != skip)
    best, at = 0, 0
    for lo, hi in live:
        if lo > at:
            best = max(best, lo - at)
        at = max(at, align(hi))
    return max(best, cap - at)


#: instructions (Cortex-M4) to rebuild the 16-bit patches of a pixel pair, per accumulation step: what every block
#: after the first costs (cg_conv2d_dsp.h put2: two loads, four SXTB16 and four stores per 4 steps, plus the loop)
PATCH_INSTRUCTIONS_PER_STEP = 3.25
#: several blocks are used only while the patches rebuilt cost at most this many instructions per inference for
#: each byte of flash the compressed weights save over the dense ones (else the layer keeps dense weights)
MAX_INSTRUCTIONS_PER_BYTE = 32


def _pays(graph: ir.Graph, layer: Layer, raw: Layer, block_groups: int) -> bool:
    """Whether blocks of ``block_groups`` groups are worth their patches rebuilt, against dense weights."""
    _, groups, kp = conv_blocks.groups_of(layer)
    out = graph.tensors[layer.output]
    pixels = out.size // max(out.shape[-1], 1)
    extra = (-(-groups // block_groups) - 1) * (pixels + 1) // 2 * kp * PATCH_INSTRUCTIONS_PER_STEP
    saved = sum(c.nbytes for c in raw.consts if c.weight) - sum(c.nbytes for c in layer.consts if c.weight)
    return saved > 0 and extra <= MAX_INSTRUCTIONS_PER_BYTE * saved


def _block_groups(layer: Layer, total: bool = False) -> int:
    """Groups of 4 channels per block of a blocked layer (``total``: all its groups); 0 for a dense one."""
    if layer.raw is None:
        return 0
    g, groups, _ = conv_blocks.groups_of(layer)
    return groups if total else g


def _grow(
    graph: ir.Graph,
    chosen: list[Layer],
    whole: Layer,
    pos: int,
    decoded: dict[int, list[tuple[str, int]]],
    init_only: list[tuple[str, int]],
    cap: int,
) -> tuple[list[Layer], MemoryPlan] | None:
    """``chosen`` with layer ``pos`` (``whole``: its one-block version) in larger blocks whose plan stays within
    ``cap``, and that plan; None if no larger block fits."""
    raw = whole.raw
    if raw is None:
        return None
    current, groups = _block_groups(chosen[pos]), _block_groups(whole, total=True)

    def trial(g: int) -> tuple[list[Layer], MemoryPlan] | None:
        layer = whole if g == groups else conv_blocks.with_block_groups(whole, g)
        if g < groups and not _pays(graph, layer, raw, g):
            return None
        layers = [*chosen[:pos], layer, *chosen[pos + 1 :]]
        plan = plan_layers(graph, layers, decoded, init_only)
        return (layers, plan) if plan.arena_bytes <= cap else None

    best = trial(groups)
    if best is not None:
        return best
    lo, hi, fit = current + 1, groups - 1, 0  # bisection: the largest block count that fits
    while lo <= hi:
        mid = (lo + hi) // 2
        if trial(mid) is None:
            hi = mid - 1
        else:
            fit, lo = mid, mid + 1
    if fit == 0 or _passes(fit, groups) >= _passes(max(current, 1), groups):
        return None  # no fewer passes over the pixels: keep the smaller scratch
    return trial(_balanced(fit, groups))


def _passes(block_groups: int, groups: int) -> int:
    return -(-groups // block_groups)


def _balanced(block_groups: int, groups: int) -> int:
    """The fewest groups per block that keep the passes of ``block_groups`` (e.g. 13 of 16 -> 8: two passes)."""
    return -(-groups // _passes(block_groups, groups))


def choose_blocks(
    graph: ir.Graph,
    layers: list[Layer],
    decoded: dict[int, list[tuple[str, int]]],
    init_only: list[tuple[str, int]],
    budget: int = BLOCK_BUDGET_BYTES,
) -> tuple[list[Layer], MemoryPlan]:
    """``layers`` with each blocked convolution given its block size (or its dense weights), and their plan."""
    blocked = [pos for pos, layer in enumerate(layers) if layer.raw is not None]
    dense = [layer.raw if layer.raw is not None else layer for layer in layers]
    base = plan_layers(graph, dense, decoded, init_only)
    if not blocked:
        return list(layers), base
    cap = base.arena_bytes + budget
    in_place = {o.output for o in base.in_place}
    chosen = list(layers)
    for pos in blocked:
        layer = layers[pos]
        raw = layer.raw
        if raw is None:  # for the type checker: blocked positions have one
            continue
        gap = largest_gap(base, pos, f"s{layer.index}", cap)
        _, groups, kp = conv_blocks.groups_of(layer)
        if align(conv_blocks.scratch_bytes(kp, groups)) <= gap:
            continue  # one block: the dense kernel's speed, in place like it
        # several blocks: never in place, so an output the dense plan ran in place needs room of its own
        room = gap - (align(graph.tensors[layer.output].nbytes) if f"t{layer.output}" in in_place else 0)
        fit = max((g for g in range(1, groups) if align(conv_blocks.scratch_bytes(kp, g)) <= room), default=0)
        fit = _balanced(fit, groups) if fit else 0
        if fit > 0 and _pays(graph, layer, raw, fit):
            chosen[pos] = conv_blocks.with_block_groups(layer, fit)
        else:
            chosen[pos] = raw
    while True:
        plan = plan_layers(graph, chosen, decoded, init_only)
        left = [pos for pos in blocked if chosen[pos].raw is not None]
        if plan.arena_bytes <= cap or not left:
            break
        worst = max(left, key=lambda p: (chosen[p].scratch_bytes, p))
        chosen[worst] = layers[worst].raw or chosen[worst]
    # the placement moves with the scratch sizes: grow each layer that did not get one block while the plan
    # stays within the cap (largest block count found by bisection, one block tried first)
    for pos in blocked:
        if chosen[pos].raw is not None and _block_groups(chosen[pos]) == _block_groups(layers[pos], total=True):
            continue
        better = _grow(graph, chosen, layers[pos], pos, decoded, init_only, cap)
        if better is not None:
            chosen, plan = better
    for pos in blocked:
        layer = chosen[pos]
        if layer.raw is None:
            log.info("layer %d: convolution weights dense (no room for blocks that pay)", layer.index)
        else:
            g, groups, _ = conv_blocks.groups_of(layer)
            log.info("layer %d: weights expanded in blocks of %d of %d groups of 4 channels", layer.index, g, groups)
    return chosen, plan
