"""On-board tests of this generated project, over the serial protocol (see docs/protocol.md in codegen).

    pytest test/                        # emulated board: build, start QEMU, test, stop
    pytest test/ --port /dev/ttyACM0    # the flashed board
"""

import json
from pathlib import Path

CONFIG = json.loads((Path(__file__).parent / "cg_test_config.json").read_text())


def test_board_runs_the_model_this_project_was_generated_from(hil_target):
    info = hil_target.info()
    assert info.model_sha256 == CONFIG["model_sha256"]
    assert info.tool_version == CONFIG["tool_version"]


def test_board_reproduces_the_golden_outputs_bit_for_bit(hil_target, hil_golden):
    for k, (data, expected) in enumerate(hil_golden):
        result = hil_target.infer(data)
        assert result.output == expected, f"golden vector {k}: device output differs from the TFLM reference"
        assert result.cycles > 0


def test_board_answers_the_same_input_with_the_same_output(hil_target, hil_golden):
    data, _ = hil_golden[0]
    assert hil_target.infer(data).output == hil_target.infer(data).output


def test_board_reports_one_cost_per_layer(hil_target, hil_golden):
    per_layer = hil_target.profile(hil_golden[0][0])  # (layer name, counter ticks) per layer
    assert len(per_layer) == hil_target.info().num_layers
    assert all(name for name, _ in per_layer) and sum(ticks for _, ticks in per_layer) > 0
