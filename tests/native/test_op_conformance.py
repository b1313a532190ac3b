"""Single-op models (built with TensorFlow) run bit-exact against TFLM: every kernel, geometry and activation."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from codegen.verify import FLOAT_ATOL, FLOAT_RTOL, random_input
from tests.native.op_models import SPECS, OpSpec, build

SAMPLES = 30


def _inputs(graph, spec: OpSpec, rng: np.random.Generator) -> list[np.ndarray]:  # noqa: ANN001
    xs = []
    for t in graph.input_tensors:
        if t.dtype.np == np.int8:
            xs.append(random_input(t.shape, t.dtype, rng))
        else:
            lo, hi = spec.input_range
            xs.append(rng.uniform(lo, hi, size=t.shape).astype(np.float32))
    return xs


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_single_op_model_matches_tflm(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(7)
    for _ in range(SAMPLES):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            theirs = np.asarray(theirs).reshape(mine.shape)
            if spec.quant == "float32":
                np.testing.assert_allclose(mine, theirs, rtol=FLOAT_RTOL, atol=FLOAT_ATOL)
            else:
                np.testing.assert_array_equal(mine, theirs)


SANITIZED = ("add_broadcast_tabulated", "sub_broadcast_tabulated", "tanh", "hard_swish_wide", "hard_swish_narrow")


@pytest.mark.parametrize("name", SANITIZED)
def test_newer_int8_kernels_are_clean_under_sanitizers_and_match_tflm(name: str, build_cache) -> None:  # noqa: ANN001
    spec = next(s for s in SPECS if s.name == name)
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, sanitize=True, opt="-O1")
    ref = ReferenceModel(path)
    rng = np.random.default_rng(11)
    for _ in range(5):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


DSP_OPS = ("conv_", "dw_", "fc_", "add_", "sub_", "mul_", "maxpool_", "avgpool_")
DSP_SPECS = [s for s in SPECS if s.quant != "float32" and s.name.startswith(DSP_OPS)]


@pytest.mark.parametrize("spec", DSP_SPECS, ids=[s.name for s in DSP_SPECS])
def test_dsp_kernel_variants_match_tflm(spec: OpSpec, build_cache) -> None:  # noqa: ANN001
    """The Cortex-M DSP variants and their packed weights, compiled on the host with cg_dsp.h's C equivalents of
    the DSP instructions (the emulated-board tests run the instructions themselves)."""
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels="dsp"))
    ref = ReferenceModel(path)
    rng = np.random.default_rng(13)
    for _ in range(SAMPLES):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))


@pytest.mark.parametrize("name", ["conv_k3_dilation2_same", "conv_c1_k5_same_per_tensor"])
def test_dsp_conv_is_clean_under_sanitizers(name: str, build_cache) -> None:  # noqa: ANN001
    spec = next(s for s in SPECS if s.name == name)
    path = build(spec)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, sanitize=True, opt="-O1", options=NativeOptions(kernels="dsp"))
    assert any("_dsp_" in k for k in ours.sources.kernels)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(17)
    for _ in range(3):
        xs = _inputs(graph, spec, rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
