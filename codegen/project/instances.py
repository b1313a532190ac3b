"""Several emulated boards at once: ``codegen flash DIR --port N`` / ``--port auto`` and ``codegen stop DIR --port N``.

``pio run -t upload`` keeps one QEMU per project (the platform's pid file, ``.pio/qemu-<env>.pid``). A board farm
on one host needs more: every ``codegen flash DIR --port P`` of an emulated-board project builds the firmware (if
needed) and starts one more QEMU in the background (daemonised, so it outlives the command, like the platform's
upload) with its UART on ``127.0.0.1:P``; its pid file is ``.pio/qemu-<env>-port<P>.pid``. Flashing the same
port again replaces that instance; ``codegen stop DIR --port P`` stops it, ``codegen stop DIR`` stops them all.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import CodegenError, DeviceError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Instance:
    """A QEMU started by :func:`launch`."""

    project: Path
    port: int
    pid: int
    pidfile: Path

    @property
    def url(self) -> str:
        return f"socket://{HOST}:{self.port}"


def parse_port(spec: str) -> int | None:
    """``auto`` -> None (pick a free port); ``5556``, ``127.0.0.1:5556``, ``socket://127.0.0.1:5556`` -> 5556."""
    raw = spec.strip()
    if raw.lower() == "auto":
        return None
    if raw.startswith("socket://"):
        raw = raw[len("socket://"):]
    host, sep, num = raw.rpartition(":")
    if sep and host not in (HOST, "localhost"):
        raise CodegenError(f"an emulated board listens on {HOST}, not on {host}",
                           hint=f"pass --port PORT, --port {HOST}:PORT or --port auto")
    if not num.isdigit() or not 0 < int(num) < 65536:
        raise CodegenError(f"--port {spec} is not a TCP port",
                           hint="pass --port 5556, --port 127.0.0.1:5556 or --port auto")
    return int(num)


def _free_port() -> int:
    from codegen.project.emulator import free_port

    return free_port()


def _pid_dir(project: Path) -> Path:
    return project / ".pio"


def _pidfile(project: Path, env: str, port: int) -> Path:
    return _pid_dir(project) / f"qemu-{env}-port{port}.pid"


def _alive_qemu(pid: int) -> bool:
    try:
        return b"qemu" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if pid > 0 and _alive_qemu(pid) else None


def running(project: Path) -> list[Instance]:
    """The instances :func:`launch` started for ``project`` that are still running (stale pid files removed)."""
    from codegen.project.pio import read_ini_env

    project = Path(project).resolve()
    env = read_ini_env(project)
    found = []
    for path in sorted(_pid_dir(project).glob(f"qemu-{env}-port*.pid")):
        port = path.stem.rpartition("-port")[2]
        pid = _read_pid(path)
        if pid is None or not port.isdigit():
            path.unlink(missing_ok=True)
            continue
        found.append(Instance(project, int(port), pid, path))
    return found


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((HOST, port))
        except OSError:
            return True
    return False


def launch(project: Path, port_spec: str = "auto") -> Instance:
    """Build the project's firmware if needed and start one more QEMU on ``port_spec`` (see :func:`parse_port`)."""
    from codegen.project import pio
    from codegen.project.emulator import project_board, qemu_command

    project = Path(project).resolve()
    board = project_board(project)
    if board.emulator is None:
        raise CodegenError(f"{project} targets the real board {board.name}; --port is its upload port",
                           hint="several instances exist only for emulated boards")
    port = parse_port(port_spec)
    built = pio.build(project)
    env = built.env_name
    if port is not None:
        for inst in running(project):
            if inst.port == port:
                _terminate(inst)  # reflash: replace the instance on this port
    port = port or _free_port()
    if _port_taken(port):
        raise DeviceError(f"port {port} is taken (by another emulator or program)",
                          hint=f"stop it (codegen stop DIR --port {port}) or pick another: --port auto")
    pidfile = _pidfile(project, env, port)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    cmd = [*qemu_command(board.emulator, built.elf, port, HOST), "-daemonize", "-pidfile", str(pidfile)]
    log.info("starting %s", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if proc.returncode != 0:
        message = (proc.stderr or proc.stdout).strip().splitlines()
        raise DeviceError(f"QEMU failed to start on port {port}: {message[-1] if message else proc.returncode}",
                          hint="is the port free? try --port auto")
    pid = None
    for _ in range(50):
        pid = _read_pid(pidfile)
        if pid is not None:
            break
        time.sleep(0.05)
    if pid is None:
        raise DeviceError(f"QEMU started on port {port} but wrote no pid file {pidfile}", hint="try again")
    return Instance(project, port, pid, pidfile)


def _terminate(inst: Instance) -> None:
    try:
        os.kill(inst.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    for _ in range(50):
        if not _alive_qemu(inst.pid):
            break
        time.sleep(0.1)
    else:
        os.kill(inst.pid, signal.SIGKILL)
    inst.pidfile.unlink(missing_ok=True)


def stop(project: Path, port_spec: str | None = None) -> list[Instance]:
    """Stop the instance on ``port_spec`` (all instances when None); returns those stopped."""
    instances = running(project)
    if port_spec is not None:
        port = parse_port(port_spec)
        if port is None:
            raise CodegenError("codegen stop needs the port of the instance", hint="pass --port N (see codegen flash)")
        instances = [i for i in instances if i.port == port]
        if not instances:
            raise DeviceError(f"no emulator of {project} runs on port {port}",
                              hint="`codegen stop DIR` without --port stops every instance of the project")
    for inst in instances:
        _terminate(inst)
    return instances
