"""Weight layouts of the DSP kernel variants: the order their inner loops read the weights (runtime/include/cg_nn.h).

Done once at generation time, so the kernels load each weight word with one aligned load and no shuffling.
"""

from __future__ import annotations

import numpy as np


def pad_to(n: int, multiple: int) -> int:
    """``n`` rounded up to a multiple of ``multiple``.

    >>> pad_to(27, 4), pad_to(28, 4)
    (28, 28)
    """
    return -(-n // multiple) * multiple


def pack_rows(weights: np.ndarray, rows: int) -> np.ndarray:
    """OHWI (or [units, depth]) int8 weights as ``cg_conv2d_dsp_w8_s8`` reads them (``rows`` = 4):
    the depth K zero-padded to a multiple of 4, output channels in groups of ``rows`` (zero rows pad the last
    group), and per group and per 4 k the 4 bytes of each row in turn.

    >>> w = np.arange(1, 11, dtype=np.int8).reshape(2, 5)  # 2 channels, K = 5
    >>> pack_rows(w, 2).tolist()
    [1, 2, 3, 4, 6, 7, 8, 9, 5, 0, 0, 0, 10, 0, 0, 0]
    """
    w = np.asarray(weights, dtype=np.int8).reshape(weights.shape[0], -1)
    o, k = w.shape
    padded = np.zeros((pad_to(o, rows), pad_to(k, 4)), dtype=np.int8)
    padded[:o, :k] = w
    groups = padded.reshape(-1, rows, padded.shape[1] // 4, 4).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(groups).reshape(-1)


def fc_pairs_fit(weights: np.ndarray) -> bool:
    """Whether every 16-bit value ``256 * w[u+1][k] + w[u][k]`` of :func:`pack_fc_pairs` fits int16: it does
    not only where ``w[u+1][k] == -128`` and ``w[u][k] < 0`` (TFLite's int8 weights are in [-127, 127]).

    >>> fc_pairs_fit(np.array([[-1, 5], [127, -128]], dtype=np.int8))
    True
    >>> fc_pairs_fit(np.array([[-1, 5], [-128, 0]], dtype=np.int8))
    False
    """
    w = np.asarray(weights, dtype=np.int8).reshape(weights.shape[0], -1).astype(np.int32)
    padded = np.zeros((pad_to(w.shape[0], 2), w.shape[1]), dtype=np.int32)
    padded[: w.shape[0]] = w
    return bool(np.all(256 * padded[1::2] + padded[0::2] >= -32768))


def pack_fc_pairs(weights: np.ndarray) -> np.ndarray:
    """[units, depth] int8 weights as ``cg_fully_connected_dsp_s8`` reads them: units in groups of 8 (zero units
    pad the last group), depth zero-padded to a multiple of 4; units u, u+1 of a pair share 16-bit values
    ``v[k] = 256 * w[u+1][k] + w[u][k]`` (little-endian: byte w[u][k], then w[u+1][k] minus one if w[u][k] < 0);
    per group and per 4 steps k..k+3, for each of the 4 pairs the words (v[k], v[k+2]) and (v[k+1], v[k+3]),
    as int8 bytes. Needs :func:`fc_pairs_fit`.

    >>> w = np.array([[1, 2, 3, 4], [-1, 0, 1, 2], [-3, 0, 0, 0]], dtype=np.int8)  # 3 units, depth 4
    >>> pack_fc_pairs(w).view(np.int16).tolist()  # v01 = 256 * w1 + w0, v23 = 256 * 0 + w2, zero pairs 45, 67
    [-255, 259, 2, 516, -3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    """
    w = np.asarray(weights, dtype=np.int8).reshape(weights.shape[0], -1).astype(np.int32)
    o, k = w.shape
    padded = np.zeros((pad_to(o, 8), pad_to(k, 4)), dtype=np.int32)
    padded[:o, :k] = w
    v = (256 * padded[1::2] + padded[0::2]).astype(np.int16)  # [pairs, K]
    # [group, pair, block, step]: steps in the order (0, 2, 1, 3) -> [group, block, pair, half, element]
    g = v.reshape(-1, 4, v.shape[1] // 4, 4)[:, :, :, [0, 2, 1, 3]].reshape(-1, 4, v.shape[1] // 4, 2, 2)
    words = np.ascontiguousarray(g.transpose(0, 2, 1, 3, 4)).reshape(-1)
    return words.astype("<i2").view(np.int8)


def pack_conv_s16(weights: np.ndarray) -> np.ndarray:
    """OHWI int8 weights widened to int16 in the order ``cg_conv2d_dsp_s8`` reads them: K zero-padded to a
    multiple of 4, output channels in groups of 4 (zero rows pad the last group), and per group and per 4 steps
    k..k+3 the pairs (w[k], w[k+2]) of channels 0..3, then the pairs (w[k+1], w[k+3]) of channels 0..3.

    >>> w = np.arange(1, 9, dtype=np.int8).reshape(2, 4)  # 2 channels, K = 4
    >>> pack_conv_s16(w).reshape(-1, 2).tolist()
    [[1, 3], [5, 7], [0, 0], [0, 0], [2, 4], [6, 8], [0, 0], [0, 0]]
    """
    w = np.asarray(weights, dtype=np.int8).reshape(weights.shape[0], -1)
    o, k = w.shape
    padded = np.zeros((pad_to(o, 4), pad_to(k, 4)), dtype=np.int16)
    padded[:o, :k] = w
    # [group, channel, block, step]: step order (0, 2, 1, 3) = (lo pair, hi pair)
    g = padded.reshape(-1, 4, padded.shape[1] // 4, 4)[:, :, :, [0, 2, 1, 3]].reshape(-1, 4, padded.shape[1] // 4, 2, 2)
    # -> [group, block, half, channel, pair element]
    return np.ascontiguousarray(g.transpose(0, 2, 3, 1, 4)).reshape(-1)


def pack_depthwise_s16(weights: np.ndarray) -> np.ndarray:
    """[1, KH, KW, C] int8 depthwise weights widened to int16 in the order ``cg_depthwise_conv2d_dsp_s8`` reads
    them: channels in groups of 4 (zero-padded), per group and per tap the channels (0, 2, 1, 3).

    >>> w = np.arange(1, 11, dtype=np.int8).reshape(1, 1, 2, 5)  # 2 taps, 5 channels
    >>> pack_depthwise_s16(w).reshape(-1, 4).tolist()
    [[1, 3, 2, 4], [6, 8, 7, 9], [5, 0, 0, 0], [10, 0, 0, 0]]
    """
    w = np.asarray(weights, dtype=np.int8)
    taps, c = w.shape[1] * w.shape[2], w.shape[3]
    padded = np.zeros((taps, pad_to(c, 4)), dtype=np.int16)
    padded[:, :c] = w.reshape(taps, c)
    groups = padded.reshape(taps, -1, 4)[:, :, [0, 2, 1, 3]].transpose(1, 0, 2)
    return np.ascontiguousarray(groups).reshape(-1)


def interleave_rows(weights: np.ndarray, group: int) -> np.ndarray:
    """OHWI (or [units, depth]) int8 weights in the order the portable kernels ``cg_conv2d_s8`` (``group`` = 4)
    and ``cg_fully_connected_s8`` (``group`` = 8) read them: output channels in groups of ``group``, per group
    and per k the ``group`` weights w[c][k]; the ``o % group`` channels left over follow row by row.  No
    padding, so the array has the filter's size.

    >>> w = np.arange(1, 16, dtype=np.int8).reshape(3, 5)  # 3 channels, K = 5
    >>> interleave_rows(w, 2).tolist()
    [1, 6, 2, 7, 3, 8, 4, 9, 5, 10, 11, 12, 13, 14, 15]
    """
    w = np.asarray(weights, dtype=np.int8).reshape(weights.shape[0], -1)
    o, k = w.shape
    full = o - o % group
    head = w[:full].reshape(-1, group, k).transpose(0, 2, 1)
    return np.concatenate([np.ascontiguousarray(head).reshape(-1), w[full:].reshape(-1)])


def channels_major(weights: np.ndarray) -> np.ndarray:
    """[1, KH, KW, C] int8 depthwise weights as ``cg_depthwise_conv2d_s8`` reads them: per output channel its
    KH * KW taps in row-major order.

    >>> w = np.arange(1, 7, dtype=np.int8).reshape(1, 1, 2, 3)  # 2 taps, 3 channels
    >>> channels_major(w).tolist()
    [1, 4, 2, 5, 3, 6]
    """
    w = np.asarray(weights, dtype=np.int8)
    return np.ascontiguousarray(w.reshape(-1, w.shape[3]).T).reshape(-1)
