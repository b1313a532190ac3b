"""Run PlatformIO on generated projects, offline for the emulated boards.

A generated emulated-board project is self-contained for plain PlatformIO (``pio run``, ``pio run -t upload``,
``pio run -t stop``, ``pio test``, ``pio device monitor``) with no network and no PLATFORMIO_CORE_DIR: its
``platformio.ini`` sets, under ``[platformio]``,

- ``core_dir = .pio-core``: PlatformIO's state for this project only;
- ``platforms_dir = pio-offline/platforms``: holds a copy of the ``codegen_emulated`` platform shipped in codegen's
  ``platform/`` folder (:func:`offline_files` puts it into the project);
- ``packages_dir = pio-offline/packages``: holds ``tool-scons``, the one package PlatformIO itself needs, as two
  small files that run SCons from PlatformIO's own Python (PyPI ``scons``).

The platform declares no packages: it compiles with the system's Debian cross toolchains on PATH. ``codegen build``,
``flash`` and ``stop`` run ``pio`` in the project with the same set-up. Other boards use the user's normal
PlatformIO installation (which needs the registry once).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import CodegenError, DeviceError
from codegen.resources import resource_path

log = logging.getLogger(__name__)

EMULATED_PLATFORM = "codegen_emulated"
CORE_DIR_NAME = ".pio-core"
OFFLINE_DIR = "pio-offline"
# Environment variables that would override the project's own directories (they win over platformio.ini).
_DIR_OVERRIDES = ("PLATFORMIO_CORE_DIR", "PLATFORMIO_PLATFORMS_DIR", "PLATFORMIO_PACKAGES_DIR")
# ELF e_machine -> prefix of the GNU binutils that read it
_ELF_MACHINES = {0x28: "arm-none-eabi-", 0xF3: "riscv64-unknown-elf-"}


@dataclass(frozen=True)
class ElfSize:
    """Section sizes of a firmware ELF (``size -B``): flash = text + data, RAM = data + bss."""

    text: int
    data: int
    bss: int

    @property
    def flash(self) -> int:
        return self.text + self.data

    @property
    def ram(self) -> int:
        return self.data + self.bss


@dataclass(frozen=True)
class BuildResult:
    project: Path
    env_name: str
    elf: Path
    size: ElfSize | None


def _pio_base_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PLATFORMIO_SETTING_ENABLE_TELEMETRY"] = "No"
    env["PLATFORMIO_DISABLE_UPGRADE_CHECK"] = "true"
    env.setdefault("PLATFORMIO_NO_ANSI", "true")
    return env


def scons_package_version() -> str:
    """The ``tool-scons`` version PlatformIO asks for (it runs the SCons of its own Python whatever the label)."""
    try:
        from platformio.dependencies import get_core_dependencies

        wanted = get_core_dependencies()["tool-scons"]
        m = re.search(r"\d+\.\d+\.\d+", wanted)
        if m:
            return m.group(0)
    except (ImportError, KeyError):
        pass
    import SCons

    major, minor, patch = (int(x) for x in re.findall(r"\d+", SCons.__version__)[:3])
    return f"4.{major * 10000 + minor * 100 + patch}.0"


def offline_files() -> dict[str, bytes]:
    """The ``pio-offline/`` folder of an emulated-board project: the local platform and ``tool-scons``."""
    files: dict[str, bytes] = {}
    root = platform_dir()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
            rel = path.relative_to(root).as_posix()
            files[f"{OFFLINE_DIR}/platforms/{EMULATED_PLATFORM}/{rel}"] = path.read_bytes()
    version = scons_package_version()
    scons = f"{OFFLINE_DIR}/packages/tool-scons"
    manifest = {
        "name": "tool-scons",
        "version": version,
        "description": "SCons from PlatformIO's own Python environment (PyPI scons), for offline builds",
        "keywords": ["build tool"],
        "system": "*",
    }
    files[f"{scons}/package.json"] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    # what PlatformIO records for an installed package: it looks core packages up by owner "platformio"
    meta = {
        "name": "tool-scons",
        "spec": {"id": None, "name": "tool-scons", "owner": "platformio", "requirements": None, "uri": None},
        "type": "tool",
        "version": version,
    }
    files[f"{scons}/.piopm"] = (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode()
    files[f"{scons}/scons.py"] = (
        b'"""Run SCons from the Python environment PlatformIO runs in (PyPI scons)."""\n'
        b"import SCons.Script\n\nSCons.Script.main()\n"
    )
    return files


def platform_dir() -> Path:
    return resource_path("platform")


def read_ini_platform(project: Path) -> str:
    ini = project / "platformio.ini"
    if not ini.is_file():
        raise CodegenError(
            f"{project} has no platformio.ini", hint="generate a project first: codegen generate ..."
        )
    m = re.search(r"^\s*platform\s*=\s*(\S+)", ini.read_text(), flags=re.M)
    return m.group(1) if m else ""


def read_ini_env(project: Path) -> str:
    m = re.search(r"^\[env:([^\]]+)\]", (project / "platformio.ini").read_text(), flags=re.M)
    if not m:
        raise CodegenError(
            f"{project / 'platformio.ini'} has no [env:...] section", hint="regenerate the project"
        )
    return m.group(1)


def pio_env(project: Path) -> dict[str, str]:
    """Environment for running ``pio`` in ``project``.

    An emulated-board project brings its own core, platform and package folders (platformio.ini); variables
    that would override them are removed.
    """
    env = _pio_base_env()
    if read_ini_platform(project) == EMULATED_PLATFORM:
        if not (project / OFFLINE_DIR / "platforms" / EMULATED_PLATFORM).is_dir():
            raise CodegenError(
                f"{project} has no {OFFLINE_DIR}/ folder (made by an older codegen)",
                hint=f"regenerate it: codegen generate --board ... --model ... --out {project} --force",
            )
        for name in _DIR_OVERRIDES:
            env.pop(name, None)
    return env


def run_pio(
    project: Path, args: list[str], *, timeout: float | None = None, capture: bool = True
) -> subprocess.CompletedProcess[str]:
    """``pio <args>`` in ``project``; raises CodegenError with the tail of the output on failure."""
    project = project.resolve()
    cmd = [sys.executable, "-m", "platformio", *args]
    log.info("running %s in %s", " ".join(args), project)
    try:
        proc = subprocess.run(
            cmd,
            cwd=project,
            env=pio_env(project),
            capture_output=capture,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CodegenError(
            f"`pio {' '.join(args)}` did not finish within {timeout:.0f} s",
            hint="check the project builds by hand with `pio run -v`",
        ) from None
    if proc.returncode != 0:
        tail = "\n".join(((proc.stdout or "") + (proc.stderr or "")).strip().splitlines()[-25:])
        raise CodegenError(
            f"`pio {' '.join(args)}` failed in {project} (exit code {proc.returncode}):\n{tail}",
            hint="fix the error above; run `pio run -v` in the project for the full log",
        )
    return proc


def _size_tool(elf: Path) -> str | None:
    """``<prefix>size`` of the binutils for the ELF's machine (ARM or RISC-V), if installed."""
    try:
        with elf.open("rb") as fh:
            head = fh.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    prefix = _ELF_MACHINES.get(machine)
    return shutil.which(prefix + "size") if prefix else None


