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


def depthwise_dsp_ring_bytes(
    in_w: int, k_h: int, k_w: int, out_w: int, channels: int, stride_w: int, dilation_h: int, dilation_w: int,
    pad_w: int,
) -> int:
    """Scratch of ``cg_depthwise_conv2d_dsp_s8``: a ring of ``(k_h - 1) * dilation_h + 1`` input rows, each
    padded to every column a window reads (at least the left padding and the input row), channels padded to a
    multiple of 4.

    >>> depthwise_dsp_ring_bytes(5, 3, 3, 5, 64, 1, 1, 1, 1)  # KWS: 3 rows of 7 pixels
    1344
    """
    width = max(pad_w + in_w, (out_w - 1) * stride_w + (k_w - 1) * dilation_w + 1)
    return ((k_h - 1) * dilation_h + 1) * width * pad_to(channels, 4)


#: bounds that keep every step of ``cg_depthwise_conv2d_dsp_s8``'s output stage inside int32
_DW_MAX_ACC = 1 << 30  # |scaled accumulator|
_DW_MAX_LEFT = 7  # weights * 2^(1 + left) stay int16


def pack_depthwise_dsp(
    weights: np.ndarray, folded_bias: np.ndarray, multiplier: np.ndarray, shift: np.ndarray, output_offset: int
) -> np.ndarray | None:
    """Everything ``cg_depthwise_conv2d_dsp_s8`` reads besides the input, as one int32 stream in the order it reads
    it, or None when its output stage could overflow for some input (the generator then takes the portable kernel).

    ``weights`` are [1, KH, KW, C] int8 (depth multiplier 1), ``folded_bias`` is bias + input_offset * sum(w)
    per channel. Channel c's weights and bias are scaled by ``s = 2^(1 + left)`` (``left = max(shift, 0)``,
    ``e = max(-shift, 0)``), so the accumulator ``A`` is TFLite's, shifted left for its multiply and doubled for
    SMMLAR: ``SMMLAR(A, m, h)`` is ``SaturatingRoundingDoublingHighMul(acc << left, m) + h`` with
    ``h = 2^(e-1) + output_offset * 2^e`` (``output_offset`` for e = 0), and ``>> e`` the rounding right shift.

    Per group of 4 channels (zero channels with m = h = 0, e = 1 pad the last): the 4 scaled biases; per tap
    two words of int16 pairs, channels (0, 2) and (1, 3) (the pairs SXTB16 makes of an input word), the taps
    of each filter row in the order kx = 1 .. KW - 1, 0 (the last load of a row advances its pointer); then
    (m, h, e) of each channel.

    >>> w = np.array([[[[1, -2]], [[3, 4]]]], dtype=np.int8)  # 2x1 taps, 2 channels
    >>> pack_depthwise_dsp(w, np.array([100, -7]), np.array([1 << 30, 1 << 30]), np.array([-3, 1]), -5).tolist()
    [200, -28, 0, 0, 2, 65528, 6, 16, 1073741824, -36, 3, 1073741824, -5, 0, 0, 0, 1, 0, 0, 1]
    """
    w = np.asarray(weights, dtype=np.int64)
    w = w[:, :, [*range(1, w.shape[2]), 0], :]  # per filter row: kx = 1 .. KW - 1, then 0
    taps, c = w.shape[1] * w.shape[2], w.shape[3]
    bias = np.asarray(folded_bias, dtype=np.int64).reshape(-1)
    m = np.asarray(multiplier, dtype=np.int64).reshape(-1)
    sh = np.asarray(shift, dtype=np.int64).reshape(-1)
    left, e = np.maximum(sh, 0), np.maximum(-sh, 0)
    if c == 0 or left.max() > _DW_MAX_LEFT or e.max() > 31 or m.min() < 0:
        return None
    scale = np.left_shift(np.int64(2), left)
    acc = scale * (np.abs(bias) + taps * 128 * 128)  # |A| for any int8 input
    h = np.where(e > 0, np.left_shift(np.int64(1), np.maximum(e - 1, 0)), 0) + output_offset * np.left_shift(
        np.int64(1), e
    )
    # SMMLAR's result: |A * m / 2^32| + 1 + |h| + 1 (the sign term), with m < 2^31
    if acc.max() >= _DW_MAX_ACC or (acc // 2 + np.abs(h) + 2).max() >= 1 << 31:
        return None
    cp = pad_to(c, 4)
    ws = np.zeros((taps, cp), dtype=np.int64)
    ws[:, :c] = w.reshape(taps, c) * scale  # |w| * 256 <= 2^15 (-128 * 256 is -2^15)
    pairs = ws.reshape(taps, -1, 4)[:, :, [0, 2, 1, 3]].reshape(taps, -1, 2, 2)  # [tap, group, word, half]
    words = (pairs[..., 0] & 0xFFFF) | (pairs[..., 1] << 16)  # low half first
    words = words.transpose(1, 0, 2).reshape(cp // 4, 2 * taps)
    out = np.zeros((4, cp), dtype=np.int64)  # bias, m, h, e
    out[0, :c], out[1, :c], out[2, :c], out[3, :c] = bias * scale, m, h, e
    out[3, c:] = 1
    g = out.reshape(4, -1, 4)  # [field, group, channel]
    mhe = g[1:].transpose(1, 2, 0).reshape(cp // 4, 12)
    stream = np.concatenate([g[0], words, mhe], axis=1).reshape(-1)
    return stream.astype(np.int32)


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
