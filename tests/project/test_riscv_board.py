"""The emulated RV32IMC board (ESP32-C3 instruction set, QEMU virt): board data, and on the emulator an MLPerf Tiny
model generated, built and validated bit for bit with instruction counts (`codegen validate --project`).

The SqueezeNet example, `pio test` and plain PlatformIO on this board are run by tests/project/test_mission.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.boards import load_board
from tests.conftest import ROOT, shared_model

BOARD = "emulated_rv32imc"
TOOLS = ("qemu-system-riscv32", "riscv64-unknown-elf-gcc")
KIB = 1024


def _codegen(*args: str, cwd: Path = ROOT, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codegen", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def _needs_emulator() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install gcc-riscv64-unknown-elf "
                    "picolibc-riscv64-unknown-elf qemu-system-misc)")


def test_rv32imc_board_mirrors_an_esp32c3_and_names_its_instruction_set() -> None:
    board = load_board(BOARD)
    assert load_board("qemu-riscv") == board and "rv32imc" in board.name
    # ESP32-C3: 160 MHz, 400 KB SRAM of which about 320 KB is usable by an application, 4 MB flash
    assert (board.clock_hz, board.ram_bytes, board.flash_bytes) == (160_000_000, 320 * KIB, 4096 * KIB)
    assert board.core == "rv32" and board.fpu is None and board.port_dir == "emulated_rv32"
    emu = board.emulator
    assert emu is not None and emu.program == "qemu-system-riscv32" and emu.machine == "virt"
    assert emu.icount_shift == 0 and "-bios" in emu.extra_args  # minstret == executed instructions


def test_rv32imc_linker_script_enforces_the_board_budgets() -> None:
    board = load_board(BOARD)
    ld = (ROOT / "firmware" / "port" / board.port_dir / "rv32imc_qemu_virt.ld").read_text()
    lengths = {m.group(1): int(m.group(3)) * KIB
               for m in re.finditer(r"^\s*(\w+)\s*\(\w+\)\s*:\s*ORIGIN = (0x[0-9A-Fa-f]+), LENGTH = (\d+)K", ld,
                                    flags=re.M)}
    assert lengths == {"FLASH": board.flash_bytes, "RAM": board.ram_bytes}
    regions = {r.name: (r.origin, r.size) for r in board.memory_regions}
    assert regions == {"FLASH": (0x8000_0000, board.flash_bytes), "RAM": (0x8040_0000, board.ram_bytes)}


def test_codegen_boards_lists_the_rv32imc_board() -> None:
    run = _codegen("boards", "--json")
    assert run.returncode == 0, run.stderr
    boards = {b["name"]: b for b in json.loads(run.stdout)}
    assert boards[BOARD]["core"] == "rv32" and boards[BOARD]["emulated"] is True


@pytest.fixture(scope="module")
def kws_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The MLPerf Tiny keyword-spotting model generated for the board and built with `codegen build`."""
    _needs_emulator()
    model = shared_model("kws_dscnn_int8.tflite")
    project = tmp_path_factory.mktemp("rv32") / "kws-rv32"
    run = _codegen("--board", BOARD, "--model", str(model), "--out", str(project))
    assert run.returncode == 0, run.stderr
    run = _codegen("build", str(project), "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    built = json.loads(run.stdout)
    board = load_board(BOARD)
    assert 0 < built["flash_bytes"] < board.flash_bytes and 0 < built["ram_bytes"] < board.ram_bytes
    elf = Path(built["elf"]).read_bytes()
    assert elf[:4] == b"\x7fELF" and elf[4] == 1 and int.from_bytes(elf[18:20], "little") == 0xF3  # RISC-V, 32 bit
    assert int.from_bytes(elf[36:40], "little") & 0x1  # EF_RISCV_RVC: compressed instructions, as on the C3
    return project, model


@pytest.mark.slow
@pytest.mark.emulator
def test_mlperf_keyword_spotting_on_rv32imc_equals_tflm_bit_for_bit_with_instruction_counts(
    kws_project: tuple[Path, Path],
) -> None:
    project, model = kws_project
    run = _codegen("validate", "--project", str(project), "--model", str(model), "--samples", "5", "--no-plots",
                   "--json")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert report["passed"] and report["device_exact_rate"] == 1.0
    assert {c["a"] + ">" + c["b"]: c["exact"] for c in report["comparisons"]} == {
        "reference>host_c": 5, "reference>device": 5, "host_c>device": 5}
    assert report["device"]["counter_kind"] == "instructions (QEMU icount)"
    assert report["device"]["counter_hz"] == 160_000_000 and report["device"]["board"] == BOARD
    lat = report["latency"]
    assert lat["unit"] == "instructions" and 1_000_000 < lat["min"] <= lat["max"] < 1_000_000_000
    layers = report["layers"]
    assert len(layers) == report["device"]["num_layers"] and all(layer["cycles"] > 0 for layer in layers)


@pytest.mark.slow
@pytest.mark.emulator
def test_rv32imc_counts_instructions_exactly_the_same_for_the_same_input(kws_project: tuple[Path, Path]) -> None:
    from codegen.hil.client import DeviceClient
    from codegen.project.emulator import start

    project, _ = kws_project
    data = bytes(range(256)) + bytes(range(234))  # one 49x10x1 int8 input
    with start(project, board=load_board(BOARD)) as emu, DeviceClient(emu.url, timeout=30) as client:
        client.wait_ready(timeout=20)
        first, second = client.infer(data), client.infer(data)
    assert first.outputs == second.outputs
    assert first.cycles == second.cycles > 1_000_000  # minstret under -icount shift=0: no time, no wraps
