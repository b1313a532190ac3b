"""Small robustness points of issue #11: quiet TensorFlow start-up, unwritable output folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codegen import tflog
from tests.conftest import ROOT
from tests.safety.cases import VALID


def test_first_import_of_a_noisy_module_writes_nothing_to_fd_2(tmp_path: Path, capfd, monkeypatch) -> None:  # noqa: ANN001
    """C++ start-up logs are written to file descriptor 2 directly; the import hook silences exactly that."""
    (tmp_path / "cg_noisy_native.py").write_text("import os\nos.write(2, b'I0000 cudart_stub.cc:31] noise\\n')\n"
                                                 "VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "cg_noisy_native", raising=False)
    tflog.install(modules=("cg_noisy_native",))
    import cg_noisy_native  # noqa: PLC0415

    assert cg_noisy_native.VALUE == 42
    assert "noise" not in capfd.readouterr().err
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_debug_keeps_tensorflow_logging(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    before = list(sys.meta_path)
    tflog.install(debug=True)
    assert sys.meta_path == before and os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codegen", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_unwritable_out_folder_is_exit_2_with_path_and_reason(tmp_path: Path) -> None:
    model = tmp_path / "relu.tflite"
    model.write_bytes(VALID["RELU"]())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        out = _cli("emit-c", "--model", str(model), "--out", str(locked / "c"))
    finally:
        locked.chmod(0o700)
    assert out.returncode == 2, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and str(locked / "c") in lines[0] and "ermission" in lines[0]


@pytest.mark.parametrize("command", ["emit-c", "generate"])
def test_out_path_under_a_file_is_exit_2_with_path_and_reason(tmp_path: Path, command: str) -> None:
    """A path that cannot be created (a regular file in the way) works even as root."""
    model = tmp_path / "relu.tflite"
    model.write_bytes(VALID["RELU"]())
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    target = blocker / "out"
    extra = ["--board", "qemu"] if command == "generate" else []
    out = _cli(command, "--model", str(model), "--out", str(target), *extra)
    assert out.returncode == 2, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert "Traceback" not in out.stderr and str(blocker) in lines[0]
