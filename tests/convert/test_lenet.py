"""Done-when of ONNX input: the shipped PyTorch-style NCHW LeNet (models/lenet_digits.onnx) becomes an int8
.tflite (NHWC, no TRANSPOSE) through `codegen convert`, its float twin agrees with onnxruntime to 1e-3, its
generated C is bit-exact with TFLM, and `codegen generate --board qemu` / `codegen build` / `codegen validate
--project` pass on the emulated board."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from codegen.hil.pytest_plugin import emulator_skip_reason
from codegen.verify import verify
from tests.conftest import ROOT
from tests.convert.helpers import float_agreement, tflite_io, tflite_ops
from tests.convert.onnx_models import lenet_digits

SHIPPED = ROOT / "models" / "lenet_digits.onnx"


def run_cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    d = tmp_path_factory.mktemp("lenet")
    out = run_cli("convert", "--model", str(SHIPPED), "--out", str(d / "lenet.tflite"), "--dataset", "digits")
    assert out.returncode == 0, out.stderr[-3000:]
    return SHIPPED, d / "lenet.tflite", out


def test_shipped_model_is_what_the_builder_makes():
    import onnx
    from onnx import numpy_helper

    shipped, built = onnx.load(str(SHIPPED)), lenet_digits()
    assert [(n.op_type, list(n.input)) for n in shipped.graph.node] == [
        (n.op_type, list(n.input)) for n in built.graph.node]
    assert shipped.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch_size"
    weights = {i.name: numpy_helper.to_array(i) for i in built.graph.initializer}
    for init in shipped.graph.initializer:
        np.testing.assert_allclose(numpy_helper.to_array(init), weights[init.name], rtol=1e-3, atol=1e-4)


def test_convert_reports_the_checks_and_writes_the_files(converted):
    _, model, out = converted
    text = out.stdout
    assert "(1x1x28x28, batch set to 1) ->" in text and "int8, input 1x28x28x1" in text
    assert "float TFLite vs onnxruntime, random normal, 20 samples: max |diff|" in text
    assert "float TFLite vs onnxruntime, dataset digits (test split), 20 samples" in text
    assert "accuracy on 355 test samples: ONNX float" in text and "points)" in text
    assert "1 flatten(s) before a linear layer folded" in text
    side = json.loads(model.with_name("lenet.preprocess.json").read_text())
    assert side["dataset"] == "digits" and side["classes"] == [str(i) for i in range(10)]
    assert side["preprocess"]["size"] == [28, 28] and side["preprocess"]["channels"] == 1
    assert side["input"]["dtype"] == "INT8" and side["input"]["shape"] == [1, 28, 28, 1]
    assert json.loads(model.with_name("lenet_float32.preprocess.json").read_text())["input"]["dtype"] == "FLOAT32"
    rec = json.loads(model.with_name("lenet_convert.json").read_text())
    assert rec["source"]["onnx"] == "lenet_digits.onnx"
    assert rec["mode"] == "int8" and rec["calibration_samples"] == 200
    assert rec["input"] == {"onnx_shape": [1, 1, 28, 28], "shape": [1, 28, 28, 1],
                            "layout": "channel-last (NHWC)", "batch_fixed_to_1": True}
    assert rec["dataset"]["name"] == "digits"
    assert rec["dataset"]["preprocess"] == {"size": [28, 28], "crop": "none", "channels": 1, "bgr": False,
                                            "mean": [0.0], "scale": [1 / 255]}
    assert rec["checks"]["max_abs_diff"] <= 1e-3 and rec["ops_without_codegen_support"] == []
    acc = rec["accuracy"]
    assert acc["samples"] == 355 and acc["onnx_float"] >= 0.88 and acc["int8"] >= 0.88 and acc["change"] >= -0.03


def test_float_twin_agrees_with_onnxruntime(converted):
    onnx_path, model, _ = converted
    assert float_agreement(onnx_path, model.with_name("lenet_float32.tflite"), (1, 1, 28, 28)) <= 1e-3


def test_int8_model_is_nhwc_without_transpose(converted):
    _, model, _ = converted
    inp, out = tflite_io(model)
    assert tuple(inp["shape"]) == (1, 28, 28, 1) and inp["dtype"].__name__ == "int8"
    assert tuple(out["shape"]) == (1, 10) and out["dtype"].__name__ == "int8"
    assert tflite_ops(model) == ["CONV_2D", "MAX_POOL_2D", "CONV_2D", "MAX_POOL_2D", "RESHAPE",
                                 "FULLY_CONNECTED", "FULLY_CONNECTED", "FULLY_CONNECTED"]


def test_generated_c_is_bit_exact_with_tflm(converted):
    _, model, _ = converted
    report = verify(model, samples=50)
    assert report.quantized and report.exact_matches == 50


@pytest.mark.slow
@pytest.mark.emulator
def test_generate_build_validate_on_the_emulated_board(converted, tmp_path):
    reason = emulator_skip_reason()
    if reason:
        pytest.skip(reason)
    _, model, _ = converted
    project = tmp_path / "lenet-qemu"
    gen = run_cli("generate", "--board", "qemu", "--model", str(model), "--out", str(project))
    assert gen.returncode == 0, gen.stderr[-3000:]
    build = run_cli("build", str(project), timeout=900)
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    report_dir = tmp_path / "report"
    val = run_cli("validate", "--project", str(project), "--model", str(model), "--dataset", "digits", "--limit", "20",
                  "--float-model", str(model.with_name("lenet_float32.tflite")), "--no-plots",
                  "--out", str(report_dir), timeout=900)
    assert val.returncode == 0, (val.stdout + val.stderr)[-3000:]
    report = json.loads((report_dir / "validation.json").read_text())
    assert report["passed"] and report["device_exact_rate"] == 1.0
    assert report["accuracy"]["device"] >= 0.85
    exact = {c["a"] + ">" + c["b"]: c["exact"] for c in report["comparisons"]}
    assert exact["reference>device"] == 20 and exact["host_c>device"] == 20
