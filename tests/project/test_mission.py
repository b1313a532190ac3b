"""README's "the mission, step by step", run line by line as a new user would, on the emulated RISC-V board.

The lines are read from README.md and run in order in a scratch copy of the repository's layout (models/ holds
the model), with only `codegen` (this checkout) and the venv's `pio` on PATH, no PLATFORMIO_CORE_DIR, and no
network (an HTTP proxy that refuses every connection). The one deviation: the emulator's TCP port 5555 is replaced
by a free port, so that parallel runs do not collide. Then the freshly generated project's console is opened with
plain `pio device monitor`, and `codegen validate` runs through a socat pseudo-terminal bridge.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.project.conftest import free_port

pytestmark = [pytest.mark.slow, pytest.mark.emulator]

TOOLS = ("qemu-system-riscv32", "riscv64-unknown-elf-gcc")
MODEL = "squeezenet_int8.tflite"
NO_NETWORK = "http://127.0.0.1:9"  # discard port: every connection is refused
_DIR_OVERRIDES = ("PLATFORMIO_CORE_DIR", "PLATFORMIO_PLATFORMS_DIR", "PLATFORMIO_PACKAGES_DIR")


def mission_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    m = re.search(r"^## The mission, step by step\n.*?```sh\n(.*?)```", text, flags=re.S | re.M)
    assert m, "README.md has no 'The mission, step by step' section with a sh block"
    return [line for line in m.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


@dataclass
class Mission:
    root: Path
    env: dict[str, str]
    port: int
    project: Path | None = None
    outputs: dict[str, str] = field(default_factory=dict)


def _environment(root: Path, port: int) -> dict[str, str]:
    bindir = root / "bin"
    bindir.mkdir()
    shim = bindir / "codegen"  # `codegen` of this checkout (the venv's may be an older install)
    shim.write_text(f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT))} exec {shlex.quote(sys.executable)} "
                    "-m codegen \"$@\"\n")
    shim.chmod(0o755)
    venv_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if k not in _DIR_OVERRIDES and "proxy" not in k.lower()}
    env.pop("PYTHONPATH", None)
    env["PATH"] = os.pathsep.join([str(bindir), str(venv_bin), "/usr/local/bin", "/usr/bin", "/bin"])
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env[var] = NO_NETWORK
    env["PLATFORMIO_UPLOAD_PORT"] = f"127.0.0.1:{port}"
    return env


def _run(line: str, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    proc = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"`{line}` failed in {cwd} (exit {proc.returncode}):\n{out[-4000:]}"
    return out


@pytest.fixture(scope="module")
def mission(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mission]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    root = tmp_path_factory.mktemp("mission")
    (root / "models").mkdir()
    shutil.copy(ROOT / "models" / MODEL, root / "models" / MODEL)  # a copy: generated/ lands beside it
    (root / "run.sh").symlink_to(ROOT / "run.sh")
    port = free_port()
    mission = Mission(root=root, env=_environment(root, port), port=port)
    cwd = root
    try:
        for line in mission_lines():
            line = line.replace("5555", str(port))
            if line.startswith("cd "):
                cwd = (cwd / shlex.split(line)[1]).resolve()
                assert (cwd / "platformio.ini").is_file(), f"{line}: no project there"
                mission.project = cwd
                continue
            if line.startswith("eval "):  # check what it would put on PATH; this test's PATH is set above
                inner = re.fullmatch(r'eval "\$\((.*)\)"\s*(#.*)?', line)
                assert inner, line
                out = _run(inner.group(1), cwd, mission.env)
                m = re.fullmatch(r'export PATH="(.+)/bin:\$PATH"\n', out)
                assert m and (Path(m.group(1)) / "bin" / "pio").exists(), out
                mission.outputs["path"] = out
                continue
            mission.outputs[line.split("#")[0].strip()] = _run(line, cwd, mission.env)
        yield mission
    finally:
        if mission.project is not None:  # never leave QEMU behind, whatever failed
            subprocess.run(["bash", "-c", "pio run -t stop"], cwd=mission.project, env=mission.env,
                           capture_output=True, timeout=120, check=False)


def _output(mission: Mission, prefix: str) -> str:
    hits = [out for line, out in mission.outputs.items() if line.startswith(prefix)]
    assert len(hits) == 1, f"no single README line starting with {prefix!r}: {list(mission.outputs)}"
    return hits[0]


def test_every_line_of_the_mission_runs_offline_with_plain_pio(mission: Mission) -> None:
    assert (mission.root / "generated" / "squeezenet_int8-esp32dev" / "platformio.ini").is_file()
    assert mission.project == mission.root / "generated" / "squeezenet_int8-emulated_rv32imc"
    assert (mission.project / ".pio-core").is_dir()  # PlatformIO's state stayed in the project
    upload = _output(mission, "pio run -t upload")
    assert "QEMU running" in upload and f"socket://127.0.0.1:{mission.port}" in upload
    selftest = _output(mission, "pio test")
    assert re.search(r"(\d+) test cases: \1 succeeded", selftest), selftest[-3000:]
    validate = _output(mission, "codegen validate")
    assert "result: PASS" in validate and "reference -> device" in validate
    assert re.search(r"reference -> device\s+\d+/\d+ 100\.0%", validate)
    assert "instructions (QEMU icount, not real cycles)" in validate  # the RV32 board counts minstret
    assert "Stopped QEMU" in _output(mission, "pio run -t stop")


def _upload(mission: Mission) -> None:
    assert mission.project is not None
    _run("pio run -t upload", mission.project, mission.env)


def _stop(mission: Mission) -> None:
    assert mission.project is not None
    _run("pio run -t stop", mission.project, mission.env)


def test_pio_device_monitor_opens_the_emulated_console(mission: Mission) -> None:
    _upload(mission)
    master, slave = pty.openpty()  # miniterm needs a terminal
    try:
        proc = subprocess.Popen(["pio", "device", "monitor", "--port", f"socket://127.0.0.1:{mission.port}"],
                                cwd=mission.project, env=mission.env, stdin=slave, stdout=slave, stderr=slave)
        seen = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and b"Quit:" not in seen:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                seen += os.read(master, 4096)
        time.sleep(0.5)
        os.write(master, b"\x03")  # Ctrl+C quits the monitor
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = -1
    finally:
        os.close(master)
        os.close(slave)
        _stop(mission)
    assert f"Terminal on socket://127.0.0.1:{mission.port}".encode() in seen, seen.decode(errors="replace")
    assert rc == 0 and b"Error" not in seen


def test_validate_through_a_socat_pty_bridge_is_exact(mission: Mission, tmp_path: Path) -> None:
    if shutil.which("socat") is None:
        pytest.skip("socat not installed (apt-get install socat)")
    assert mission.project is not None
    _upload(mission)
    link = tmp_path / "ttyV0"
    bridge = subprocess.Popen(["socat", f"PTY,link={link},raw,echo=0", f"TCP:127.0.0.1:{mission.port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not link.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert link.exists(), "socat did not create the pty"
        out = _run(f"codegen validate --port {link} --project . --samples 5 --no-plots",
                   mission.project, mission.env)
    finally:
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(timeout=10)
        _stop(mission)
    assert "result: PASS" in out and re.search(r"reference -> device\s+5/5 100\.0%", out), out[-3000:]
    assert "a serial bridge; going ahead" in out and "socat" in out


def test_upload_to_a_taken_port_fails_saying_how_to_pick_another(mission: Mission) -> None:
    import socket

    assert mission.project is not None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(["bash", "-c", f"pio run -t upload --upload-port 127.0.0.1:{port}"],
                              cwd=mission.project, env=mission.env, capture_output=True, text=True, timeout=300,
                              check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "QEMU failed to start" in out
    assert f"Port {port} is taken" in out and "--upload-port" in out
