"""The STM32 port and the shared app compile for each real STM32 board, and the board descriptions are right.

Vendor-free parts (DWT, receive ring, the app) compile as they are; the HAL-dependent port source compiles
against tests/boards_real/stubs/stm32, which declares only the HAL symbols the port uses (with the real field
names): that checks our code for every family branch, not ST's.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.boards_real.conftest import (
    ARM_GCC,
    ARM_NM,
    REPO,
    STM32_PORT,
    STUBS,
    WARNINGS,
    arm_cpu_flags,
    board_ids,
    real_boards,
    run,
)

STM32_BOARDS = real_boards("stm32")
pytestmark = pytest.mark.skipif(ARM_GCC is None, reason="arm-none-eabi-gcc not installed")

# Facts checked against ST's documentation (user manuals UM1724/UM1974/UM2179, the Cube BSPs and examples).
FAMILY_OF_MCU = {"STM32F4": "F4", "STM32F7": "F7", "STM32L4": "L4", "STM32H7": "H7"}
SYSCLK_MAX_HZ = {"F4": 180_000_000, "F7": 216_000_000, "L4": 120_000_000, "H7": 480_000_000}
# PLL input (after M) and VCO output ranges from the reference manuals (H7: wide VCO, PLLRGE 2..4 MHz).
PLL_INPUT_HZ = {"F4": (950_000, 2_100_000), "F7": (950_000, 2_100_000), "L4": (2_660_000, 16_000_000),
                "H7": (2_000_000, 4_000_000)}
VCO_HZ = {"F4": (100_000_000, 432_000_000), "F7": (100_000_000, 432_000_000), "L4": (64_000_000, 344_000_000),
          "H7": (192_000_000, 836_000_000)}
# Known disagreements with boards/*.json, reported to the lead (see docs/real-boards.md).
BOARD_JSON_ISSUES = {
    "nucleo_h743zi": "boards/nucleo_h743zi.json says 480 MHz; the Nucleo-H743ZI's revision Y silicon, ST's "
                     "examples and PlatformIO's board run at 400 MHz",
}


def board_header(board_name: str) -> Path:
    return STM32_PORT / f"cg_stm32_board_{board_name}.h"


def header_macros(path: Path) -> dict[str, str]:
    macros = {}
    for m in re.finditer(r"^#define (\w+)(?:\(\))? +(.+?)\s*$", path.read_text(), re.M):
        macros[m.group(1)] = m.group(2)
    return macros


def as_int(text: str) -> int:
    return int(text.rstrip("uUlL"), 0)


def family(board) -> str:
    return FAMILY_OF_MCU[board.mcu[:7]]


def port_symbols(board, project: Path, tmp_path: Path) -> tuple[set[str], set[str]]:
    """(defined, undefined) global symbols of the compiled port source."""
    obj = tmp_path / "port.o"
    result = run(compile_cmd(board, project, project / "src/port/cg_port_stm32.c", obj))
    assert result.returncode == 0, result.stderr
    nm = run([ARM_NM, str(obj)])
    rows = [line.split() for line in nm.stdout.splitlines()]
    return ({r[-1] for r in rows if r[-2] == "T"}, {r[-1] for r in rows if r[-2] == "U"})


def compile_cmd(board, project: Path, source: Path, obj: Path) -> list[str]:
    """The flags platformio.ini gives (force-included board header, include folders), for the board's CPU."""
    includes = [f"-I{project / d}" for d in ("include", "src/app", "src/port", "src/net")]
    return [ARM_GCC, *arm_cpu_flags(board), *WARNINGS, "-O2", "-ffunction-sections",
            "-include", str(project / "include" / "cg_board_port.h"), *includes, f"-I{STUBS / 'stm32'}",
            "-c", str(source), "-o", str(obj)]


def test_every_stm32_board_has_a_port_description():
    assert STM32_BOARDS, "no STM32 board in boards/"
    for board in STM32_BOARDS:
        assert board_header(board.name).is_file(), f"add firmware/port/stm32/cg_stm32_board_{board.name}.h"


