"""`codegen analyze` reports the cost figures MLPerf Tiny publishes, computed here independently."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from codegen.analysis import analyze, liveness_peak
from codegen.boards import load_board
from codegen.frontend import load_model
from tests.conftest import ROOT, shared_model


def conv_macs(h, w, cout, k, cin):
    return h * w * cout * k * k * cin


# ResNet-8 (MLPerf Tiny): written out layer by layer from the architecture, not from the model file.
RESNET8_MACS = (
    conv_macs(32, 32, 16, 3, 3)            # stem
    + 2 * conv_macs(32, 32, 16, 3, 16)     # stack 1
    + conv_macs(16, 16, 32, 3, 16) + conv_macs(16, 16, 32, 3, 32) + conv_macs(16, 16, 32, 1, 16)  # stack 2
    + conv_macs(8, 8, 64, 3, 32) + conv_macs(8, 8, 64, 3, 64) + conv_macs(8, 8, 64, 1, 32)        # stack 3
    + 64 * 10                              # classifier
)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def test_resnet8_macs_and_parameters_match_the_architecture():
    out = run_cli("analyze", "--json", "--model", str(shared_model("resnet8_cifar10_int8.tflite")))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert RESNET8_MACS == 12_501_632
    assert abs(report["macs"] - 12.5e6) / 12.5e6 < 0.01
    assert report["macs"] == RESNET8_MACS
    # 78,666 Keras parameters minus the batch-norm statistics folded away by the converter
    assert 77_000 <= report["parameters"] <= 78_700
    assert report["op_set"] == ["ADD", "AVERAGE_POOL_2D", "CONV_2D", "FULLY_CONNECTED", "RESHAPE", "SOFTMAX"]
    assert len(report["layers"]) == 16


def test_vww_macs_are_about_7_5_million():
    cost = analyze(load_model(shared_model("vww_mobilenetv1_025_96_int8.tflite")))
    # MobileNetV1 0.25 at 96x96: published 7.5 M MACs
    assert abs(cost.macs - 7.5e6) / 7.5e6 < 0.02


def test_layer_rows_report_shapes_weights_and_activation_bytes():
    cost = analyze(load_model(shared_model("kws_dscnn_int8.tflite")))
    first = cost.layers[0]
    assert first.op == "CONV_2D"
    assert first.outputs[0].shape == (1, 25, 5, 64)
    assert first.output_bytes == 25 * 5 * 64
    assert first.weight_bytes == 64 * 10 * 4 * 1 + 64 * 4  # int8 filter + int32 bias
    assert cost.weight_bytes == sum(layer.weight_bytes for layer in cost.layers)


def test_peak_activation_estimate_counts_live_tensors():
    g = load_model(shared_model("kws_dscnn_int8.tflite"))
    # the largest step holds two 25x5x64 int8 activations (a layer's input and output) at once
    assert liveness_peak(g) == 2 * 25 * 5 * 64


def test_fit_verdict_against_board_limits():
    g = load_model(shared_model("vww_mobilenetv1_025_96_int8.tflite"))
    fit = analyze(g, load_board("nucleo_l4r5zi")).fit
    assert fit.fits and fit.flash_available == 2 * 1024 * 1024
    small = analyze(g, load_board("emulated_stm32f405")).fit
    assert small.ram_available == 128 * 1024


def test_analyze_table_output_names_totals():
    out = run_cli("analyze", "--model", str(shared_model("kws_dscnn_int8.tflite")), "--board", "esp32")
    assert out.returncode == 0, out.stderr
    assert "MACs:" in out.stdout and "fit on esp32dev: FITS" in out.stdout


@pytest.mark.parametrize("cmd", [["--help"], ["boards"], ["ops"], ["boards", "--json"], ["ops", "--json"]])
def test_basic_commands_work(cmd):
    out = run_cli(*cmd)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_ops_lists_every_op_the_issue_names():
    out = run_cli("ops", "--json")
    names = {o["op"] for o in json.loads(out.stdout)}
    for op in ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN", "ADD",
               "MUL", "CONCATENATION", "RESHAPE", "SQUEEZE", "PAD", "SOFTMAX", "LOGISTIC", "RELU", "RELU6",
               "LEAKY_RELU", "HARD_SWISH", "QUANTIZE", "DEQUANTIZE"]:
        assert op in names
