"""Whole reference models: int8 bit-exact against TFLM on 100 random inputs, float32 within tolerance,
and our planned arena no larger than TFLM's minimal arena."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.frontend import load_model
from codegen.reference import ReferenceModel, minimal_arena_size
from codegen.verify import FLOAT_ATOL, FLOAT_RTOL, random_input
from tests.conftest import shared_model

INT8_MODELS = [
    "resnet8_cifar10_int8.tflite",
    "vww_mobilenetv1_025_96_int8.tflite",
    "kws_dscnn_int8.tflite",
    "ad01_fc_autoencoder_int8.tflite",
]


@pytest.mark.parametrize("name", INT8_MODELS)
def test_int8_model_is_bit_exact_with_tflm_on_100_inputs(name: str, build_cache) -> None:  # noqa: ANN001
    path = shared_model(name)
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(2024)
    spec = graph.input_tensors[0]
    for _ in range(100):
        x = random_input(spec.shape, spec.dtype, rng)
        np.testing.assert_array_equal(
            ours.predict(x)[0], np.asarray(ref.predict(x)[0]).reshape(ours.outputs[0].shape)
        )


@pytest.mark.parametrize("name", INT8_MODELS)
def test_planned_arena_is_not_larger_than_tflm_minimal_arena(name: str) -> None:
    from codegen.backend.native import plan

    path = shared_model(name)
    assert plan(load_model(path)).arena_bytes <= minimal_arena_size(path, granularity=256)


def test_float32_resnet8_matches_tflm_within_tolerance(build_cache) -> None:  # noqa: ANN001
    path = shared_model("resnet8_cifar10_float32.tflite")
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(3)
    for _ in range(20):
        x = rng.uniform(0, 255, size=graph.input_tensors[0].shape).astype(np.float32)
        np.testing.assert_allclose(
            ours.predict(x)[0],
            np.asarray(ref.predict(x)[0]).reshape(ours.outputs[0].shape),
            rtol=FLOAT_RTOL,
            atol=FLOAT_ATOL,
        )
