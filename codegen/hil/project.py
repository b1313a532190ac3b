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
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen.boards import Board
from codegen.errors import CodegenError, DeviceError

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
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Emulator:
    """A running QEMU with the board's UART on ``url``."""

    process: subprocess.Popen
    url: str
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_emulator(elf: Path, board: Board, *, port: int | None = None, log_dir: Path | None = None,
                   startup_timeout: float = 10.0) -> Emulator:
    """Start QEMU on ``elf`` with the UART on 127.0.0.1:``port`` (a free one by default); waits until it listens."""
    spec = board.emulator
    if spec is None:
        raise CodegenError(f"board {board.name} is not emulated", hint="pass --port of the real board instead")
    program = shutil.which(spec.program)
    if program is None:
        raise DeviceError(f"{spec.program} is not installed", hint="apt-get install qemu-system-arm, or use --port")
    if not elf.is_file():
        raise DeviceError(f"firmware {elf} does not exist", hint="build the project first: codegen build DIR")
    port = port or free_port()
    extra = [a for a in spec.extra_args if a != "-nographic"]
    while "-monitor" in extra:  # we pass our own -monitor none
        i = extra.index("-monitor")
        del extra[i : i + 2]
    cmd = [program, "-M", spec.machine, "-cpu", spec.cpu, "-display", "none", "-monitor", "none",
           "-icount", f"shift={spec.icount_shift}", *extra, "-kernel", str(elf),
           "-chardev", f"socket,id=s0,host=127.0.0.1,port={port},server=on,wait=off,nodelay=on",
           "-serial", "chardev:s0"]
    log_path = (log_dir or elf.parent) / f"qemu-{port}.log"
    log.info("starting %s", " ".join(cmd))
    with log_path.open("wb") as log_fh:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log_fh, stderr=subprocess.STDOUT)
    emu = Emulator(proc, f"socket://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DeviceError(f"QEMU exited with code {proc.returncode}: {log_path.read_text().strip()[-300:]}",
                              hint="check the firmware ELF and the QEMU version (machine netduinoplus2)")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return emu
        except OSError:
            time.sleep(0.05)
    emu.stop()
    raise DeviceError(f"QEMU did not open its serial socket on port {port} within {startup_timeout:.0f} s",
                      hint="is the port taken? try again")


@contextlib.contextmanager
def running_emulator(project: Path, board: Board) -> Iterator[str]:
    """Build the project if needed, run its firmware in QEMU, yield the serial URL; QEMU is always stopped."""
    built = build_project(project)
    emu = start_emulator(built.elf, board)
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
