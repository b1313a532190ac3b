"""The pytest plugin explains why on-board tests are skipped."""

from __future__ import annotations

from codegen.boards import load_board
from codegen.hil import pytest_plugin
from codegen.project import emulator


def test_missing_emulator_tools_give_a_skip_reason_naming_them(monkeypatch):
    monkeypatch.setattr(emulator.shutil, "which", lambda name: None if name == "qemu-system-arm" else "/x")
    reason = pytest_plugin.emulator_skip_reason()
    assert reason is not None and "qemu-system-arm not installed" in reason and "--port" in reason
    monkeypatch.setattr(emulator.shutil, "which", lambda name: "/usr/bin/" + name)
    assert pytest_plugin.emulator_skip_reason() is None


def test_the_skip_reason_names_the_tools_of_the_board_under_test(monkeypatch):
    monkeypatch.setattr(emulator.shutil, "which", lambda name: None if name.startswith("riscv64") else "/x")
    assert pytest_plugin.emulator_skip_reason() is None  # the STM32F405 needs no RISC-V compiler
    reason = pytest_plugin.emulator_skip_reason(load_board("emulated_rv32imc"))
    assert reason is not None and "riscv64-unknown-elf-gcc not installed" in reason
    assert "gcc-riscv64-unknown-elf" in reason


def test_a_generated_project_is_found_from_inside_its_test_folder(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "platformio.ini").write_text("[env:x]\n")
    (tmp_path / "test" / "cg_test_config.json").write_text("{}")
    assert pytest_plugin._enclosing_project(tmp_path / "test") == tmp_path
    assert pytest_plugin._enclosing_project(tmp_path.parent) is None
