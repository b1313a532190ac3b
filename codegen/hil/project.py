"""Generated projects for hardware-in-the-loop runs: generate (cached), build, emulate, `pio test`.

These wrap the project writer (:mod:`codegen.project.writer`) and the PlatformIO helpers
(:mod:`codegen.project.pio`), and start QEMU for an emulated-board project as a child process with its UART on a
free local TCP port, so that a test session or ``codegen validate --project`` owns the emulator and always stops
it (also on errors and Ctrl-C).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen.boards import Board

log = logging.getLogger(__name__)

SELFTEST_INI = ".cg_selftest.ini"


def ensure_project(model: Path, board: Board, cache_root: Path, *, vectors: int = 4) -> Path:
    """The project for (model, board) under ``cache_root``, regenerated from the current sources.

    Regeneration is cheap and keeps ``.pio/`` (files the manifest does not list), so the following build is
    incremental; a cached project can never hold firmware from older sources.
    """
    from codegen.frontend import load_model
    from codegen.hil.golden import write_selftest
    from codegen.project.writer import generate_project

    digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]
    root = cache_root / f"{model.stem}-{board.name}-{digest}"
    generate_project(model, board, root, force=True)
    if not (root / "test" / "cg_golden.json").is_file():  # the writer does not add the self-test files (yet)
        write_selftest(root, load_model(model), board, vectors)
    return root


@dataclass(frozen=True)
class Built:
    project: Path
    elf: Path


def build_project(project: Path) -> Built:
    """``pio run`` in the project (incremental: quick when nothing changed).

    Always run rather than trusting an existing ELF: a plain ``pio test`` builds the self-test into the same
    folder, and that ELF does not speak the serial protocol.
    """
    from codegen.project import pio

    result = pio.build(project)
    return Built(project, result.elf)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    from codegen.project.emulator import free_port as _free_port

    return _free_port()


@contextlib.contextmanager
def running_emulator(project: Path, board: Board) -> Iterator[str]:
    """Build the project if needed, run its firmware in QEMU, yield the serial URL; QEMU is always stopped."""
    from codegen.project.emulator import start

    built = build_project(project)
    emu = start(project, board=board, elf=built.elf)
    try:
        yield emu.url
    finally:
        emu.stop()


@dataclass(frozen=True)
class SelftestResult:
    returncode: int
    passed: int
    failed: int
    output: str


def run_selftest(project: Path, *, timeout: float = 600) -> SelftestResult:
    """``pio test`` in the project (custom runner, emulator or board); counts PASS/FAIL test cases."""
    from codegen.project import pio

    project = project.resolve()
    args = ["test", "-d", str(project)]
    ini = (project / "platformio.ini").read_text()
    if not re.search(r"^\s*test_framework\s*=\s*custom", ini, flags=re.M):
        # the project template does not select the custom runner (yet): use a copy of the config that does
        conf = project / SELFTEST_INI
        text = re.sub(r"^(\[env:[^\]]+\]\s*)$", r"\1\ntest_framework = custom", ini, count=1, flags=re.M)
        conf.write_text(text)
        args += ["-c", str(conf)]
    cmd_env = pio.pio_env(project)
    cmd_env["PLATFORMIO_BUILD_DIR"] = str(project / ".pio" / "selftest")  # keep the app firmware's ELF intact
    import sys

    proc = subprocess.run([sys.executable, "-m", "platformio", *args], cwd=project, env=cmd_env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    out = (proc.stdout or "") + (proc.stderr or "")
    passed = len(re.findall(r":PASS\b", out))
    failed = len(re.findall(r":FAIL\b", out))
    return SelftestResult(proc.returncode, passed, failed, out)
