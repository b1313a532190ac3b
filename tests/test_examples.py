"""The example projects committed under generated/ are exactly what codegen writes today (deterministic output)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

EXAMPLES = ["emulated_stm32f405", "emulated_rv32imc", "esp32dev", "nucleo_l4r5zi"]


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {".pio", ".pio-core"} & set(p.relative_to(root).parts)}


@pytest.mark.parametrize("board", EXAMPLES)
def test_committed_example_project_regenerates_byte_identical(tmp_path, board):
    committed = ROOT / "generated" / f"squeezenet_int8-{board}"
    assert committed.is_dir(), f"{committed} missing: run scripts/regenerate-examples.sh"
    out = tmp_path / "project"
    run = subprocess.run([sys.executable, "-m", "codegen", "--board", board, "--model", "models/squeezenet_int8.tflite",
                          "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    want, got = _files(committed), _files(out)
    assert sorted(want) == sorted(got)
    changed = [name for name in want if want[name] != got[name]]
    assert not changed, f"regenerate with scripts/regenerate-examples.sh; differing files: {changed[:10]}"
