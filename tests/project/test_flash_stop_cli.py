"""`codegen flash` starts the emulated board in the background and `codegen stop` ends it again."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.project.conftest import free_port


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _codegen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_flash_starts_qemu_and_stop_ends_it(tmp_path, kws_model):
    if shutil.which("qemu-system-arm") is None or shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc not installed")
    project = tmp_path / "kws-qemu"
    assert _codegen("--board", "qemu", "--model", str(kws_model), "--out", str(project)).returncode == 0
    assert _codegen("build", str(project)).returncode == 0
    port = free_port()
    flashed = _codegen("flash", str(project), "--port", f"127.0.0.1:{port}")
    try:
        assert flashed.returncode == 0, flashed.stderr
        assert _listening(port)
    finally:
        stopped = _codegen("stop", str(project))
    assert stopped.returncode == 0, stopped.stderr
    deadline = time.monotonic() + 5
    while _listening(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(port)


def test_stop_refuses_a_real_board_project(tmp_path, kws_model):
    project = tmp_path / "kws-f446"
    assert _codegen("--board", "nucleo_f446re", "--model", str(kws_model), "--out", str(project)).returncode == 0
    out = _codegen("stop", str(project))
    assert out.returncode == 2 and "only the emulated board" in out.stderr
