"""The reference runtimes run in a child process: a crash is one line, never the tool's own death."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from codegen.reference import FAULT_ENV, REFERENCE_NAMES, TFLITE_REF, TFLM, IsolatedReference
from tests.conftest import ROOT
from tests.safety.builder import q8, single_op
from tests.safety.cases import VALID


def _verify(model: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", "verify", "--model", str(model), *extra],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, env={**os.environ, **(env or {})})


def test_tflm_in_a_child_process_gives_the_same_outputs_as_in_process() -> None:
    from codegen.reference import ReferenceModel

    data = VALID["CONV_2D"]()
    x = np.random.default_rng(3).integers(-128, 128, (1, 6, 6, 3), dtype=np.int8)
    with IsolatedReference(data) as ref:
        (got,) = ref.predict_many([[x]])
        assert ref.kind == TFLM and not ref.notes
        assert ref.minimal_arena() is not None
    np.testing.assert_array_equal(got[0], ReferenceModel(data).predict(x)[0])


def test_crashing_tflm_falls_back_to_tflite_reference_kernels_and_says_so(tmp_path: Path) -> None:
    model = tmp_path / "relu.tflite"
    model.write_bytes(VALID["RELU"]())
    out = _verify(model, "--samples", "20", env={FAULT_ENV: TFLM})
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    warnings = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(warnings) == 1 and warnings[0].startswith("warning: ")
    assert "TFLM" in warnings[0] and "aborted" in warnings[0] and "SIGABRT" in warnings[0]
    assert f"reference         {REFERENCE_NAMES[TFLITE_REF]}" in out.stdout
    assert "PASS" in out.stdout


def test_tflm_abort_on_a_tiny_softmax_scale_is_one_line_not_a_dead_tool() -> None:
    """Issue #11: a softmax input scale of 7.8e-9 makes TFLM's QuantizeMultiplierGreaterThanOne abort(); in the
    child that is one line naming the signal (TensorFlow Lite's kernel aborts on it as well)."""
    from codegen.errors import CodegenError

    data = single_op("SOFTMAX", [q8((1, 10), 7.8e-9, 0)], q8((1, 10), 1 / 256, -128), beta=1.0)
    try:
        IsolatedReference(data, kinds=(TFLM,))
    except CodegenError as exc:
        message = str(exc)
    else:
        raise AssertionError("TFLM ran the model")
    assert "\n" not in message and "SIGABRT" in message and REFERENCE_NAMES[TFLM] in message


def test_model_that_aborts_every_reference_gives_exit_2_naming_both_reasons(tmp_path: Path) -> None:
    model = tmp_path / "relu.tflite"
    model.write_bytes(VALID["RELU"]())
    out = _verify(model, "--samples", "3", env={FAULT_ENV: f"{TFLM},{TFLITE_REF}"})
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: no reference runtime can run this model")
    assert lines[0].count("SIGABRT") == 2
    assert REFERENCE_NAMES[TFLM] in lines[0] and REFERENCE_NAMES[TFLITE_REF] in lines[0]


def test_samples_above_the_cap_are_refused_before_any_work(tmp_path: Path) -> None:
    model = tmp_path / "relu.tflite"
    model.write_bytes(VALID["RELU"]())
    out = _verify(model, "--samples", "1000000000")
    assert out.returncode == 2
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "100,000" in lines[0]
