"""Generation-time quantization math: what TFLite Micro computes in its kernels' Prepare step.

Every function here reproduces the arithmetic of TFLite's ``quantization_util.cc`` / ``kernel_util.cc`` so that
the emitted multipliers, shifts and clamps are the very values TFLM uses at run time. The same module holds
pure-Python models of the run-time integer primitives, used by the tests to pin the C helpers down.
"""

from __future__ import annotations

import math

import numpy as np

from codegen.ir import Activation, Padding

INT8_MIN, INT8_MAX = -128, 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
FLT_MAX = float(np.finfo(np.float32).max)


def round_half_away(x: float) -> int:
    """``std::round``: nearest integer, ties away from zero."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite ``QuantizeMultiplier``: ``real ~= multiplier * 2**(shift - 31)`` with a Q31 ``multiplier``."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return int(q_fixed), int(shift)


def f32(x: float) -> np.float32:
    return np.float32(x)


def quantize_f32(x: float, scale: float, zero_point: int) -> int:
    """TFLite's activation-range quantization: ``zero_point + round(x / scale)`` computed in float32."""
    return zero_point + round_half_away(float(f32(x) / f32(scale)))


def activation_range_int8(act: Activation, scale: float, zero_point: int) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized`` for an int8 output."""
    lo, hi = INT8_MIN, INT8_MAX
    if act is Activation.NONE:
        return lo, hi
    if act is Activation.RELU:
        return max(lo, quantize_f32(0.0, scale, zero_point)), hi
    if act is Activation.RELU6:
        return max(lo, quantize_f32(0.0, scale, zero_point)), min(hi, quantize_f32(6.0, scale, zero_point))
    if act is Activation.RELU_N1_TO_1:
        return max(lo, quantize_f32(-1.0, scale, zero_point)), min(hi, quantize_f32(1.0, scale, zero_point))
    raise ValueError(f"fused activation {act.value} is not supported")


def activation_range_f32(act: Activation) -> tuple[float, float]:
    """``CalculateActivationRange`` for float outputs."""
    table = {
        Activation.NONE: (-FLT_MAX, FLT_MAX),
        Activation.RELU: (0.0, FLT_MAX),
        Activation.RELU6: (0.0, 6.0),
        Activation.RELU_N1_TO_1: (-1.0, 1.0),
    }
    if act not in table:
        raise ValueError(f"fused activation {act.value} is not supported")
    return table[act]


def out_size(padding: Padding, size: int, filt: int, stride: int, dilation: int = 1) -> int:
    eff = (filt - 1) * dilation + 1
    if padding is Padding.SAME:
        return (size + stride - 1) // stride
    return (size + stride - eff) // stride


def padding_before(padding: Padding, size: int, filt: int, stride: int, dilation: int, out: int) -> int:
    """``ComputePaddingHeightWidth``: padding before the first row/column (the smaller half)."""
    if padding is Padding.VALID:
        return 0
    eff = (filt - 1) * dilation + 1
    total = max(0, (out - 1) * stride + eff - size)
    return total // 2


def softmax_scaling(beta: float, input_scale: float, integer_bits: int = 5) -> tuple[int, int, int]:
    """``PreprocessSoftmaxScaling`` + ``CalculateInputRadius``: (input multiplier, left shift, diff_min)."""
    real = min(beta * input_scale * (1 << (31 - integer_bits)), (1 << 31) - 1.0)
    mult, shift = quantize_multiplier(real)
    return mult, shift, -input_radius(integer_bits, shift)


def input_radius(integer_bits: int, left_shift: int, total_signed_bits: int = 31) -> int:
    """``CalculateInputRadius``."""
    rescaled = 1.0 * ((1 << integer_bits) - 1) * (1 << (total_signed_bits - integer_bits)) / (1 << left_shift)
    return int(math.floor(rescaled))


def logistic_scaling(input_scale: float, integer_bits: int = 4) -> tuple[int, int, int]:
    """TFLM logistic Prepare for int8: (input multiplier, left shift, input range radius)."""
    real = input_scale * (1 << (31 - integer_bits))
    q, shift = math.frexp(real)
    mult = round_half_away(q * (1 << 31))
    return int(mult), int(shift), input_radius(integer_bits, shift)


def downscale_multiplier_int16(multiplier: int) -> int:
    """TFLite ``DownScaleInt32ToInt16Multiplier``: a Q31 multiplier rounded to Q15 (saturating)."""
    if multiplier >= INT32_MAX - (1 << 15):
        return 32767
    return (multiplier + (1 << 15)) >> 16


def hard_swish_params(input_scale: float, output_scale: float) -> tuple[int, int, int, int]:
    """TFLite int8 HARD_SWISH Prepare (float32 arithmetic as in the C++): (relu-ish multiplier Q15, its
    exponent, output multiplier Q15, its exponent)."""
    hires = np.float32(1.0 / 128.0) * np.float32(input_scale)
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    out_mult, out_exp = quantize_multiplier(float(np.float32(hires / np.float32(output_scale))))
    relu_mult, relu_exp = quantize_multiplier(float(np.float32(hires / reluish_scale)))
    return downscale_multiplier_int16(relu_mult), relu_exp, downscale_multiplier_int16(out_mult), out_exp


def mean_multiplier(real: float, count: int) -> tuple[int, int]:
    """TFLM int8 MEAN: the quantized ``real`` multiplier with ``1/count`` folded in (``QuantizedMeanOrSum``)."""
    mult, shift = quantize_multiplier(real)
    extra = min((count.bit_length() - 1), 32, 31 + shift)
    mult = int((mult << extra) // count) if extra >= 0 else int((mult >> -extra) // count)
    return mult, shift - extra


# ----------------------------------------------------------------- Python models of the run-time helpers


def _wrap32(x: int) -> int:
    return ((x + 2**31) % 2**32) - 2**31


def sat_rounding_doubling_high_mul(a: int, b: int) -> int:
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return _trunc_div(ab + nudge, 1 << 31)


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x: int, multiplier: int, shift: int) -> int:
    """TFLite ``MultiplyByQuantizedMultiplier`` (double rounding), the model of ``cg_requantize``."""
    left = max(shift, 0)
    right = max(-shift, 0)
    return rounding_divide_by_pot(sat_rounding_doubling_high_mul(_wrap32(x * (1 << left)), multiplier), right)
