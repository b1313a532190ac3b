"""The pytest plugin explains why on-board tests are skipped."""

from __future__ import annotations

from codegen.hil import pytest_plugin


def test_missing_emulator_tools_give_a_skip_reason_naming_them(monkeypatch):
    monkeypatch.setattr(pytest_plugin.shutil, "which", lambda name: None if name == "qemu-system-arm" else "/x")
    reason = pytest_plugin.emulator_skip_reason()
    assert reason is not None and "qemu-system-arm not installed" in reason and "--port" in reason
    monkeypatch.setattr(pytest_plugin.shutil, "which", lambda name: "/usr/bin/" + name)
    assert pytest_plugin.emulator_skip_reason() is None


def test_a_generated_project_is_found_from_inside_its_test_folder(tmp_path):
    (tmp_path / "test").mkdir()
    (tmp_path / "platformio.ini").write_text("[env:x]\n")
    (tmp_path / "test" / "cg_test_config.json").write_text("{}")
    assert pytest_plugin._enclosing_project(tmp_path / "test") == tmp_path
    assert pytest_plugin._enclosing_project(tmp_path.parent) is None