@pytest.mark.parametrize("board", STM32_BOARDS, ids=board_ids(STM32_BOARDS))
def test_port_and_app_compile_for_the_board_cpu(board, projects, tmp_path):
    project = projects[board.name]
    sources = [project / "src/main.c", *sorted((project / "src").glob("*/*.c"))]
    expected = {"main.c", "cg_app.c", "cg_port_stm32.c", "cg_dwt.c", "cg_rx_ring.c", "cg_net.c"}
    assert expected <= {p.name for p in sources}
    for src in sources:
        result = run(compile_cmd(board, project, src, tmp_path / f"{src.stem}.o"))
        assert result.returncode == 0, f"{src.name} for {board.name}:\n{result.stderr}"


@pytest.mark.parametrize("board", STM32_BOARDS, ids=board_ids(STM32_BOARDS))
def test_port_defines_the_vector_table_handlers_of_its_uart(board, projects, tmp_path):
    project = projects[board.name]
    defined, _ = port_symbols(board, project, tmp_path)
    uart = header_macros(board_header(board.name))["CG_UART_IRQ_HANDLER"]
    port_api = {"port_init", "port_write", "port_read_byte", "port_millis", "port_cycles", "port_cycle_hz",
                "port_counter_kind"}
    assert {"SysTick_Handler", uart} | port_api <= defined


def test_port_refuses_an_hse_value_that_is_not_the_boards(projects, tmp_path):
    """Without the board's HSE_VALUE the HAL would assume 25 MHz: the port must not compile."""
    project = tmp_path / "project"
    shutil.copytree(projects["nucleo_f446re"], project)
    board = next(b for b in STM32_BOARDS if b.name == "nucleo_f446re")
    header = project / "src/port/cg_stm32_board_nucleo_f446re.h"
    text = header.read_text()
    assert "#define HSE_VALUE 8000000U\n" in text
    header.write_text(text.replace("#define HSE_VALUE 8000000U\n", ""))
    result = run(compile_cmd(board, project, project / "src/port/cg_port_stm32.c", tmp_path / "port.o"))
    assert result.returncode != 0
    assert "cg_error_hse_value_must_equal_board_hse_hz" in result.stderr


@pytest.mark.parametrize("board", STM32_BOARDS, ids=board_ids(STM32_BOARDS))
def test_clock_tree_reaches_the_sysclk_within_the_pll_limits(board):
    m = header_macros(board_header(board.name))
    fam = family(board)
    assert m[f"CG_STM32_FAMILY_{fam}"] == "1"
    assert m["CG_STM32_HAL_HEADER"] == f'"stm32{fam.lower()}xx_hal.h"'
    msi = m["CG_CLK_SOURCE"] == "CG_CLK_SRC_MSI"
    source = as_int(m["CG_CLK_MSI_HZ"] if msi else m["CG_CLK_HSE_HZ"])
    pll_in = source / as_int(m["CG_CLK_PLL_M"])
    vco = pll_in * as_int(m["CG_CLK_PLL_N"])
    # F4/F7/H7 take SYSCLK from PLL P, the L4 from PLL R.
    sysclk = vco / as_int(m["CG_CLK_PLL_R" if fam == "L4" else "CG_CLK_PLL_P"])
    lo, hi = PLL_INPUT_HZ[fam]
    assert lo <= pll_in <= hi, f"PLL input {pll_in} Hz outside {lo}..{hi}"
    lo, hi = VCO_HZ[fam]
    assert lo <= vco <= hi, f"VCO {vco} Hz outside {lo}..{hi}"
    assert sysclk == as_int(m["CG_CLK_SYSCLK_HZ"]) <= SYSCLK_MAX_HZ[fam]
    if m["CG_CLK_SOURCE"] != "CG_CLK_SRC_MSI":
        assert as_int(m["HSE_VALUE"]) == as_int(m["CG_CLK_HSE_HZ"])
        # the HSI fallback (16 MHz F4/F7, 64 MHz H7) must give the same PLL input with an integer M
        hsi = 64_000_000 if fam == "H7" else 16_000_000
        assert (as_int(m["CG_CLK_PLL_M"]) * hsi) % as_int(m["CG_CLK_HSE_HZ"]) == 0


