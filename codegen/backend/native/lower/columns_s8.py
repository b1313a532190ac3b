"""Column-sparse convolutions without the DSP extension (issue #16): the stream of ``cg_conv2d_cols_s8``.

The portable counterpart of lower/columns.py (whose column detection it reuses): on cores that run
``cg_conv2d_s8`` (RISC-V, Cortex-M0+), weights whose im2col columns are zero in every output channel (``codegen
train --prune-structure 2:4-layer``) take ``cg_conv2d_cols_s8``, which gathers and multiplies only the D kept
columns, where its cost model says it pays and (:func:`columns.settle`) its layers together pay for its code.
"""

from __future__ import annotations

import numpy as np

from codegen.backend.native.lower import columns
from codegen.backend.native.lower.packing import interleave_rows, pad_to

KERNEL = "cg_conv2d_cols_s8"
MAX_REACH = 0xFF  # dy and dx of a kept column are uint8 fields of its reach
#: flash of the kernel's code (RV32IMC, -O2: 2,658 B)
CODE_BYTES = 2660
columns.OTHER_CODE_BYTES[KERNEL] = CODE_BYTES  # what columns.settle weighs its layers' savings against


def reaches(kept: np.ndarray, k_w: int, in_c: int, dilation_h: int, dilation_w: int) -> np.ndarray:
    """Per kept column (flattened index (ky KW + kx) I + c): dy | dx << 8, dy = ky dilation_h, dx = kx dilation_w.

    >>> reaches(np.array([0, 5, 7]), 3, 2, 1, 2).tolist()  # (0,0,0), (0,2,1), (1,0,1)
    [0, 1024, 1]
    """
    ky, rest = np.divmod(kept.astype(np.int64), k_w * in_c)
    kx = rest // in_c
    return ky * dilation_h | (kx * dilation_w) << 8


def fits(weights: np.ndarray, in_w: int, dilation_h: int, dilation_w: int) -> bool:
    """The stream's uint16 offsets (:func:`columns.fits`) and uint8 row and column reaches hold the layer."""
    _, k_h, k_w, _ = weights.shape
    span = max((k_h - 1) * dilation_h, (k_w - 1) * dilation_w)
    return span <= MAX_REACH and columns.fits(weights, in_w, dilation_h, dilation_w)


