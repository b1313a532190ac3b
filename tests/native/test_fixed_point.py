"""The C fixed-point helpers (runtime/include/cg_nn_support.h) agree with the Python prepare-side models and
with exact big-integer / float references on edge cases: INT32_MIN/MAX, every shift 0..31, negative ties."""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from codegen.backend.native import prepare
from codegen.resources import resource_path

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
SHIM = Path(__file__).with_name("fixed_point_shim.c")
I32P = np.ctypeslib.ndpointer(dtype=np.int32, flags="C_CONTIGUOUS")


@pytest.fixture(scope="module")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    out = tmp_path_factory.mktemp("fixed_point") / "libshim.so"
    include = resource_path("runtime") / "include"
    cmd = [gcc, "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
           "-I", str(include), str(SHIM), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    lib = ctypes.CDLL(str(out))
    lib.shim_srdhm.argtypes = [I32P, I32P, I32P, ctypes.c_int]
    lib.shim_rdbpot.argtypes = [I32P, I32P, I32P, ctypes.c_int]
    lib.shim_requantize.argtypes = [I32P, I32P, I32P, I32P, ctypes.c_int]
    lib.shim_requantize_r2.argtypes = [I32P, I32P, I32P, I32P, ctypes.c_int]
    lib.shim_requantize_down.argtypes = [I32P, I32P, I32P, I32P, ctypes.c_int]
    lib.shim_exp_on_negative.argtypes = [I32P, ctypes.c_int, I32P, ctypes.c_int]
    lib.shim_reciprocal.argtypes = [I32P, ctypes.c_int, I32P, I32P, ctypes.c_int]
    return lib


def _i32(values) -> np.ndarray:  # noqa: ANN001
    return np.ascontiguousarray(np.asarray(values, dtype=np.int64).astype(np.int32))


EDGES = [INT32_MIN, INT32_MIN + 1, -(2**30) - 1, -(2**30), -(2**30) + 1, -65537, -65536, -3, -2, -1, 0, 1, 2, 3,
         65535, 65536, 2**30 - 1, 2**30, 2**30 + 1, INT32_MAX - 1, INT32_MAX]


def _random(n: int, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    wide = rng.integers(INT32_MIN, INT32_MAX, size=n, endpoint=True)
    small = rng.integers(-70000, 70000, size=n)
    return [int(v) for v in np.concatenate([wide, small])]


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _srdhm_gemmlowp(a: int, b: int) -> int:
    """gemmlowp's definition: truncating division of the nudged product (the form the C helper simplifies)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    return _trunc_div(ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30)), 1 << 31)


def test_doubling_high_mul_matches_gemmlowp_definition_on_edges_and_random(lib: ctypes.CDLL) -> None:
    pairs = [(a, b) for a in EDGES for b in EDGES]
    vals = _random(3000, 1)
    pairs += list(zip(vals, reversed(vals), strict=True))
    # products that land exactly on a half (ties): a * b = (2k + 1) * 2^30
    pairs += [(k * 2 + 1, 1 << 30) for k in range(-40, 40)] + [(-(1 << 30), 3), ((1 << 30), -3), (-(1 << 30), -5)]
    a, b = _i32([p[0] for p in pairs]), _i32([p[1] for p in pairs])
    out = np.empty_like(a)
    lib.shim_srdhm(a, b, out, len(a))
    expected = [_srdhm_gemmlowp(int(x), int(y)) for x, y in zip(a, b, strict=True)]
    assert out.tolist() == expected
    assert expected == [prepare.sat_rounding_doubling_high_mul(int(x), int(y)) for x, y in zip(a, b, strict=True)]


def test_rounding_divide_by_pot_rounds_ties_away_from_zero_for_every_exponent(lib: ctypes.CDLL) -> None:
    xs, es = [], []
    for e in range(32):
        half = 1 << e >> 1
        around = [half * s * m + d for s in (-1, 1) for m in (1, 3, 5) for d in (-1, 0, 1)]
        for x in EDGES + around + _random(20, e):
            if INT32_MIN <= x <= INT32_MAX:
                xs.append(x)
                es.append(e)
    x, e = _i32(xs), _i32(es)
    out = np.empty_like(x)
    lib.shim_rdbpot(x, e, out, len(x))
    # exact rational reference: round half away from zero
    expected = []
    for v, k in zip(xs, es, strict=True):
        q, r = divmod(abs(v), 1 << k)
        q += 1 if 2 * r >= (1 << k) and k > 0 else 0
        expected.append(q if v >= 0 else -q)
    assert out.tolist() == expected
    assert expected == [prepare.rounding_divide_by_pot(v, k) for v, k in zip(xs, es, strict=True)]


def test_requantize_matches_prepare_multiply_by_quantized_multiplier(lib: ctypes.CDLL) -> None:
    rng = np.random.default_rng(5)
    cases = []
    for shift in range(-31, 8):
        for m in (1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX, int(rng.integers(1 << 30, INT32_MAX))):
            for x in EDGES[3:-3] + [int(v) for v in rng.integers(-(2**24), 2**24, size=12)]:
                cases.append((x, m, shift))
    x, m, s = (_i32([c[k] for c in cases]) for k in range(3))
    out = np.empty_like(x)
    lib.shim_requantize(x, m, s, out, len(x))
    assert out.tolist() == [prepare.multiply_by_quantized_multiplier(*c) for c in cases]


def test_requantize_r2_matches_prepare_multiply_by_quantized_multiplier(lib: ctypes.CDLL) -> None:
    """cg_dsp.h's one-SMLAL requantization (shift <= -2, both roundings in one constant) on the full int32 range,
    ties included (x * m an exact multiple of half a step)."""
    rng = np.random.default_rng(6)
    cases = []
    for shift in range(-31, -1):
        for m in (0, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX, int(rng.integers(1 << 30, INT32_MAX))):
            ties = [(2 * k + 1) << (-shift - 1) for k in range(-3, 3)]  # with m = 2^30: halfway cases
            for x in EDGES + ties + [int(v) for v in rng.integers(INT32_MIN, INT32_MAX, size=8)]:
                cases.append((x, m, shift))
    x, m, s = (_i32([c[k] for c in cases]) for k in range(3))
    out = np.empty_like(x)
    lib.shim_requantize_r2(x, m, s, out, len(x))
    assert out.tolist() == [prepare.multiply_by_quantized_multiplier(*c) for c in cases]
    lib.shim_requantize_down(x, m, s, out, len(x))  # the portable kernels' plain-C form of the same identity
    assert out.tolist() == [prepare.multiply_by_quantized_multiplier(*c) for c in cases]


@pytest.mark.parametrize("integer_bits", [0, 4, 5, 12])
def test_exp_on_negative_values_is_close_to_exp_and_monotonic(lib: ctypes.CDLL, integer_bits: int) -> None:
    frac = 31 - integer_bits
    a = _i32(sorted({0, -1, INT32_MIN, *(-abs(v) for v in _random(500, integer_bits) if v != INT32_MIN)}))
    out = np.empty_like(a)
    lib.shim_exp_on_negative(a, integer_bits, out, len(a))
    real = np.exp(a.astype(np.float64) / 2.0**frac) * 2.0**31
    assert out[a == 0].tolist() == [INT32_MAX]
    assert np.all(out >= 0)
    # gemmlowp's polynomial is good to about 2^-22 of full scale
    assert np.max(np.abs(out.astype(np.float64) - np.minimum(real, INT32_MAX))) <= 2**31 * 5e-7
    assert np.all(np.diff(out.astype(np.int64)) >= -2)  # a is sorted ascending


def test_reciprocal_of_values_above_one_is_accurate(lib: ctypes.CDLL) -> None:
    integer_bits = 12
    x = _i32([1 << 19, (1 << 19) + 1, 3 << 19, 12345678, INT32_MAX, *(abs(v) | (1 << 19) for v in _random(300, 9))])
    out, bits = np.empty_like(x), np.empty_like(x)
    lib.shim_reciprocal(x, integer_bits, out, bits, len(x))
    value = x.astype(np.float64) / 2.0 ** (31 - integer_bits)
    # result is 1/x as a Q0.31 significand scaled by 2^-bits_over_unit
    approx = out.astype(np.float64) / 2.0**31 / 2.0 ** bits.astype(np.float64)
    np.testing.assert_allclose(approx, 1.0 / value, rtol=1e-8)
    assert math.isclose(float(out[0]) / 2**31, 1.0, rel_tol=1e-8) or out[0] == INT32_MAX