def elf_size(elf: Path) -> ElfSize:
    """Real flash and RAM use of a firmware ELF, from the GNU ``size`` of its architecture."""
    tool = _size_tool(elf)
    if tool is None:
        raise CodegenError(
            f"no GNU size tool for {elf} was found on PATH",
            hint="install the cross toolchain: apt-get install gcc-arm-none-eabi gcc-riscv64-unknown-elf",
        )
    out = subprocess.run([tool, "-B", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    line = out.strip().splitlines()[-1].split()
    return ElfSize(text=int(line[0]), data=int(line[1]), bss=int(line[2]))


@dataclass(frozen=True)
class RamParts:
    """What a firmware ELF's RAM (data + bss) is made of: the network arena and decoded-weights buffers (symbols
    ``*_arena`` / ``*_decoded``), the stack reserve (a section named ``*stack*``) and every other static."""

    arena: int
    decoded: int
    stack: int
    other: int

    def describe(self) -> str:
        parts = [f"arena {self.arena:,}"]
        if self.decoded:
            parts.append(f"decoded weights {self.decoded:,}")
        return " + ".join([*parts, f"stack reserve {self.stack:,}", f"other static data {self.other:,}"])


def ram_parts(elf: Path, size: ElfSize) -> RamParts | None:
    """Split ``size.ram`` of ``elf`` with the architecture's ``nm`` and ``size -A``; None without the tools."""
    tool = _size_tool(elf)
    nm = tool[: -len("size")] + "nm" if tool else None
    if not tool or not nm or not shutil.which(nm):
        return None
    try:
        sections = subprocess.run([tool, "-A", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
        symbols = subprocess.run([nm, "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        log.debug("no RAM breakdown for %s: %s", elf, exc)
        return None
    stack = sum(int(f[1]) for f in (ln.split() for ln in sections.splitlines())
                if len(f) >= 3 and f[0].startswith(".") and "stack" in f[0] and f[1].isdigit())
    arena = decoded = 0
    for f in (ln.split() for ln in symbols.splitlines()):
        if len(f) == 4 and f[2] in "bBdD":
            if f[3].endswith("_arena"):
                arena += int(f[1], 16)
            elif f[3].endswith("_decoded"):
                decoded += int(f[1], 16)
    return RamParts(arena, decoded, stack, size.ram - arena - decoded - stack)


def build(project: Path, *, verbose: bool = False, timeout: float | None = 900) -> BuildResult:
    """``pio run`` in a generated project; reports real flash/RAM from the ELF (ARM and RISC-V toolchains)."""
    project = project.resolve()
    proc = run_pio(project, ["run", *(["-v"] if verbose else [])], timeout=timeout)
    log.debug("%s", proc.stdout)
    env_name = read_ini_env(project)
    build_dir = project / ".pio" / "build" / env_name
    elf = build_dir / "firmware.elf"
    size = None
    if elf.is_file() and _size_tool(elf) and read_ini_platform(project) != "espressif32":
        size = elf_size(elf)
    return BuildResult(project=project, env_name=env_name, elf=elf, size=size)


def upload(project: Path, *, port: str | None = None, timeout: float | None = 900) -> str:
    """``pio run -t upload`` (for the emulated board: builds if needed and starts QEMU in the background)."""
    args = ["run", "-t", "upload"]
    if port:
        args += ["--upload-port", port]
    proc = run_pio(project, args, timeout=timeout)
    return proc.stdout


def stop(project: Path, *, timeout: float = 120) -> None:
    """``pio run -t stop``: stop the emulator started by :func:`upload` (emulated board only)."""
    if read_ini_platform(project) != EMULATED_PLATFORM:
        raise DeviceError("only the emulated board can be stopped", hint="unplug or reset the board instead")
    run_pio(project, ["run", "-t", "stop"], timeout=timeout)
