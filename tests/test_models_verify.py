"""Every int8 model the training pipeline ships in models/ runs bit-exact through the generated C (vs TFLM)."""

from __future__ import annotations

import pytest

from codegen.verify import verify
from tests.conftest import ROOT

INT8_MODELS = sorted(p.name for p in (ROOT / "models").glob("*int8.tflite"))


def test_models_folder_ships_the_example_model():
    assert "squeezenet_int8.tflite" in INT8_MODELS


@pytest.mark.parametrize("name", INT8_MODELS)
def test_shipped_int8_model_is_bit_exact_with_tflm(name, tmp_path):
    report = verify(ROOT / "models" / name, samples=100, tflm_arena=False, cache_dir=tmp_path)
    assert report.quantized
    assert report.exact_matches == 100, report.as_dict()
