"""Tile-wise 2:4 sparse weights (issue #16): the layouts of ``cg_conv2d_dsp_24_s8`` and when it pays.

A weight matrix [O, K] (K padded to a multiple of 4) is *tile-wise 2:4* when, in every group of 4 consecutive
steps k..k+3 and every block of 4 output channels (the channels the DSP kernels compute together), at most two
positions hold a non-zero weight in any channel of the block. Every row is then valid 2:4 (what tfmot and
TFLite see), and the kernels multiply only the two kept positions, with one pair of activations per group that
serves the four channels. ``codegen train --prune-structure 2:4-tile`` trains such weights; the generator
detects them (any model) and uses the sparse kernel where it takes fewer instructions than the dense one.
"""

from __future__ import annotations

import numpy as np

from codegen.backend.native.layers import ConstArray, ConstRef, KernelCall, Layer, ScratchRef, TensorRef
from codegen.backend.native.lower.packing import fc_pairs_fit, pad_to

BLOCK = 4  # output channels per block (the DSP kernels' register block)
KERNEL = "cg_conv2d_dsp_24_s8"
RUNS_KERNEL = "cg_conv2d_dsp_24r_s8"

#: the kept positions (i, j) of a group, in the order of their activation words in the kernel's scratch:
#: (0, 2) and (1, 3) are the dense patch words, the others the kernel's extension of the patch
PATTERNS = ((0, 2), (1, 3), (0, 1), (2, 3), (0, 3), (1, 2))
MAX_OFFSET = 0xFFFF  # activation offsets are stored as 16-bit halves of a word
# int8 weights paired two units per 16-bit lane: |S[u+1]| < 2^23 over at most this many groups of 4 steps
FC_MAX_GROUPS = 255


