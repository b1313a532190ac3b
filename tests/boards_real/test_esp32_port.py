"""The ESP32 port and the ESP-IDF entry point compile (syntax and types) against stub IDF headers.

tests/boards_real/stubs/esp32 declares only the ESP-IDF symbols the port uses, with their ESP-IDF 5.x
signatures (and the 4.x ones the port's version branches use); the real build needs ESP-IDF from the
PlatformIO registry.
"""

from __future__ import annotations

import pytest

from tests.boards_real.conftest import HOST_GCC, STUBS, WARNINGS, board_ids, real_boards, run

ESP32_BOARDS = real_boards("esp32")
pytestmark = pytest.mark.skipif(HOST_GCC is None, reason="host gcc not installed")


def syntax_check(project, source, *extra: str):
    includes = [f"-I{project / d}" for d in ("include", "src/app", "src/port", "src/net")]
    return run([HOST_GCC, *WARNINGS, "-fsyntax-only", *includes, f"-I{STUBS / 'esp32'}", *extra, str(source)])


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
@pytest.mark.parametrize("idf_major", [5, 4])
def test_esp32_port_compiles_against_the_idf_api(board, idf_major, projects):
    project = projects[board.name]
    result = syntax_check(project, project / "src/port/cg_port_esp32.c", f"-DCG_STUB_IDF_MAJOR={idf_major}")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_app_main_calls_the_shared_application(board, projects):
    project = projects[board.name]
    result = syntax_check(project, project / "src/main.c")
    assert result.returncode == 0, result.stderr
    guarded = syntax_check(project, project / "src/main.c", "-DPIO_UNIT_TESTING", "-E")
    assert "app_main" not in guarded.stdout.split("cg_app_main(void);")[-1]


def test_port_uses_the_idf_cycle_counter_of_each_version(projects, tmp_path):
    """IDF 5 renamed the cycle counter; the port must call the right one for the version it is built with."""
    project = projects[ESP32_BOARDS[0].name]
    for major, name in ((5, "esp_cpu_get_cycle_count"), (4, "esp_cpu_get_ccount")):
        obj = tmp_path / f"port{major}.o"
        includes = [f"-I{project / d}" for d in ("include", "src/app", "src/port", "src/net")]
        source = project / "src/port/cg_port_esp32.c"
        result = run([HOST_GCC, *WARNINGS, "-c", *includes, f"-I{STUBS / 'esp32'}",
                      f"-DCG_STUB_IDF_MAJOR={major}", str(source), "-o", str(obj)])
        assert result.returncode == 0, result.stderr
        undefined = run(["nm", "-u", str(obj)]).stdout
        assert name in undefined
        assert {"uart_driver_install", "uart_read_bytes", "uart_write_bytes", "esp_timer_get_time",
                "esp_rom_get_cpu_ticks_per_us"} <= {line.split()[-1] for line in undefined.splitlines()}
