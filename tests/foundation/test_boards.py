"""Boards are data, validated against a schema when loaded."""

from __future__ import annotations

import json

import pytest

from codegen.boards import list_boards, load_board, parse_board
from codegen.errors import BoardError

REQUIRED = ["esp32dev", "esp32-s3-devkitc-1", "esp32cam", "nucleo_f446re", "nucleo_l4r5zi", "disco_f746ng",
            "nucleo_h743zi", "emulated_stm32f405"]


def test_required_boards_exist_and_validate():
    names = {b.name for b in list_boards()}
    assert set(REQUIRED) <= names


def test_aliases_resolve():
    assert load_board("esp32").name == "esp32dev"
    assert load_board("ESP32").name == "esp32dev"
    assert load_board("qemu").name == "emulated_stm32f405"


def test_emulated_board_says_how_to_start_qemu():
    b = load_board("emulated_stm32f405")
    assert b.emulator.machine == "netduinoplus2" and b.emulator.icount_shift == 3
    assert b.core == "cortex-m4" and b.is_emulated


def test_esp32cam_has_psram_region():
    assert load_board("esp32cam").psram_bytes == 4 * 1024 * 1024


def test_l4r5zi_is_the_mlperf_reference_board():
    b = load_board("nucleo_l4r5zi")
    assert (b.clock_hz, b.flash_bytes, b.ram_bytes) == (120_000_000, 2 * 1024 * 1024, 640 * 1024)


def test_invalid_board_file_is_refused_with_the_field(tmp_path):
    from codegen.boards import boards_dir

    data = json.loads((boards_dir() / "nucleo_f446re.json").read_text())
    data["core"] = "cortex-m99"
    with pytest.raises(BoardError, match="core"):
        parse_board(data, "bad.json")
    data = json.loads((boards_dir() / "nucleo_f446re.json").read_text())
    del data["clock_hz"]
    with pytest.raises(BoardError, match="clock_hz"):
        parse_board(data, "bad.json")
