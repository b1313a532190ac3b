"""int8 kernels bit-exact with TFLM where they once were not: MEAN in every quantization case (TFLM rounds; it
 never truncates), LEAKY_RELU with a negative alpha."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.safety.cases import mean

CASES = {
    # the case of issue #11: equal input and output quantization, keep_dims false, 33/64 outputs off by one
    "same_scale_drop_dims": dict(inp=(1, 4, 4, 64), out=(1, 64), in_q=(0.1, 0), out_q=(0.1, 0)),
    "same_scale_keep_dims": dict(inp=(1, 4, 4, 64), out=(1, 1, 1, 64), keep=True, in_q=(0.1, 0), out_q=(0.1, 0)),
    "same_scale_zero_point": dict(inp=(1, 3, 5, 7), out=(1, 7), in_q=(0.05, -17), out_q=(0.05, -17)),
    "different_scales": dict(inp=(1, 5, 6, 7), out=(1, 7), in_q=(0.05, 3), out_q=(0.02, -5)),
    "different_scales_keep_dims": dict(inp=(1, 5, 6, 7), out=(1, 1, 1, 7), keep=True, in_q=(0.05, 3),
                                       out_q=(0.5, 10)),
    "negative_axes": dict(inp=(1, 6, 6, 5), out=(1, 5), axes=(-3, -2), in_q=(0.1, -128), out_q=(0.07, 20)),
    "large_window": dict(inp=(1, 20, 21, 3), out=(1, 3), in_q=(0.003, 0), out_q=(0.003, 0)),
    "same_zero_point_other_scale": dict(inp=(1, 7, 7, 4), out=(1, 4), in_q=(0.2, 0), out_q=(0.1, 0)),
}


def _inputs(shape: tuple[int, ...], rng: np.random.Generator) -> list[np.ndarray]:
    xs = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(12)]
    xs.append(np.full(shape, -128, np.int8))  # the most negative sum
    xs.append(np.full(shape, 127, np.int8))
    xs.append(rng.integers(-128, -100, size=shape, dtype=np.int8))  # negative sums with odd remainders
    xs.append((np.arange(int(np.prod(shape))) % 3 - 2).astype(np.int8).reshape(shape))  # x.5 ties
    return xs


@pytest.mark.parametrize("case", sorted(CASES))
def test_int8_mean_matches_tflm_bit_for_bit(case: str, build_cache) -> None:  # noqa: ANN001
    data = mean(**CASES[case])
    graph = parse_tflite(data, name=f"mean_{case}")
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(data)
    rng = np.random.default_rng(5)
    shape = graph.input_tensors[0].shape
    for x in _inputs(shape, rng):
        (mine,), (theirs,) = ours.predict(x), ref.predict(x)
        np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


def test_issue_11_mean_rounds_like_tflm_not_truncates() -> None:
    """-506 / 16 is -31.6: TFLM gives -32 (the old kernel truncated to -31)."""
    from codegen.backend.native import prepare

    mult, shift = prepare.mean_multiplier(1.0, 16)
    assert prepare.multiply_by_quantized_multiplier(-506, mult, shift) == -32


@pytest.mark.parametrize("alpha,in_q,out_q", [
    (-0.5, (0.05, 1), (0.05, 1)),    # negative alpha, ratio -0.5: every odd value is a tie
    (-0.5, (0.05, 1), (0.04, -3)),   # negative alpha, ratio -0.625 computed in double by TFLM
    (0.5, (0.05, 1), (0.04, -3)),
    (0.3, (0.041, 0), (0.056, 0)),  # identity multiplier: a float32 division rounds differently
])
def test_int8_leaky_relu_matches_tflm_on_every_input(alpha: float, in_q: tuple, out_q: tuple,
                                                     build_cache) -> None:  # noqa: ANN001
    """Found by the fuzzer: TFLM applies a negative alpha as -(x * |alpha|), rounding the magnitude, and divides
    the scales in double precision."""
    from tests.safety.builder import q8, single_op

    data = single_op("LEAKY_RELU", [q8((4, 64), *in_q)], q8((4, 64), *out_q), alpha=alpha)
    graph = parse_tflite(data)
    ours, ref = host.compile(graph, cache_dir=build_cache), ReferenceModel(data)
    x = np.arange(-128, 128, dtype=np.int8).reshape(4, 64)  # every int8 value, ties included
    np.testing.assert_array_equal(ours.predict(x)[0], np.asarray(ref.predict(x)[0]).reshape(4, 64))


def test_verify_sanitize_on_the_issue_mean_model_is_exact(tmp_path) -> None:  # noqa: ANN001
    """The CLI path of issue #11's MEAN model: sanitized build with the bounds guard, TFLM in a child, PASS."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    model = tmp_path / "mean_same_scale.tflite"
    model.write_bytes(mean(**CASES["same_scale_drop_dims"]))
    out = subprocess.run([sys.executable, "-m", "codegen", "verify", "--model", str(model), "--samples", "20",
                          "--sanitize"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "20/20" in out.stdout and "PASS" in out.stdout and not out.stderr.strip()