@pytest.mark.parametrize("board", STM32_BOARDS, ids=board_ids(STM32_BOARDS))
def test_board_description_matches_boards_json(board):
    m = header_macros(board_header(board.name))
    assert m["CG_UART_NAME"] == f'"{board.serial_uart}"'
    assert m["CG_UART_INSTANCE"] == board.serial_uart
    assert m["CG_UART_IRQN"] == f"{board.serial_uart}_IRQn"
    if board.name in BOARD_JSON_ISSUES and as_int(m["CG_CLK_SYSCLK_HZ"]) != board.clock_hz:
        pytest.xfail(BOARD_JSON_ISSUES[board.name])
    assert as_int(m["CG_CLK_SYSCLK_HZ"]) == board.clock_hz


@pytest.mark.parametrize("board", STM32_BOARDS, ids=board_ids(STM32_BOARDS))
def test_caches_on_cortex_m7_only_and_vddio2_where_the_uart_needs_it(board, projects, tmp_path):
    """The stub declares the CMSIS cache functions and the HAL calls as externs, so the object's undefined
    symbols show which family branches the port compiled for this board."""
    _, undefined = port_symbols(board, projects[board.name], tmp_path)
    m7 = board.core == "cortex-m7"
    assert ("SCB_EnableICache" in undefined) == m7
    assert ("SCB_EnableDCache" in undefined) == m7
    assert ("HAL_PWREx_EnableVddIO2" in undefined) == (board.serial_uart == "LPUART1")
    assert ("HAL_PWREx_EnableOverDrive" in undefined) == (family(board) in ("F4", "F7"))
    assert ("HAL_PWREx_ConfigSupply" in undefined) == (family(board) == "H7")


def test_generated_board_selector_points_at_the_port_description(projects):
    for board in STM32_BOARDS:
        selector = (projects[board.name] / "include" / "cg_board_port.h").read_text()
        assert (projects[board.name] / "src" / "port" / f"cg_stm32_board_{board.name}.h").is_file()
        assert f'#include "../src/port/cg_stm32_board_{board.name}.h"' in selector
        assert selector.startswith("/*")
        assert REPO.as_posix() not in selector


# RM0433 (STM32H742/743/750/753) PLL1RGE: the PLL input range after the M divider (range 0: 1..2 MHz, only with
# the medium VCO; range 1: 2..4 MHz; range 2: 4..8 MHz; range 3: 8..16 MHz). The port uses the wide VCO.
H7_VCI_RANGES = ((2_000_000, 4_000_000, "RCC_PLL1VCIRANGE_1"), (4_000_001, 8_000_000, "RCC_PLL1VCIRANGE_2"),
                 (8_000_001, 16_000_000, "RCC_PLL1VCIRANGE_3"))


@pytest.mark.parametrize("board", [b for b in STM32_BOARDS if family(b) == "H7"],
                         ids=board_ids([b for b in STM32_BOARDS if family(b) == "H7"]))
def test_h7_pll_input_range_matches_the_pll_input_frequency(board, projects, tmp_path):
    macros = header_macros(board_header(board.name))
    ref = as_int(macros["CG_CLK_HSE_HZ"]) // as_int(macros["CG_CLK_PLL_M"])
    want = next(name for low, high, name in H7_VCI_RANGES if low <= ref <= high)
    project = projects[board.name]
    cmd = compile_cmd(board, project, project / "src/port/cg_port_stm32.c", tmp_path / "port.i")
    result = run([*cmd[: cmd.index("-c")], "-E", "-dM", str(project / "src/port/cg_port_stm32.c")])
    assert result.returncode == 0, result.stderr
    assert f"#define CG_PLL_VCI_RANGE {want}" in result.stdout, f"PLL input {ref} Hz needs {want}"
