"""Generation-time data of TFLM's int16 LOGISTIC and TANH (16x8 models): the input rescaling and the sigmoid table.

TFLM evaluates both functions from one 256-entry unsigned Q0.16 table of sigmoid(i / 24), interpolated linearly
(tanh(x) = 2 sigmoid(2x) - 1). The table is not plain rounding: each sample is lowered by half the chord's error
at the middle of its segment, so that the interpolation error is balanced around the curve, and the last entry is
the saturation level 65535. :func:`sigmoid_table` computes it that way; ``tests/native/test_int16_sigmoid.py``
compares LOGISTIC and TANH with TFLM on all 65,536 int16 inputs at several input scales, which reaches every
table entry.
"""

from __future__ import annotations

import math

import numpy as np

#: TFLM saturates inputs from index 255 on; that entry is the saturation level
TABLE_SIZE = 256


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def sigmoid_table() -> np.ndarray:
    """256 entries: sigmoid(i / 24) in Q0.16, each corrected by half the chord error at its segment's middle."""
    values = []
    for i in range(TABLE_SIZE - 1):
        left, mid, right = _sigmoid(i / 24), _sigmoid((i + 0.5) / 24), _sigmoid((i + 1) / 24)
        chord_error = (left + right) / 2 - mid
        values.append(min(65535, math.floor(65536.0 * (left - chord_error / 2) + 0.5)))
    values.append(65535)
    return np.array(values, dtype=np.uint16)


def checked_log2(x: float) -> tuple[int, bool]:
    """TFLM's ``CheckedLog2`` in float32: the rounded log2 and whether ``x`` is a power of two within 1e-3."""
    f = np.float32
    log2 = f(f(np.log(f(x))) * f(f(1.0) / f(np.log(f(2.0)))))
    rounded = f(math.copysign(math.floor(abs(float(log2)) + 0.5), float(log2)))
    return int(rounded), abs(float(f(log2 - rounded))) < 1e-3


def input_rescale(input_scale: float, tanh: bool) -> tuple[int, int]:
    """(multiplier, right shift) taking an int16 input to the table's scale 1 / (3 * 4096), as TFLM's Prepare.

    A power-of-two input scale whose left shift is 0 (LOGISTIC) or 0 or 1 (TANH) uses 3 << shift and no
    shift, as the reference kernel does for multiplier 0; any other scale is doubled in double precision until
    the multiplier exceeds 32767 / 2 (right shift at most 31), then truncated.
    """
    scale = float(np.float32(input_scale))
    log2, pot = checked_log2(scale)
    left_shift = 12 + log2
    if pot and left_shift in ((0, 1) if tanh else (0,)):
        return 3 << left_shift, 0
    multiplier = scale * 4096.0 * 3.0
    shift = 0
    while multiplier <= 32767.0 / 2.0 and shift <= 30:
        shift += 1
        multiplier *= 2.0
    return int(multiplier), shift


__all__ = ["TABLE_SIZE", "checked_log2", "input_rescale", "sigmoid_table"]
