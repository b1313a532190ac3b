"""Run PlatformIO on generated projects, offline for the emulated board.

For the emulated STM32F405 each project gets its own PlatformIO core directory
(``<project>/.pio-core``) in which ``prepare_offline`` registers, as symbolic-link packages owned by
``platformio``:

- ``tool-scons``: SCons from this Python environment (PyPI ``scons``), which runs PlatformIO builders;
- ``toolchain-gccarmnoneeabi``: a folder of symlinks to the system ``arm-none-eabi-*`` tools (Debian package);
- the ``emulated_stm32`` platform shipped in codegen's ``platform/`` folder.

Nothing is downloaded. One core directory per project avoids two projects sharing relative symlink paths.
Other boards use the user's normal PlatformIO installation (which needs the registry once).
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

EMULATED_PLATFORM = "emulated_stm32"
CORE_DIR_NAME = ".pio-core"
TOOLCHAIN_PREFIX = "arm-none-eabi-"
TOOLCHAIN_TOOLS = (
    "gcc",
    "g++",
    "as",
    "ar",
    "gcc-ar",
    "gcc-ranlib",
    "ranlib",
    "ld",
    "objcopy",
    "objdump",
    "size",
    "nm",
    "strip",
    "readelf",
    "cpp",
    "gdb",
    "addr2line",
)


@dataclass(frozen=True)
class ElfSize:
    """Section sizes of a firmware ELF (arm-none-eabi-size -B): flash = text + data, RAM = data + bss."""

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


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _link_file(spec_name: str, target: Path) -> str:
    """Content of a PlatformIO ``<name>.pio-link`` file pointing at ``target`` (owner ``platformio``)."""
    spec = {
        "owner": "platformio",
        "id": None,
        "name": spec_name,
        "requirements": None,
        "uri": f"symlink://{target.resolve()}",
    }
    return json.dumps({"cwd": str(target.resolve().parent), "spec": spec}, indent=2, sort_keys=True) + "\n"


def _toolchain_version() -> str:
    gcc = shutil.which(TOOLCHAIN_PREFIX + "gcc")
    if gcc is None:
        raise CodegenError(
            "arm-none-eabi-gcc was not found on PATH",
            hint="install it: apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi",
        )
    out = subprocess.run([gcc, "-dumpversion"], capture_output=True, text=True, check=False).stdout.strip()
    parts = [int(p) for p in re.findall(r"\d+", out)[:3]] + [0, 0, 0]
    # PlatformIO's convention: 1.MMmmpp.0 for GCC MM.mm.pp
    return f"1.{parts[0]:02d}{parts[1]:02d}{parts[2]:02d}.0"


def _scons_version() -> str:
    import SCons

    major, minor, patch = (int(x) for x in re.findall(r"\d+", SCons.__version__)[:3])
    return f"4.{major * 10000 + minor * 100 + patch}.0" if major >= 4 else f"{major}.{minor}.{patch}"


def prepare_offline(project: Path) -> dict[str, str]:
    """Set up ``<project>/.pio-core`` for the emulated platform; returns the environment for ``pio``."""
    core = project.resolve() / CORE_DIR_NAME
    local = core / "local"
    packages = core / "packages"
    platforms = core / "platforms"
    for d in (local, packages, platforms):
        d.mkdir(parents=True, exist_ok=True)

    scons_dir = local / "tool-scons"
    _write_if_changed(
        scons_dir / "package.json",
        json.dumps(
            {
                "name": "tool-scons",
                "version": _scons_version(),
                "description": "SCons from the Python environment",
                "keywords": ["build tool"],
                "system": "*",
            },
            indent=2,
        )
        + "\n",
    )
    _write_if_changed(
        scons_dir / "scons.py",
        (
            '"""Run SCons from the Python environment (PyPI scons) for PlatformIO."""\n'
            "import SCons.Script\n\nSCons.Script.main()\n"
        ),
    )
    _write_if_changed(packages / "tool-scons.pio-link", _link_file("tool-scons", scons_dir))

    tc_dir = local / "toolchain-gccarmnoneeabi"
    _write_if_changed(
        tc_dir / "package.json",
        json.dumps(
            {
                "name": "toolchain-gccarmnoneeabi",
                "version": _toolchain_version(),
                "description": "system arm-none-eabi toolchain (symlinks)",
                "keywords": ["toolchain"],
            },
            indent=2,
        )
        + "\n",
    )
    bindir = tc_dir / "bin"
    bindir.mkdir(exist_ok=True)
    for tool in TOOLCHAIN_TOOLS:
        real = shutil.which(TOOLCHAIN_PREFIX + tool)
        link = bindir / (TOOLCHAIN_PREFIX + tool)
        if real is None:
            continue
        if link.is_symlink() and os.readlink(link) == real:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(real)
    _write_if_changed(
        packages / "toolchain-gccarmnoneeabi.pio-link", _link_file("toolchain-gccarmnoneeabi", tc_dir)
    )

    _write_if_changed(
        platforms / f"{EMULATED_PLATFORM}.pio-link", _link_file(EMULATED_PLATFORM, platform_dir())
    )

    env = _pio_base_env()
    env["PLATFORMIO_CORE_DIR"] = str(core)
    return env


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
    """Environment for running ``pio`` in ``project`` (offline core directory for the emulated board)."""
    if read_ini_platform(project) == EMULATED_PLATFORM:
        return prepare_offline(project)
    return _pio_base_env()


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


def elf_size(elf: Path) -> ElfSize:
    """Real flash and RAM use of a firmware ELF, from arm-none-eabi-size."""
    tool = shutil.which(TOOLCHAIN_PREFIX + "size")
    if tool is None:
        raise CodegenError("arm-none-eabi-size was not found on PATH", hint="install gcc-arm-none-eabi")
    out = subprocess.run([tool, "-B", "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    line = out.strip().splitlines()[-1].split()
    return ElfSize(text=int(line[0]), data=int(line[1]), bss=int(line[2]))


def build(project: Path, *, verbose: bool = False, timeout: float | None = 900) -> BuildResult:
    """``pio run`` in a generated project; reports real flash/RAM from the ELF when the toolchain is ARM."""
    project = project.resolve()
    proc = run_pio(project, ["run", *(["-v"] if verbose else [])], timeout=timeout)
    log.debug("%s", proc.stdout)
    env_name = read_ini_env(project)
    build_dir = project / ".pio" / "build" / env_name
    elf = build_dir / "firmware.elf"
    size = None
    if (
        elf.is_file()
        and shutil.which(TOOLCHAIN_PREFIX + "size")
        and read_ini_platform(project) != "espressif32"
    ):
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
