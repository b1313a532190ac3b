"""SCons build script of codegen's emulated-board platform (QEMU).

Targets: the default builds the ELF with the system cross toolchain named by the board (``build.toolchain``:
arm-none-eabi- for the STM32F405, riscv64-unknown-elf- for the RV32IMC board) and our own startup code and
linker script (src/port/); ``upload`` starts QEMU on the ELF in the background with the console UART on a TCP
socket (``upload_port = HOST:PORT``, default 127.0.0.1:5555) and returns; ``stop`` stops that QEMU.
The QEMU process id is kept in .pio/qemu-<env>.pid.
"""

import os
import signal
import subprocess
import time

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment  # noqa: F401 - SCons provides these

env = DefaultEnvironment()
board = env.BoardConfig()

ARCH = board.get("build.arch", "arm")
PREFIX = board.get("build.toolchain", "arm-none-eabi-")

if ARCH == "riscv":
    # GCC 12's multilib selection ignores -march=..._zicsr, so the 2.2 ISA spec (Zicsr part of I) picks
    # rv32im/ilp32 libraries for rv32imc code; picolibc is Debian's C library for riscv64-unknown-elf.
    ARCH_FLAGS = [
        "-march={}".format(board.get("build.march", "rv32imc")),
        "-mabi={}".format(board.get("build.mabi", "ilp32")),
        "-misa-spec=2.2",
        "--specs=picolibc.specs",
    ]
    LIBC_FLAGS = []
else:
    ARCH_FLAGS = [
        "-mcpu={}".format(board.get("build.cpu", "cortex-m4")),
        "-mthumb",
        "-mfpu={}".format(board.get("build.fpu", "fpv4-sp-d16")),
        "-mfloat-abi=hard",
    ]
    LIBC_FLAGS = ["--specs=nano.specs", "--specs=nosys.specs"]

env.Replace(
    AR=PREFIX + "gcc-ar",
    AS=PREFIX + "as",
    CC=PREFIX + "gcc",
    CXX=PREFIX + "g++",
    GDB=PREFIX + "gdb",
    OBJCOPY=PREFIX + "objcopy",
    RANLIB=PREFIX + "gcc-ranlib",
    SIZETOOL=PREFIX + "size",
    ARFLAGS=["rc"],
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
)

env.Append(
    ASFLAGS=ARCH_FLAGS + ["-x", "assembler-with-cpp"],
    # -ffp-contract=off: float code rounds every product as the host build and TFLM do (no FMA contraction)
    CCFLAGS=ARCH_FLAGS + ["-O2", "-ffp-contract=off", "-ffunction-sections", "-fdata-sections", "-Wall"],
    CFLAGS=["-std=gnu11"],
    CXXFLAGS=["-fno-rtti", "-fno-exceptions"],
    LINKFLAGS=ARCH_FLAGS
    + LIBC_FLAGS
    + [
        "-nostartfiles",
        "-Wl,--gc-sections",
        "-Wl,-Map,{}".format(os.path.join("$BUILD_DIR", "firmware.map")),
    ],
    LIBS=["c", "m", "gcc"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU")],
)

if "LDSCRIPT_PATH" in env and not os.path.isabs(env.subst("$LDSCRIPT_PATH")):
    env.Replace(LDSCRIPT_PATH=os.path.join("$PROJECT_DIR", env.subst("$LDSCRIPT_PATH")))

target_elf = env.BuildProgram()


def _pidfile():
    # Not in $BUILD_DIR: PlatformIO empties the build folder whenever the configuration changes (another
    # upload port, `pio test`), which would lose the running QEMU.
    workspace = env.GetProjectConfig().get("platformio", "workspace_dir")
    return os.path.join(workspace, "qemu-{}.pid".format(env.subst("$PIOENV")))


def _upload_address():
    raw = env.subst("$UPLOAD_PORT").strip()
    if raw.startswith("socket://"):
        raw = raw[len("socket://") :]
    host, port = "127.0.0.1", 5555
    if raw:
        if ":" in raw:
            host, _, p = raw.rpartition(":")
            port = int(p)
        else:
            port = int(raw)
    return host or "127.0.0.1", port


def _running_pid():
    try:
        with open(_pidfile(), encoding="ascii") as fp:
            pid = int(fp.read().strip() or 0)
    except (OSError, ValueError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fp:
            cmdline = fp.read()
    except OSError:
        return None
    return pid if b"qemu" in cmdline else None


def stop_qemu(target, source, env):  # noqa: ARG001 - SCons action signature
    pid = _running_pid()
    if pid is None:
        print("No emulator running for this project")
    else:
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if _running_pid() is None:
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        print(f"Stopped QEMU (pid {pid})")
    if os.path.exists(_pidfile()):
        os.remove(_pidfile())
    return 0


def start_qemu(target, source, env):  # noqa: ARG001 - SCons action signature
    stop_qemu(target, source, env)
    host, port = _upload_address()
    extra = []
    skip = False
    for arg in (board.get("upload.qemu_extra_args", "") or "").split():
        if skip:
            skip = False
            continue
        if arg == "-monitor":
            skip = True
            continue
        if arg != "-nographic":
            extra.append(arg)
    cmd = [
        board.get("upload.qemu_program"),
        "-M",
        board.get("upload.qemu_machine"),
        "-cpu",
        board.get("upload.qemu_cpu"),
        "-display",
        "none",
        "-monitor",
        "none",
        "-icount",
        f"shift={int(board.get('upload.qemu_icount_shift', 3))}",
        "-kernel",
        str(source[0]),
        "-chardev",
        f"socket,id=s0,host={host},port={port},server=on,wait=off,nodelay=on",
        "-serial",
        "chardev:s0",
        "-daemonize",
        "-pidfile",
        _pidfile(),
    ] + extra
    print(" ".join(cmd))
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        message = result.stderr.strip() or result.stdout.strip()
        print(message)
        print(f"QEMU failed to start (exit code {result.returncode})")
        if "in use" in message:
            print(f"Port {port} is taken (another emulator? `pio run -t stop` in its project), or pick another: "
                  f"pio run -t upload --upload-port {host}:OTHER_PORT")
        return 1
    print(f"QEMU running (pid file {_pidfile()}); serial on socket://{host}:{port}")
    print("Stop it with: pio run -t stop")
    return 0


env.AddPlatformTarget("upload", target_elf, env.VerboseAction(start_qemu, "Starting QEMU"), "Upload")
env.AddPlatformTarget("stop", None, env.VerboseAction(stop_qemu, "Stopping QEMU"), "Stop emulator")
env.AddPlatformTarget(
    "size",
    target_elf,
    env.VerboseAction("$SIZETOOL -B -d $SOURCES", "Calculating size $SOURCE"),
    "Program Size",
)

Default([target_elf])
