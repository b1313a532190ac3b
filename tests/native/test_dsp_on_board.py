"""The Cortex-M DSP kernels on the emulated STM32F405 (real SMLAD/SXTB16 instructions), bit-exact with TFLM.

Single-op conformance models chosen for the awkward cases (channel counts not divisible by 4, odd output
channels, stride 2, dilation, SAME/VALID, per-tensor quantization, ReLU/ReLU6 clamps, depthwise and fully
connected) are generated for the board, built, run in QEMU and checked with ``codegen validate --project``
against the TFLM reference and the generated C on the host. The MLPerf models run the same kernels in
benchmarks/device; the session's HIL project (SqueezeNet) runs them in tests/hil.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.boards import load_board
from codegen.cli import main
from codegen.hil.project import ensure_project
from codegen.hil.pytest_plugin import emulator_skip_reason
from tests.native.op_models import SPECS, build

pytestmark = [pytest.mark.slow, pytest.mark.emulator]

BOARD = "emulated_stm32f405"
CASES = (
    "conv_k1_s2_nobias_odd",   # 9 input channels (staged im2col), 3 output channels, stride 2, no bias
    "conv_k3_dilation2_same",  # dilation 2, SAME padding, 3 input channels (taps packed: cg_conv2d_dsp_c1_s8)
    "conv_c1_k5_valid_relu",   # one input channel, 5x5: 28 packed steps instead of 40, 6 output channels
    "conv_c2_k5_s2_same_relu6",  # two input channels, 5x5 stride 2 SAME (rows assembled at borders), 5 outputs
    "conv_c1_k10x4_s2_same",   # one input channel, KWS's 10x4 stride 2 SAME (cg_conv2d_dsp_s8), 10 outputs
    "conv_k5_s2_same_relu6",   # 5x5 stride 2, ReLU6 clamp
    "conv_k3_per_tensor",      # per-tensor weights, ReLU
    "conv_pw_c16_relu",        # 1x1 with 16 input channels (read in place), 12 output channels
    "conv_k3_s2_c8_relu6_odd", # 8 input channels (two-pixel im2col), 7 output channels, stride 2
    "dw_k5_valid_m1",          # depthwise 5x5 VALID, 6 channels: the kernel's C row loop (real SMMLAR)
    "dw_k3_s1_c8",             # depthwise 3x3, 8 channels: the Thumb-2 row loop
    "dw_k3_dilation2_m1",      # depthwise dilation 2, SAME, 5 channels: the Thumb-2 loop, 1 channel left over
    "dw_k3_s2_same_c11",       # depthwise stride 2 SAME, 11 channels: the Thumb-2 loop, 3 channels left over
    "fc_relu",                 # fully connected
    "fc_deep_relu6",           # depth 601 (3 accumulation chunks, a tail of 1), 6 units, ReLU6 clamp
    "fc_wide",                 # 20 units: two groups of 8 with the output stage in registers, a partial one
    "fc_19_units_odd_depth",   # per channel: the per-unit output table, depth 21 (tail), 19 units
    "fc_rows3_relu",           # a Dense per time step: 3 rows (keep_num_dims), 8 units, ReLU
    "add_same_shape_tabulated",  # ADD, 1,024 elements, tabulated rescalings, SMMULR output stage
    "add_relu6_odd",           # ADD, 105 elements (remainder loop), ReLU6 clamp
    "sub_same_shape",          # SUB through the ADD kernel (second table negated)
    "maxpool_2x2_c14",         # MAX_POOL 2x2: SSUB8/SEL on 12 channels, 2 in one more word (the last window bytewise)
    "maxpool_2x2",             # MAX_POOL 2x2 stride 2, 3 channels: one word per window (the last one bytewise)
    "avgpool_20x20_c8",        # AVERAGE_POOL over 400 values: SXTAB16 sums moved out every 255
    "mul_relu6_odd",           # MUL, 105 elements, SMMULR output stage, ReLU6 clamp
)


@pytest.mark.parametrize("name", CASES)
def test_dsp_kernels_on_the_emulated_board_match_tflm(name: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    board = load_board(BOARD)
    reason = emulator_skip_reason(board)
    if reason:
        pytest.skip(reason)
    model = build(next(s for s in SPECS if s.name == name))
    project = ensure_project(model, board, tmp_path)
    net = json.loads((project / ".codegen-manifest.json").read_text())["files"]
    assert any("_dsp_" in f and f.endswith("_s8.c") for f in net), "the board's core should get the DSP kernel variants"
    rc = main(["validate", "--project", str(project), "--model", str(model), "--samples", "20", "--timeout", "60",
               "--no-plots", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0


def test_dense_per_time_step_with_a_run_time_shape_on_the_emulated_board_matches_tflm(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """A Dense on a rank-4 input converted with an unknown batch (shapes computed at run time, which TFLM refuses):
    validate compares with TFLM on the shapes TensorFlow Lite resolves (tests/native/test_dense_sequence.py)."""
    from tests.native.test_dense_sequence import _convert

    board = load_board(BOARD)
    reason = emulator_skip_reason(board)
    if reason:
        pytest.skip(reason)
    model = _convert("t4_int8_relu", None)
    project = ensure_project(model, board, tmp_path)
    rc = main(["validate", "--project", str(project), "--model", str(model), "--samples", "20", "--timeout", "60",
               "--no-plots", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0


@pytest.mark.parametrize(("spec", "mode"), [("k3", "init"), ("k3", "blocks"), ("k1", "blocks")])
def test_compressed_dsp_conv_on_the_emulated_board_matches_tflm(spec: str, mode: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    """Pruned convolutions with coded weights: decoded at init for cg_conv2d_dsp_w8_s8 (int8 weights, its own
    Thumb-2 pass), or expanded per block of 3 groups of 4 channels inside cg_conv2d_dsp_sparse_s8 (several
    passes over the pixels; k1: 1x1, an odd pixel count)."""
    from codegen.backend.native import NativeOptions
    from codegen.compress.codec import HuffmanCodec
    from codegen.project.writer import generate_project
    from tests.native.test_conv_blocks import SPECS as PRUNED
    from tests.native.test_conv_blocks import _forced

    board = load_board(BOARD)
    reason = emulator_skip_reason(board)
    if reason:
        pytest.skip(reason)
    model = build(PRUNED[spec])
    kernel = "cg_conv2d_dsp_w8_s8" if mode == "init" else "cg_conv2d_dsp_sparse_s8"

    def network(graph, prefix):  # noqa: ANN001, ANN202
        from codegen.backend.native import generate

        if mode == "init":
            return generate(graph, prefix, NativeOptions(codec=HuffmanCodec(), decode="init", core=board.core))
        return _forced(model, 3, prefix)

    project = generate_project(model, BOARD, tmp_path / "coded", selftest=False, network=network).path
    assert f"{kernel}(" in (project / "src" / "net" / "cg_net.c").read_text()
    rc = main(["validate", "--project", str(project), "--model", str(model), "--samples", "20", "--timeout", "60",
               "--no-plots", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert rc == 0 and report["passed"] and report["device_exact_rate"] == 1.0