def block_patterns(rows: np.ndarray) -> list[list[tuple[int, int]]] | None:
    """Per block of 4 rows of ``rows`` ([O, K] with K a multiple of 4, zero rows padding the last block), the
    (group, pattern index) of every group with a non-zero weight, or None when some group of some block has
    non-zero weights at more than two positions.

    >>> w = np.zeros((4, 8), dtype=np.int8); w[0, 1] = w[3, 2] = w[2, 4] = 5
    >>> block_patterns(w)  # group 0 keeps (1, 2); group 1 only position 0: (0, 2)
    [[(0, 5), (1, 0)]]
    >>> w[1, 3] = 1; block_patterns(w) is None
    True
    """
    o, k = rows.shape
    padded = np.zeros((pad_to(o, BLOCK), k), dtype=bool)
    padded[:o] = rows != 0
    used = padded.reshape(-1, BLOCK, k // 4, 4).any(axis=1)  # [block, group, position]
    if int(used.sum(axis=2).max(initial=0)) > 2:
        return None
    out = []
    for blk in used:
        entries = []
        for g, pos in enumerate(blk):
            kept = tuple(int(i) for i in np.flatnonzero(pos))
            if not kept:
                continue
            entries.append((g, PATTERNS.index(_pattern(kept))))
        out.append(entries)
    return out


def _pattern(kept: tuple[int, ...]) -> tuple[int, int]:
    """A pattern holding the kept positions; (0, 2) or (1, 3) when they fit (no patch extension needed)."""
    if len(kept) == 2:
        return (kept[0], kept[1])
    return (0, 2) if kept[0] in (0, 2) else (1, 3)


def conv_stream(rows: np.ndarray, blocks: list[list[tuple[int, int]]], padded_channels: int,
                int8: bool = False) -> np.ndarray:
    """The int32 stream ``cg_conv2d_dsp_24_s8`` reads (``rows``: [O, K] int8, kernel rows padded to 4 steps):
    the flags word (bit 0: some pattern needs the patch extension; bit 1: int8 weights), then per block the
    number of entries and the entries in pairs (offsets word, the first entry's weights, the second's; an odd
    last entry with its own offset word). Weights per entry: the 4 channels' int16 pairs (w[i], w[j]), or int8:
    per unit pair (0, 1), (2, 3) the 16-bit lanes v = 256 * w[c + 1] + w[c] at i and j (one byte per weight).

    >>> w = np.zeros((4, 4), dtype=np.int8); w[:, 1] = [1, 2, 3, 4]; w[:, 3] = -1
    >>> conv_stream(w, block_patterns(w), 4).tolist()  # (1, 3) at offset 8, pairs (c + 1, -1)
    [0, 1, 8, -65535, -65534, -65533, -65532]
    >>> [hex(int(v) & 0xFFFFFFFF) for v in conv_stream(w, block_patterns(w), 4, int8=True)]
    ['0x2', '0x1', '0x8', '0xfeff0201', '0xfeff0403']
    """
    k = rows.shape[1]
    ext = 4 * k + 8 * padded_channels  # the extension starts after the patch (16 B per group) and the sums
    padded = np.zeros((padded_channels, k), dtype=np.int64)
    padded[: rows.shape[0]] = rows
    flags = int(any(p >= 2 for blk in blocks for _, p in blk)) | (2 if int8 else 0)
    words: list[int] = [flags]
    for b, entries in enumerate(blocks):
        w = padded[BLOCK * b : BLOCK * (b + 1)]
        words.append(len(entries))
        for e in range(0, len(entries), 2):
            offs, weights = [], []
            for g, p in entries[e : e + 2]:
                i, j = PATTERNS[p]
                offs.append(16 * g + 8 * p if p < 2 else ext + 32 * g + 8 * (p - 2))
                wi, wj = w[:, 4 * g + i], w[:, 4 * g + j]
                if int8:  # unit pairs (c, c + 1): 16-bit lanes 256 * w[c + 1] + w[c] (needs fc_pairs_fit)
                    vi, vj = 256 * wi[1::2] + wi[0::2], 256 * wj[1::2] + wj[0::2]
                    weights += [(int(vi[q]) & 0xFFFF) | (int(vj[q]) & 0xFFFF) << 16 for q in range(2)]
                else:
                    weights += [(int(wi[c]) & 0xFFFF) | (int(wj[c]) & 0xFFFF) << 16 for c in range(BLOCK)]
            words += [offs[0] | (offs[1] << 16 if len(offs) > 1 else 0), *weights]
    return np.array(words, dtype=np.uint32).view(np.int32)


RUN_OF = {0: 0, 1: 0, 2: 1, 3: 2, 4: 3, 5: 4}  # pattern index -> run of cg_conv2d_dsp_24r_s8


def conv_runs_stream(rows: np.ndarray, blocks: list[list[tuple[int, int]]], padded_channels: int) -> np.ndarray:
    """The int32 stream ``cg_conv2d_dsp_24r_s8`` reads: the flags word (4), then per block the mask of its
    non-empty runs and the runs (patterns (0, 2) and (1, 3); (0, 1); (2, 3); (0, 3); (1, 2)), each entry the byte
    offset of its activation words (bit 0: the run's last entry) and the 4 channels' int16 pairs (w[i], w[j]).

    >>> w = np.zeros((4, 8), dtype=np.int8); w[:, 1] = 1; w[:, 3] = 2; w[:, 4] = 3; w[:, 5] = -1
    >>> conv_runs_stream(w, block_patterns(w), 4).tolist()  # group 0 (1, 3) in run 0, group 1 (0, 1) in run 1
    [4, 3, 9, 131073, 131073, 131073, 131073, 17, -65533, -65533, -65533, -65533]
    """
    k = rows.shape[1]
    padded = np.zeros((padded_channels, k), dtype=np.int64)
    padded[: rows.shape[0]] = rows
    words: list[int] = [4]
    for b, entries in enumerate(blocks):
        w = padded[BLOCK * b : BLOCK * (b + 1)]
        runs: list[list[int]] = [[] for _ in range(5)]
        for g, p in entries:
            i, j = PATTERNS[p]
            run = runs[RUN_OF[p]]
            run.append(16 * g + 8 * p if p < 2 else 16 * g)
            run += [(int(w[c, 4 * g + i]) & 0xFFFF) | (int(w[c, 4 * g + j]) & 0xFFFF) << 16 for c in range(BLOCK)]
        words.append(sum(1 << r for r in range(5) if runs[r]))
        for run in runs:
            if run:
                run[-5] |= 1  # the run's last entry
                words += run
    return np.array(words, dtype=np.uint32).view(np.int32)


def runs_cost(blocks: list[list[tuple[int, int]]]) -> float:
    """Instructions of ``cg_conv2d_dsp_24r_s8``'s pass per pixel pair: 16 per entry of the patterns (0, 2) and
    (1, 3), 18 for the others, about 40 per block (its five runs checked)."""
    return sum(40 + sum(16.0 if p < 2 else 18.0 for _, p in blk) for blk in blocks)


#: the runs kernel (no patch extension: no scratch beyond the dense kernel's) is taken while it costs at most this
#: factor of the extended pass's instructions (layers with few blocks of output channels, where the extension is
#: shared by few blocks)
RUNS_MAX_RATIO = 1.1


def conv_scratch_extra(k: int) -> int:
    """Bytes ``cg_conv2d_dsp_24_s8`` adds to the dense kernel's scratch: the patch extension, 32 B per group."""
    return 8 * k


def dense_cost(blocks: int, k: int) -> float:
    """Instructions of ``cg_conv2d_dsp_s8``'s pass per pixel pair: 47 per 8 steps, about 14 per block."""
    return blocks * (14 + 23.5 * (k // 4))


def sparse_cost(blocks: list[list[tuple[int, int]]], k: int, int8: bool) -> float:
    """Instructions of ``cg_conv2d_dsp_24_s8``'s pass per pixel pair, fitted to the emulated Cortex-M4: 13 per
    group for the patch extension (when needed), 13 per entry and 24 per block with int16 weights, 14 per entry
    and 50 per block (the sums of the unit pairs unfolded) with int8 ones."""
    ext = 13 * (k // 4) if any(p >= 2 for blk in blocks for _, p in blk) else 0
    return ext + sum((50 if int8 else 24) + (14.0 if int8 else 13.0) * len(blk) for blk in blocks)


def conv_offsets_fit(k: int, padded_channels: int) -> bool:
    """The largest activation offset fits the stream's 16-bit halves."""
    return 4 * k + 8 * padded_channels + 8 * k <= MAX_OFFSET


#: int8 weights (10 instead of 18 bytes per entry) where they cost at most this many instructions per inference
#: for each byte of flash they save over int16 ones: layers on small feature maps (few pixel pairs)
INT8_MAX_INSTRUCTIONS_PER_BYTE = 8


def conv_choice(rows: np.ndarray, channels: int, pixel_pairs: int) -> tuple[str, np.ndarray] | None:
    """(kernel, stream) for these [O, K] weights when they are tile-wise 2:4 and a 2:4 pass takes fewer
    instructions than the dense one (:func:`sparse_cost`), else None (the dense kernel).

    ``cg_conv2d_dsp_24_s8`` with int8 weights (a unit pair's two weights in a 16-bit lane) where that fits (no
    -128 paired with a negative weight, at most 255 groups) and costs at most
    :data:`INT8_MAX_INSTRUCTIONS_PER_BYTE` per byte saved (the layer runs ``pixel_pairs`` pixel pairs per
    inference); else ``cg_conv2d_dsp_24r_s8`` (no patch extension, int16 weights) where the extension would be
    needed and the runs cost at most :data:`RUNS_MAX_RATIO` of the extended pass; else ``cg_conv2d_dsp_24_s8``
    with int16 weights."""
    k = rows.shape[1]
    cp = pad_to(channels, BLOCK)
    blocks = block_patterns(rows)
    if blocks is None or not conv_offsets_fit(k, cp):
        return None
    dense, c16, c8 = dense_cost(len(blocks), k), sparse_cost(blocks, k, False), sparse_cost(blocks, k, True)
    saved = 8 * sum(len(blk) for blk in blocks)
    int8 = (fc_pairs_fit(rows) and k // 4 <= FC_MAX_GROUPS and c8 < dense
            and (c8 - c16) * pixel_pairs <= INT8_MAX_INSTRUCTIONS_PER_BYTE * saved)
    extended = any(p >= 2 for blk in blocks for _, p in blk)
    cr = runs_cost(blocks)
    if not int8 and extended and cr <= RUNS_MAX_RATIO * c16 and cr < dense:
        return RUNS_KERNEL, conv_runs_stream(rows, blocks, cp)
    if not int8 and c16 >= dense:
        return None
    return KERNEL, conv_stream(rows, blocks, cp, int8)


def conv_roomy(rows: np.ndarray, channels: int, pixel_pairs: int) -> np.ndarray | None:
    """Where :func:`conv_choice` takes ``cg_conv2d_dsp_24r_s8`` (no patch extension): the int8 stream of
    ``cg_conv2d_dsp_24_s8`` (10 bytes per entry instead of 20, :func:`conv_scratch_extra` more scratch) when it fits
    and costs at most :data:`INT8_MAX_INSTRUCTIONS_PER_BYTE` per byte saved over the runs, else None. The emitter
    takes it only where the extension does not grow the arena (``emitter.choose_roomy``)."""
    k = rows.shape[1]
    blocks = block_patterns(rows)
    if blocks is None or not fc_pairs_fit(rows) or k // 4 > FC_MAX_GROUPS:
        return None
    extra = (sparse_cost(blocks, k, True) - runs_cost(blocks)) * pixel_pairs
    if extra > INT8_MAX_INSTRUCTIONS_PER_BYTE * 10 * sum(len(blk) for blk in blocks):
        return None
    return conv_stream(rows, blocks, pad_to(channels, BLOCK), int8=True)


def fc_stream(rows: np.ndarray, blocks: list[list[tuple[int, int]]]) -> np.ndarray:
    """The int32 stream ``cg_fully_connected_dsp_24_s8`` reads (``rows``: [units, depth] int8, depth padded to
    a multiple of 4): per block of 4 units the group count n, n pattern bytes (every group, in order; a zero tile
    takes pattern 0) padded to whole words, then per group the words (v_i, v_j) of the unit pairs (0, 1) and
    (2, 3), v = 256 * w[u + 1] + w[u] (needs :func:`packing.fc_pairs_fit`).

    >>> w = np.zeros((2, 4), dtype=np.int8); w[0, 1] = 3; w[1, 2] = -1  # units 0, 1 keep (1, 2)
    >>> fc_stream(w, block_patterns(w)).tolist()  # v1 = 3, v2 = -256
    [1, 5, -16777213, 0]
    """
    groups = rows.shape[1] // 4
    padded = np.zeros((pad_to(rows.shape[0], BLOCK), rows.shape[1]), dtype=np.int64)
    padded[: rows.shape[0]] = rows
    words: list[int] = []
    for b, entries in enumerate(blocks):
        pats = [0] * groups
        for g, p in entries:
            pats[g] = p
        w = padded[BLOCK * b : BLOCK * (b + 1)]
        v = 256 * w[1::2] + w[0::2]  # [unit pair, depth]
        words.append(groups)
        words += np.frombuffer(bytes(pats + [0] * (-groups % 4)), dtype="<u4").tolist()
        for g, p in enumerate(pats):
            i, j = PATTERNS[p]
            words += [(int(v[q, 4 * g + i]) & 0xFFFF) | (int(v[q, 4 * g + j]) & 0xFFFF) << 16 for q in range(2)]
    return np.array(words, dtype=np.uint32).view(np.int32)


def fc_choice(weights: np.ndarray) -> np.ndarray | None:
    """The stream of ``cg_fully_connected_dsp_24_s8`` for [units, depth] int8 weights when they are tile-wise 2:4,
    fit its limits and the kernel takes fewer instructions than ``cg_fully_connected_dsp_s8``, else None."""
    units, depth = weights.shape
    rows = np.zeros((units, pad_to(depth, 4)), dtype=np.int8)
    rows[:, :depth] = weights
    groups = rows.shape[1] // 4
    if groups > FC_MAX_GROUPS or not fc_pairs_fit(rows):
        return None
    blocks = block_patterns(rows)
    if blocks is None:
        return None
    # per group: dense 31 instructions per 8 units; sparse 15 to widen the input once, 11 per block of 4
    if 15 + 11 * len(blocks) >= 31 * -(-units // 8):
        return None
    return fc_stream(rows, blocks)


FC_KERNEL = "cg_fully_connected_dsp_24_s8"


def fc_scratch_bytes(depth: int) -> int:
    """``cg_fully_connected_dsp_24_s8_get_scratch_size``: the six 16-bit pairs of every group of 4 inputs."""
    return 24 * (-(-depth // 4))


def fully_connected(
    index: int,
    stream: np.ndarray,
    depth: int,
    params: tuple[tuple[str, object], ...],
    consts: tuple[ConstArray, ...],
    tensors: tuple[int, int, int],
) -> Layer:
    """The layer calling ``cg_fully_connected_dsp_24_s8`` on ``stream`` (:func:`fc_choice`); ``consts`` are the
    folded bias, the multipliers and the shifts; ``tensors`` the input, filter and output tensor indices."""
    inp, filt, out = tensors
    call = KernelCall(
        FC_KERNEL,
        "cg_fully_connected_s8_params",
        params,
        (
            ("const int8_t *", TensorRef(inp)),
            ("const int32_t *", ConstRef(f"l{index}_filter")),
            ("const int32_t *", ConstRef(consts[0].name)),
            ("int8_t *", TensorRef(out)),
            ("int8_t *", ScratchRef()),
        ),
    )
    filt_const = ConstArray(f"l{index}_filter", stream, source_tensor=filt)
    return Layer(index, "FULLY_CONNECTED", "s8", (call,), (filt_const, *consts),
                 scratch_bytes=fc_scratch_bytes(depth), output=out)
