"""The ESP32 firmware component and the ESP-IDF entry point compile (syntax and types) against stub IDF headers.

tests/boards_real/stubs/esp32 declares only the ESP-IDF symbols the port uses, with their ESP-IDF 5.x
signatures (and the 4.x ones the port's version branches use); the real build needs ESP-IDF from the
PlatformIO registry.
"""

from __future__ import annotations

import dataclasses

import pytest

from codegen.project.writer import check_fit
from tests.boards_real.conftest import (
    HOST_GCC,
    STUBS,
    WARNINGS,
    board_ids,
    generate_project,
    real_boards,
    run,
    src_dirs,
)

ESP32_BOARDS = real_boards("esp32")
COMPONENT = "components/codegen"
pytestmark = pytest.mark.skipif(HOST_GCC is None, reason="host gcc not installed")


def console_flags(project) -> list[str]:
    """The compile definitions the component's CMakeLists.txt adds."""
    cmake = (project / COMPONENT / "CMakeLists.txt").read_text()
    return [f"-D{d}" for d in ("CG_PORT_CONSOLE_USB_SERIAL_JTAG=1", "CG_ARENA_IN_EXT_RAM=1") if d in cmake]


def compile_c(board, project, source, *extra: str, out=None):
    includes = [f"-I{project / d}" for d in src_dirs(board)]
    action = ["-c", "-o", str(out)] if out else ["-fsyntax-only"]
    return run([HOST_GCC, *WARNINGS, *action, *includes, f"-I{STUBS / 'esp32'}", *console_flags(project), *extra,
                str(source)])


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
@pytest.mark.parametrize("idf_major", [5, 4])
def test_esp32_port_compiles_against_the_idf_api(board, idf_major, projects):
    project = projects[board.name]
    result = compile_c(board, project, project / COMPONENT / "port/cg_port_esp32.c", f"-DCG_STUB_IDF_MAJOR={idf_major}")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_firmware_component_and_app_main_compile(board, projects):
    """Everything ESP-IDF compiles for the app: the component's C files and src/main.c (the only file in src/)."""
    project = projects[board.name]
    sources = sorted((project / COMPONENT).glob("*/*.c")) + [project / "src/main.c"]
    assert {"cg_app.c", "cg_port_esp32.c", "cg_net.c", "main.c"} <= {p.name for p in sources}
    assert sorted(p.name for p in (project / "src").iterdir()) == ["CMakeLists.txt", "main.c"]
    for source in sources:
        result = compile_c(board, project, source)
        assert result.returncode == 0, f"{source.name}:\n{result.stderr}"


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_port_uses_the_idf_cycle_counter_and_the_boards_console(board, projects, tmp_path):
    """IDF 5 renamed the cycle counter; the console driver is UART0's or USB-Serial-JTAG's, as the board says."""
    project = projects[board.name]
    usb = board.serial_uart == "USB_SERIAL_JTAG"
    console = ({"usb_serial_jtag_driver_install", "usb_serial_jtag_read_bytes", "usb_serial_jtag_write_bytes"} if usb
               else {"uart_driver_install", "uart_read_bytes", "uart_write_bytes"})
    other = "uart_driver_install" if usb else "usb_serial_jtag_driver_install"
    for major, name in ((5, "esp_cpu_get_cycle_count"), (4, "esp_cpu_get_ccount")):
        obj = tmp_path / f"port{major}.o"
        result = compile_c(board, project, project / COMPONENT / "port/cg_port_esp32.c",
                           f"-DCG_STUB_IDF_MAJOR={major}", out=obj)
        assert result.returncode == 0, result.stderr
        undefined = {line.split()[-1] for line in run(["nm", "-u", str(obj)]).stdout.splitlines()}
        assert name in undefined
        assert console | {"esp_timer_get_time", "esp_rom_get_cpu_ticks_per_us"} <= undefined
        assert other not in undefined


PSRAM_BOARDS = [b for b in ESP32_BOARDS if b.psram_bytes]


@pytest.mark.parametrize("cam", PSRAM_BOARDS, ids=board_ids(PSRAM_BOARDS))
def test_large_arena_on_a_psram_board_is_placed_in_psram(cam, model_graph, network_sources, tmp_path):
    """ESP32-CAM, S3 N8R8: an arena that does not fit the internal budget goes to PSRAM (EXT_RAM_BSS_ATTR)."""
    from codegen.analysis import ram_use

    sources = network_sources(cam)
    rest = ram_use(cam, 0, layers=sources.num_layers).total  # internal RAM besides the arena
    internal = sources.arena_bytes + rest
    small = dataclasses.replace(cam, ram_bytes=internal - 1)  # one byte short of arena + the rest
    fit = check_fit(small, sources)
    assert fit.fits and fit.psram_needed == sources.arena_bytes and fit.ram_needed == rest
    project = tmp_path / "cam"
    generate_project(model_graph, small, project, sources=sources)
    assert "CG_ARENA_IN_EXT_RAM=1" in (project / COMPONENT / "CMakeLists.txt").read_text()
    sdkconfig = (project / "sdkconfig.defaults").read_text()
    assert "CONFIG_SPIRAM=y" in sdkconfig and "CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY=y" in sdkconfig
    assert ("CONFIG_SPIRAM_MODE_OCT=y" in sdkconfig) == cam.mcu.startswith("ESP32-S3")  # N8R8: octal PSRAM
    assert "build_unflags" not in (project / "platformio.ini").read_text()
    obj = tmp_path / "net.o"
    result = compile_c(small, project, project / COMPONENT / "net/cg_net.c", out=obj)
    assert result.returncode == 0, result.stderr
    symbols = run(["objdump", "-t", str(obj)]).stdout
    assert any(".ext_ram.bss" in line and "cg_net_arena" in line for line in symbols.splitlines()), symbols
    # the same model with one more byte of internal RAM: the arena stays internal, PSRAM stays off
    roomy = tmp_path / "cam-internal"
    generate_project(model_graph, dataclasses.replace(cam, ram_bytes=internal), roomy, sources=sources)
    assert "CG_ARENA_IN_EXT_RAM" not in (roomy / COMPONENT / "CMakeLists.txt").read_text()
    assert "# CONFIG_SPIRAM is not set" in (roomy / "sdkconfig.defaults").read_text()
    unflag = "build_unflags = -mfix-esp32-psram-cache-issue" in (roomy / "platformio.ini").read_text()
    assert unflag == (cam.name == "esp32cam")  # only PlatformIO's esp32cam board adds the workaround flag
