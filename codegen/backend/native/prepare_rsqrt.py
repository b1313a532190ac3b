"""TFLM's int8 RSQRT evaluated at generation time for each of the 256 input values (a lookup table).

``inv_sqrt_quantized`` reproduces ``GetInvSqrtQuantizedMultiplierExp`` (gemmlowp fixed-point Newton-Raphson,
``tensorflow/lite/kernels/internal/common.h``) with the integer primitives of :mod:`.prepare`; ``rsqrt_table``
is ``RsqrtEvalQuantized`` for every int8 input.
"""

from __future__ import annotations

import numpy as np

from codegen.backend.native.prepare import (
    INT32_MAX,
    INT32_MIN,
    _wrap32,
    multiply_by_quantized_multiplier,
    quantize_multiplier,
    rounding_divide_by_pot,
    sat_rounding_doubling_high_mul,
)


def _sat_mul_pot(x: int, exponent: int) -> int:
    """gemmlowp ``SaturatingRoundingMultiplyByPOT<exponent>`` on int32."""
    if exponent <= 0:
        return rounding_divide_by_pot(x, -exponent)
    threshold = (1 << (31 - exponent)) - 1
    if x > threshold:
        return INT32_MAX
    if x < -threshold:
        return INT32_MIN
    return _wrap32(x << exponent)


def inv_sqrt_quantized(value: int) -> tuple[int, int]:
    """``GetInvSqrtQuantizedMultiplierExp(value, kReverseShift = -1)``: (multiplier, shift)."""
    if value <= 1:
        return INT32_MAX, 0
    shift = 11
    while value >= (1 << 29):
        value //= 4
        shift += 1
    max_left_shift_bits = (32 - value.bit_length()) - 1  # CountLeadingZeros(value) - 1
    left_pairs = max_left_shift_bits // 2 - 1
    shift -= left_pairs
    value <<= 2 * left_pairs
    f3_input = value >> 1
    f3_half_input = _sat_mul_pot(f3_input, -1)
    f3_half_three = (1 << 28) + (1 << 27)
    x = 1 << 28  # F3::One()
    mul = sat_rounding_doubling_high_mul
    for _ in range(5):
        x3 = _sat_mul_pot(mul(mul(x, x), x), 6)  # F9 -> F3
        x = _sat_mul_pot(_wrap32(mul(f3_half_three, x) - mul(f3_half_input, x3)), 3)  # F6 -> F3
    x = mul(x, 1518500250)  # * sqrt(2)/2 in F0
    if shift < 0:
        x = _wrap32(x << -shift)
        shift = 0
    return x, -shift


def rsqrt_table(input_scale: float, input_zp: int, output_scale: float, output_zp: int) -> np.ndarray:
    """int8 RSQRT output for input codes -128..127 (TFLM refuses inputs below the zero point: they map to the
    output of value 0, the int8 maximum)."""
    f = np.float32
    mult, shift = quantize_multiplier(1.0 / float(f(np.sqrt(f(input_scale))) * f(output_scale)))
    k_shift = 20
    out = []
    for q in range(-128, 128):
        value = q - input_zp
        if value <= 0:
            out.append(127)
            continue
        inv, inv_shift = inv_sqrt_quantized(value)
        data = multiply_by_quantized_multiplier(1, inv, inv_shift + k_shift)
        y = multiply_by_quantized_multiplier(data, mult, shift - k_shift) + output_zp
        out.append(max(-128, min(127, y)))
    return np.array(out, dtype=np.int8)