def stream(weights: np.ndarray, in_w: int, dilation_h: int, dilation_w: int) -> np.ndarray:
    """The int32 stream ``cg_conv2d_cols_s8`` reads for OHWI int8 ``weights`` with at least one kept column: D,
    the kept columns' uint16 input offsets, their uint16 reaches (each padded to a whole word), the compact
    [O, D] weights in ``cg_conv2d_s8``'s order (:func:`packing.interleave_rows`, padded to a whole word).

    >>> w = np.zeros((1, 1, 3, 2), dtype=np.int8); w[0, 0, 1, 0] = 3; w[0, 0, 2, 1] = -1  # columns 2 and 5
    >>> s = stream(w, 8, 1, 1)
    >>> int(s[0]), s[1:2].view(np.uint16).tolist(), s[2:3].view(np.uint16).tolist(), s[3:].view(np.int8).tolist()
    (2, [2, 5], [256, 512], [3, -1, 0, 0])
    """
    o, _, k_w, in_c = weights.shape
    kept = columns.kept_columns(weights)
    d = kept.size
    half = -(-d // 2)
    off = np.zeros(2 * half, dtype="<u2")
    off[:d] = columns.offsets(kept, k_w, in_c, in_w, dilation_h, dilation_w)
    reach = np.zeros(2 * half, dtype="<u2")
    reach[:d] = reaches(kept, k_w, in_c, dilation_h, dilation_w)
    packed = interleave_rows(weights.reshape(o, -1)[:, kept], 4)
    body = np.zeros(pad_to(packed.size, 4), dtype=np.int8)
    body[: packed.size] = packed
    words = np.concatenate([np.array([d], dtype=np.uint32), off.view(np.uint32), reach.view(np.uint32),
                            body.view(np.uint32)])
    return words.view(np.int32)


def stream_words(depth: int, channels: int) -> int:
    """Length of :func:`stream` in int32 words."""
    return 1 + 2 * -(-depth // 2) + -(-channels * depth // 4)


def cost(depth: int, channels: int) -> float:
    """Instructions of ``cg_conv2d_cols_s8`` per pixel pair on RV32IMC (``depth`` kept columns): the gather (4.3 per
    column), the multiply loop (24.6 per step and group of 4 channels, 11 per step of a channel left over), the
    output stage (69 per channel).  A least-squares fit (relative error) of the 35 convolutions the kernel takes in
    the layer-wide 2:4 LeNet-5, SqueezeNet and ResNet-8 on the emulated RV32IMC board, within 4 % of every layer."""
    groups, left = divmod(channels, 4)
    return 131 + 4.3 * depth + (24.6 * groups + 11 * left) * depth + 69 * channels


def dense_cost(k_h: int, k_w: int, in_c: int, channels: int) -> float:
    """Instructions of ``cg_conv2d_s8`` per pixel pair on RV32IMC: the gather (2.2 per step, 89 per kernel row),
    the multiply loop (23 per step and group of 4 channels, 6 per step of a channel left over), the output stage
    (71 per channel).  A least-squares fit (relative error) of the 51 convolutions of LeNet-5, SqueezeNet,
    ResNet-8, KWS and VWW on the emulated RV32IMC board, within 3.5 % of every layer."""
    k = k_h * k_w * in_c
    groups, left = divmod(channels, 4)
    return 63 + 2.2 * k + 89 * k_h + (23 * groups + 6 * left) * k + 71 * channels


#: taken where it costs at most this share of ``cg_conv2d_s8`` (the cost model's margin)
MAX_RATIO = 0.9
#: and only for column-sparse weights: at most this share of the columns kept (with every column kept the kernel
#: only adds its offset tables to ``cg_conv2d_s8``'s work)
MAX_KEPT = 0.75


def choice(weights: np.ndarray, in_w: int, dilation_h: int, dilation_w: int,
           pixel_pairs: int) -> tuple[np.ndarray, float] | None:
    """The stream of ``cg_conv2d_cols_s8`` for OHWI ``weights`` and the instructions per inference it saves over
    ``cg_conv2d_s8`` (``pixel_pairs`` per inference) where at most :data:`MAX_KEPT` of the columns are kept and it
    takes at most :data:`MAX_RATIO` of the instructions, else None."""
    o, k_h, k_w, in_c = weights.shape
    kept = columns.kept_columns(weights)
    if kept.size == 0 or kept.size > MAX_KEPT * columns.kept_bound(weights) or not fits(
            weights, in_w, dilation_h, dilation_w):
        return None
    mine, dense = cost(kept.size, o), dense_cost(k_h, k_w, in_c, o)
    if mine > MAX_RATIO * dense:
        return None
    return stream(weights, in_w, dilation_h, dilation_w), (dense - mine) * pixel_pairs


def read_bytes(p_filter_n: int, p_input_w: int, p_input_c: int, p_filter_h: int, p_filter_w: int,
               dilation_h: int, dilation_w: int, values: np.ndarray) -> int | None:
    """Bytes ``cg_conv2d_cols_s8`` reads from its stream ``values`` (int32), or None where it would read outside it
    or refuse it (the kernel's own check of the tables: an offset that is not its reach's row and column plus a
    channel, a reach beyond the filter's span)."""
    if values.size < 1:
        return None
    d = int(values[0])
    if d < 1 or d > p_filter_h * p_filter_w * p_input_c:
        return None
    words = stream_words(d, p_filter_n)
    if words > values.size:
        return None
    half = -(-d // 2)
    u = values.view(np.uint32)
    off = u[1 : 1 + half].view("<u2")[:d].astype(np.int64)
    reach = u[1 + half : 1 + 2 * half].view("<u2")[:d].astype(np.int64)
    dy, dx = reach & 0xFF, reach >> 8
    c = off - (dy * p_input_w + dx) * p_input_c
    if (dy > (p_filter_h - 1) * dilation_h).any() or (dx > (p_filter_w - 1) * dilation_w).any():
        return None
    if (c < 0).any() or (c >= p_input_c).any():
        return None
    return 4 * words
