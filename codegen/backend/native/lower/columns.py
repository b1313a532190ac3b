"""Column-sparse convolutions (issue #16): the stream of ``cg_conv2d_dsp_cols_s8`` and when it pays.

A convolution's weights as the matrix [O, KH * KW * I] (TFLite's OHWI filter, im2col order (ky, kx, c)) are
*column-sparse* when whole columns are zero in every output channel: ``codegen train --prune-structure
2:4-layer`` keeps at most two columns per group of 4, the same for all filters. ``cg_conv2d_dsp_cols_s8`` then
gathers only the kept columns of each pixel into its patch and runs the dense 16-bit (or int8) pass on that
depth: both the im2col and the multiply loop shrink. The generator detects such weights in any model and takes
the kernel where its cost model says it takes fewer instructions than the kernel it replaces.
"""

from __future__ import annotations

import numpy as np

from codegen.backend.native.lower.packing import pack_conv_s16, pack_rows, pad_to

KERNEL = "cg_conv2d_dsp_cols_s8"
HEADER = 2  # words before the offsets: D, flags
INT8 = 1  # flags: int8 weights
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


def stream(weights: np.ndarray, in_w: int, dilation_h: int, dilation_w: int, int8: bool) -> np.ndarray:
    """The int32 stream ``cg_conv2d_dsp_cols_s8`` reads for OHWI int8 ``weights`` (see the kernel's comment): D,
    the flags, the uint16 input offsets in the patch order (per 4 compact steps k, k+2, k+1, k+3), the uint16
    column indices in the same order (windows crossing the border are gathered from a stage), the compact weights
    (cg_conv2d_dsp_s8's 16-bit order, or cg_conv2d_dsp_w8_s8's int8 order). Padding columns repeat the first
    kept column with zero weights.

    >>> w = np.zeros((1, 1, 3, 2), dtype=np.int8); w[0, 0, 1, 0] = 3; w[0, 0, 2, 1] = -1  # columns 2 and 5
    >>> s = stream(w, 8, 1, 1, False)  # D = 4: columns 2, 5, then 2 twice (offsets 2, 2, 5, 2 in patch order)
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
    packed = pack_rows(rows, 4) if int8 else pack_conv_s16(rows).astype("<i2")
    words = np.concatenate([
        np.array([depth, INT8 if int8 else 0], dtype=np.uint32),
        off.reshape(-1, 4)[:, order].reshape(-1).astype("<u2").view(np.uint32),
        cols.reshape(-1, 4)[:, order].reshape(-1).astype("<u2").view(np.uint32),
        np.ascontiguousarray(packed).view(np.uint32),
    ])
    return words.view(np.int32)


def stream_words(depth: int, channels: int, int8: bool) -> int:
    """Length of :func:`stream` in int32 words."""
    cp = pad_to(channels, 4)
    return HEADER + depth + (cp * depth // 4 if int8 else cp * depth // 2)


def kept_bound(weights: np.ndarray) -> int:
    """Columns of the OHWI ``weights``: KH * KW * I."""
    return int(np.prod(weights.shape[1:]))


def scratch_bytes(k_h: int, k_w: int, in_c: int, out_c: int) -> int:
    """``cg_conv2d_dsp_cols_s8_get_scratch_size``: the patches of the densest stream (KH * KW * I steps padded to
    4; the kernel uses the first D) and the int32 sums of two pixels."""
    return 2 * pad_to(k_h * k_w * in_c, 4) * 2 + 2 * pad_to(out_c, 4) * 4


def cost(depth: int, channels: int, int8: bool) -> float:
    """Instructions of ``cg_conv2d_dsp_cols_s8`` per pixel pair: the gather (24 per 4 steps), the pass (23.5 per
    4 steps and block of 4 channels with int16 weights, 31.5 with int8, 14 per block) and the pixel-pair loop
    with its output stage (about 60 and 8 per channel)."""
    blocks = pad_to(channels, 4) // 4
    steps = depth // 4
    return 60 + 24 * steps + blocks * (14 + (31.5 if int8 else 23.5) * steps) + 8 * channels


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
           pixel_pairs: int) -> np.ndarray | None:
    """The stream of ``cg_conv2d_dsp_cols_s8`` for OHWI ``weights`` when it takes at most :data:`MAX_RATIO` of
    ``other`` instructions per pixel pair (the kernel otherwise chosen, :func:`dense_cost`), else None. int8
    weights where they cost at most :data:`INT8_MAX_INSTRUCTIONS_PER_BYTE` per byte of flash saved over int16
    ones (``pixel_pairs`` per inference)."""
    o = weights.shape[0]
    kept = kept_columns(weights)
    depth = compact_depth(kept.size)
    if kept.size == 0 or not fits(weights, in_w, dilation_h, dilation_w) or not stage_fits(depth, kept_bound(weights)):
        return None
    c16, c8 = cost(depth, o, False), cost(depth, o, True)
    if c16 > MAX_RATIO * other:
        return None
    saved = pad_to(o, 4) * depth  # bytes: one per weight
    int8 = (c8 - c16) * pixel_pairs <= INT8_MAX_INSTRUCTIONS_PER_BYTE * saved
    return stream(weights, in_w, dilation_h, dilation_w, int8)


def read_bytes(p_filter_n: int, p_input_w: int, p_input_c: int, p_filter_h: int, p_filter_w: int,
               dilation_h: int, dilation_w: int, values: np.ndarray) -> int | None:
    """Bytes ``cg_conv2d_dsp_cols_s8`` reads from its stream ``values`` (int32), or None where it would read
    outside it or outside the window (an offset or span that does not match the layer)."""
    if values.size < HEADER:
        return None
    depth, flags = int(values[0]), int(values[1])
    bound = pad_to(p_filter_h * p_filter_w * p_input_c, 4)
    if depth < 4 or depth % 4 or depth > bound or flags & ~INT8:
        return None
    words = stream_words(depth, p_filter_n, bool(flags & INT8))
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
