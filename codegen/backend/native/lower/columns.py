"""Column-sparse convolutions (issue #16): the stream of ``cg_conv2d_dsp_cols_s8`` and when it pays.

A convolution's weights as the matrix [O, KH * KW * I] (TFLite's OHWI filter, im2col order (ky, kx, c)) are
*column-sparse* when whole columns are zero in every output channel: ``codegen train --prune-structure
2:4-layer`` keeps at most two columns per group of 4, the same for all filters. ``cg_conv2d_dsp_cols_s8`` then
gathers only the kept columns of each pixel into its patch and runs the dense 16-bit (or int8) pass on that
depth: both the im2col and the multiply loop shrink. The generator detects such weights in any model and takes
the kernel where its cost model says it takes fewer instructions than the kernel it replaces.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from codegen.backend.native.layers import Layer
from codegen.backend.native.lower.packing import fc_pairs_fit, pack_conv_s16, pad_to

KERNEL = "cg_conv2d_dsp_cols_s8"
HEADER = 2  # words before the offsets: D, flags
PAIRS = 1  # weight format: int8, two channels per 16-bit lane (0: int16, cg_conv2d_dsp_s8's order)
#: the paired format's sums hold 256 S[c+1] + S[c] in 32 bits: |S| <= 508 * 128 * 128 < 2^23 over at most this
#: many steps (int8 inputs times weights down to -128)
PAIRS_MAX_DEPTH = 508
MAX_OFFSET = 0xFFFF  # offsets and column indices are uint16

#: int8 weights where they cost at most this many instructions per inference per byte of flash they save (the
#: rule of :data:`sparse24.INT8_MAX_INSTRUCTIONS_PER_BYTE`)
INT8_MAX_INSTRUCTIONS_PER_BYTE = 8


def kept_columns(weights: np.ndarray) -> np.ndarray:
    """Indices of the columns of the OHWI ``weights`` ([O, KH * KW * I]) that are non-zero in some channel.

    >>> w = np.zeros((2, 1, 2, 3), dtype=np.int8); w[0, 0, 1, 2] = w[1, 0, 0, 0] = 1
    >>> kept_columns(w).tolist()
    [0, 5]
    """
    rows = weights.reshape(weights.shape[0], -1)
    return np.flatnonzero((rows != 0).any(axis=0))


def compact_depth(kept: int) -> int:
    """D: the kept columns padded to a multiple of 4 (at least 4)."""
    return max(4, pad_to(kept, 4))


def offsets(kept: np.ndarray, k_w: int, in_c: int, in_w: int, dilation_h: int, dilation_w: int) -> np.ndarray:
    """Per kept column (flattened index (ky KW + kx) I + c): its byte offset from the window's first input byte.

    >>> offsets(np.array([0, 5, 7]), 3, 2, 10, 1, 2).tolist()  # (0,0,0), (0,2,1), (1,0,1)
    [0, 9, 21]
    """
    ky, rest = np.divmod(kept.astype(np.int64), k_w * in_c)
    kx, c = np.divmod(rest, in_c)
    return (ky * dilation_h * in_w + kx * dilation_w) * in_c + c


def fits(weights: np.ndarray, in_w: int, dilation_h: int, dilation_w: int) -> bool:
    """The window's offsets and the column indices fit the stream's uint16 fields."""
    _, k_h, k_w, in_c = weights.shape
    dy, dx = (k_h - 1) * dilation_h, (k_w - 1) * dilation_w
    return (dy * in_w + dx) * in_c + in_c - 1 <= MAX_OFFSET and k_h * k_w * in_c - 1 <= MAX_OFFSET


def stage_fits(depth: int, columns: int) -> bool:
    """The D-step patch of two pixels (4 D bytes) and the stage of one window (``columns`` bytes) fit the patches
    of the densest stream (4 x ``columns`` padded to 4): D at most about 3/4 of the columns."""
    bound = pad_to(columns, 4)
    return 4 * depth + bound <= 4 * bound


def pack_pairs(rows: np.ndarray) -> np.ndarray:
    """[O, D] int8 weights (D a multiple of 4) as ``mac_pass_pairs`` reads them: channels in groups of 4 (zero rows
    pad the last), per group and per 4 steps k..k+3 the int16 lanes (v[k], v[k+2]) of the channel pairs (0, 1) and
    (2, 3), then (v[k+1], v[k+3]), v = 256 w[c+1] + w[c] (needs :func:`packing.fc_pairs_fit`).

    >>> w = np.zeros((2, 4), dtype=np.int8); w[0] = [1, 2, 3, 4]; w[1, 0] = -1
    >>> pack_pairs(w).view(np.int16).tolist()  # v = (-255, 2, 3, 4) for channels 0, 1; zero channels 2, 3
    [-255, 3, 0, 0, 2, 4, 0, 0]
    """
    o, d = rows.shape
    padded = np.zeros((pad_to(o, 4), d), dtype=np.int32)
    padded[:o] = rows
    v = (256 * padded[1::2] + padded[0::2]).astype(np.int16)  # [pairs, D]
    # [group, pair, block, step] with steps (0, 2, 1, 3) -> [group, block, half, pair, element]
    g = v.reshape(-1, 2, d // 4, 4)[:, :, :, [0, 2, 1, 3]].reshape(-1, 2, d // 4, 2, 2)
    return np.ascontiguousarray(g.transpose(0, 2, 3, 1, 4)).reshape(-1).astype("<i2")


def stream(weights: np.ndarray, in_w: int, dilation_h: int, dilation_w: int, fmt: int) -> np.ndarray:
    """The int32 stream ``cg_conv2d_dsp_cols_s8`` reads for OHWI int8 ``weights`` (see the kernel's comment): D,
    the flags, the uint16 input offsets in the patch order (per 4 compact steps k, k+2, k+1, k+3), the uint16
    column indices in the same order (windows crossing the border are gathered from a stage), the compact weights
    in the format ``fmt``: 0 cg_conv2d_dsp_s8's 16-bit order, :data:`PAIRS` :func:`pack_pairs`. Padding columns
    repeat the first kept column with zero weights.

    >>> w = np.zeros((1, 1, 3, 2), dtype=np.int8); w[0, 0, 1, 0] = 3; w[0, 0, 2, 1] = -1  # columns 2 and 5
    >>> s = stream(w, 8, 1, 1, 0)  # D = 4: columns 2, 5, then 2 twice (offsets 2, 2, 5, 2 in patch order)
    >>> s[:6].tolist()
    [4, 0, 131074, 131077, 131074, 131077]
    >>> s[6:].view(np.int16).tolist()[:10]  # (w[k], w[k+2]) of channels 0..3 (3 zero ones), then (w[k+1], w[k+3])
    [3, 0, 0, 0, 0, 0, 0, 0, -1, 0]
    """
    o, k_h, k_w, in_c = weights.shape
    kept = kept_columns(weights)
    if kept.size == 0:
        kept = np.array([0])
    depth = compact_depth(kept.size)
    cols = np.concatenate([kept, np.full(depth - kept.size, kept[0])])
    off = offsets(cols, k_w, in_c, in_w, dilation_h, dilation_w)
    rows = weights.reshape(o, -1)[:, cols].astype(np.int8)
    rows[:, kept.size :] = 0
    order = [0, 2, 1, 3]
    packed = pack_pairs(rows) if fmt == PAIRS else pack_conv_s16(rows).astype("<i2")
    words = np.concatenate([
        np.array([depth, fmt], dtype=np.uint32),
        off.reshape(-1, 4)[:, order].reshape(-1).astype("<u2").view(np.uint32),
        cols.reshape(-1, 4)[:, order].reshape(-1).astype("<u2").view(np.uint32),
        np.ascontiguousarray(packed).view(np.uint32),
    ])
    return words.view(np.int32)


def stream_words(depth: int, channels: int, fmt: int) -> int:
    """Length of :func:`stream` in int32 words."""
    cp = pad_to(channels, 4)
    return HEADER + depth + (cp * depth // 2 if fmt == 0 else cp * depth // 4)


def kept_bound(weights: np.ndarray) -> int:
    """Columns of the OHWI ``weights``: KH * KW * I."""
    return int(np.prod(weights.shape[1:]))


def scratch_bytes(k_h: int, k_w: int, in_c: int, out_c: int) -> int:
    """``cg_conv2d_dsp_cols_s8_get_scratch_size``: the patches of the densest stream (KH * KW * I steps padded to
    4; the kernel uses the first D) and the int32 sums of two pixels."""
    return 2 * pad_to(k_h * k_w * in_c, 4) * 2 + 2 * pad_to(out_c, 4) * 4


def cost(depth: int, channels: int, fmt: int) -> float:
    """Instructions of ``cg_conv2d_dsp_cols_s8`` per pixel pair: the gather (24 per 4 steps), the pass (per 4 steps
    and block of 4 channels 23.5 with int16 weights, 25.5 with :data:`PAIRS`; per block 14,
    40 with :data:`PAIRS`: its sums unfolded; LeNet-5's 6 -> 16 5x5 layer on the emulated Cortex-M4 took about 370
    instructions per pixel pair more with :data:`PAIRS` than with int16 weights) and the pixel-pair loop with its
    output stage (about 60 and 8 per channel)."""
    blocks = pad_to(channels, 4) // 4
    steps = depth // 4
    per_step, per_block = (25.5, 40) if fmt == PAIRS else (23.5, 14)
    return 60 + 24 * steps + blocks * (per_block + per_step * steps) + 8 * channels


def dense_cost(k_h: int, depth: int, channels: int, mac_pass: float | None = None) -> float:
    """Instructions per pixel pair of ``cg_conv2d_dsp_s8`` (``depth``: padded kernel rows; or
    ``cg_conv2d_dsp_c1_s8``, its packed taps): the im2col (12 per 4 steps, 10 per kernel row), the pass (or
    ``mac_pass`` instructions: a tile-wise 2:4 pass, lower/sparse24.py), the pixel-pair loop and output stage."""
    blocks = pad_to(channels, 4) // 4
    steps = depth // 4
    mac = blocks * (14 + 23.5 * steps) if mac_pass is None else mac_pass
    return 60 + 12 * steps + 10 * k_h + mac + 8 * channels


#: the column kernel is taken where it costs at most this share of the kernel it replaces (the cost model's
#: margin: a layer with few zero columns keeps its kernel)
MAX_RATIO = 0.9


def choice(weights: np.ndarray, in_w: int, dilation_h: int, dilation_w: int, other: float,
           pixel_pairs: int) -> tuple[np.ndarray, float] | None:
    """The stream of ``cg_conv2d_dsp_cols_s8`` for OHWI ``weights`` and the instructions per inference it saves,
    when it takes at most :data:`MAX_RATIO` of ``other`` instructions per pixel pair (the kernel otherwise chosen,
    :func:`dense_cost`; ``pixel_pairs`` per inference), else None. int8
    weights (:data:`PAIRS`, where the channel pairs fit 16 bits and D is at most :data:`PAIRS_MAX_DEPTH`) where
    they cost at most :data:`INT8_MAX_INSTRUCTIONS_PER_BYTE` per byte of flash saved over int16 ones
    (``pixel_pairs`` per inference)."""
    o = weights.shape[0]
    kept = kept_columns(weights)
    depth = compact_depth(kept.size)
    if kept.size == 0 or not fits(weights, in_w, dilation_h, dilation_w) or not stage_fits(depth, kept_bound(weights)):
        return None
    c16 = cost(depth, o, 0)
    if c16 > MAX_RATIO * other:
        return None
    fit = fc_pairs_fit(weights.reshape(o, -1)[:, kept]) and depth <= PAIRS_MAX_DEPTH
    saved = pad_to(o, 4) * depth  # bytes: one per weight
    int8 = fit and (cost(depth, o, PAIRS) - c16) * pixel_pairs <= INT8_MAX_INSTRUCTIONS_PER_BYTE * saved
    fmt = PAIRS if int8 else 0
    return stream(weights, in_w, dilation_h, dilation_w, fmt), (other - cost(depth, o, fmt)) * pixel_pairs


#: flash of the kernel's code (SqueezeNet's tile-wise 2:4 model with one column-sparse layer: +2,924 B)
CODE_BYTES = 2900
#: flash of the code of other column kernels, by name (lower/columns_s8.py: the portable one)
OTHER_CODE_BYTES: dict[str, int] = {}


def settle(layers: tuple[Layer, ...]) -> tuple[Layer, ...]:
    """``layers`` with a column kernel kept only where all its layers together save at least
    :data:`INT8_MAX_INSTRUCTIONS_PER_BYTE` instructions per inference per byte of its code (:data:`CODE_BYTES`,
    :data:`OTHER_CODE_BYTES`); else every such layer takes its ``plain`` variant (the kernel it would otherwise run)."""
    saved: dict[str, float] = {}
    for layer in layers:
        if layer.plain is not None:
            saved[layer.kernels[0]] = saved.get(layer.kernels[0], 0.0) + layer.plain[1]
    pays = {k for k, s in saved.items() if s >= INT8_MAX_INSTRUCTIONS_PER_BYTE * OTHER_CODE_BYTES.get(k, CODE_BYTES)}
    return tuple(layer if layer.plain is None else replace(layer, plain=None) if layer.kernels[0] in pays
                 else layer.plain[0] for layer in layers)


def read_bytes(p_filter_n: int, p_input_w: int, p_input_c: int, p_filter_h: int, p_filter_w: int,
               dilation_h: int, dilation_w: int, values: np.ndarray) -> int | None:
    """Bytes ``cg_conv2d_dsp_cols_s8`` reads from its stream ``values`` (int32), or None where it would read
    outside it or outside the window (an offset or span that does not match the layer)."""
    if values.size < HEADER:
        return None
    depth, flags = int(values[0]), int(values[1])
    bound = pad_to(p_filter_h * p_filter_w * p_input_c, 4)
    if depth < 4 or depth % 4 or depth > bound or flags not in (0, PAIRS):
        return None
    words = stream_words(depth, p_filter_n, flags)
    if words > values.size:
        return None
    u = values.view(np.uint32)
    fast = u[HEADER : HEADER + depth // 2].view("<u2").astype(np.int64)
    cols = u[HEADER + depth // 2 : HEADER + depth].view("<u2").astype(np.int64)
    dy, dx = (p_filter_h - 1) * dilation_h, (p_filter_w - 1) * dilation_w
    window = (dy * p_input_w + dx) * p_input_c + p_input_c  # bytes from the window's first one to past its last
    columns = p_filter_h * p_filter_w * p_input_c
    if int(fast.max()) >= window or int(cols.max()) >= columns or not stage_fits(depth, columns):
        return None
    return 4 * words
