"""Every project the writer renders for a real board is a valid PlatformIO project for that board.

`pio project config` parses and validates platformio.ini without the platform packages, which cannot be
downloaded here; building needs the PlatformIO registry (docs/real-boards.md).
"""

from __future__ import annotations

import re

import pytest
from platformio.project.config import ProjectConfig

from tests.boards_real.conftest import PIO, board_ids, pio_env, real_boards, run

REAL_BOARDS = real_boards("stm32") + real_boards("esp32")


@pytest.fixture(scope="module")
def pio_core(tmp_path_factory):
    """A throw-away PlatformIO home, so the tests never touch the user's ~/.platformio."""
    return tmp_path_factory.mktemp("pio-core")


@pytest.mark.skipif(PIO is None, reason="PlatformIO Core (pio) not installed")
@pytest.mark.parametrize("board", REAL_BOARDS, ids=board_ids(REAL_BOARDS))
def test_pio_project_config_accepts_the_generated_platformio_ini(board, projects, pio_core):
    project = projects[board.name]
    result = run([PIO, "project", "config", "-d", str(project)], env=pio_env(pio_core))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    assert f"env:{board.name}" in result.stdout


@pytest.mark.parametrize("board", REAL_BOARDS, ids=board_ids(REAL_BOARDS))
def test_platformio_ini_targets_the_board_framework_and_serial_settings(board, projects):
    config = ProjectConfig(str(projects[board.name] / "platformio.ini"))
    assert config.validate() and not config.warnings, config.warnings
    env = f"env:{board.name}"
    assert config.get("platformio", "default_envs") == [board.name]
    assert config.get(env, "platform") == board.pio_platform
    assert config.get(env, "board") == board.pio_board
    assert config.get(env, "framework") == [board.pio_framework]
    assert config.get(env, "upload_protocol") == board.upload_method
    assert config.get(env, "monitor_speed") == board.serial_baud
    assert config.get(env, "test_speed") == board.serial_baud
    assert config.get(env, "test_framework") == "custom"


@pytest.mark.parametrize("board", real_boards("stm32"), ids=board_ids(real_boards("stm32")))
def test_stm32_build_flags_force_include_the_board_and_add_the_source_folders(board, projects):
    config = ProjectConfig(str(projects[board.name] / "platformio.ini"))
    flags = " ".join(config.get(f"env:{board.name}", "build_flags"))
    assert "-include include/cg_board_port.h" in flags
    for folder in ("src/app", "src/port", "src/net"):
        assert f"-I{folder}" in flags
    assert config.get(f"env:{board.name}", "build_unflags") == ["-Os"]
    assert config.get(f"env:{board.name}", "debug_tool") == "stlink"


@pytest.mark.parametrize("board", real_boards("esp32"), ids=board_ids(real_boards("esp32")))
def test_esp_idf_project_files_register_every_source_folder(board, projects):
    project = projects[board.name]
    root = (project / "CMakeLists.txt").read_text()
    assert "include($ENV{IDF_PATH}/tools/cmake/project.cmake)" in root
    assert re.search(rf"^project\(kws_dscnn_int8-{re.escape(board.name)}\)$", root, re.M)
    component = (project / "src" / "CMakeLists.txt").read_text()
    assert "idf_component_register(" in component
    for folder in ("src/app", "src/port", "src/net", "include"):
        assert f'"${{CMAKE_SOURCE_DIR}}/{folder}"' in component
    assert "REQUIRES driver esp_timer" in component
    main = (project / "src" / "main.c").read_text()
    assert "void app_main(void)" in main and "cg_app_main();" in main


def sdkconfig(project) -> dict[str, str]:
    values = {}
    for line in (project / "sdkconfig.defaults").read_text().splitlines():
        if m := re.match(r"^(CONFIG_\w+)=(.*)$", line):
            values[m.group(1)] = m.group(2)
        elif m := re.match(r"^# (CONFIG_\w+) is not set$", line):
            values[m.group(1)] = "n"
    return values


@pytest.mark.parametrize("board", real_boards("esp32"), ids=board_ids(real_boards("esp32")))
def test_sdkconfig_defaults_set_240_mhz_no_idle_watchdog_quiet_uart0(board, projects):
    cfg = sdkconfig(projects[board.name])
    assert board.clock_hz == 240_000_000, "sdkconfig.defaults hard-codes 240 MHz; add a choice for this board"
    assert cfg["CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_240"] == "y"
    assert cfg["CONFIG_ESP_TASK_WDT_INIT"] == "n"
    assert cfg["CONFIG_ESP_TASK_WDT_CHECK_IDLE_TASK_CPU0"] == "n"
    assert cfg["CONFIG_ESP_TASK_WDT_CHECK_IDLE_TASK_CPU1"] == "n"
    assert cfg["CONFIG_LOG_DEFAULT_LEVEL_NONE"] == "y"
    assert cfg["CONFIG_ESP_CONSOLE_UART_BAUDRATE"] == str(board.serial_baud)
    assert cfg["CONFIG_ESP_MAIN_TASK_AFFINITY_CPU0"] == "y"
    assert int(cfg["CONFIG_ESP_MAIN_TASK_STACK_SIZE"]) >= 8192
    assert board.flash_bytes >= 4 * 1024 * 1024  # CONFIG_ESPTOOLPY_FLASHSIZE_4MB
    assert ("CONFIG_SPIRAM" in cfg) == (board.psram_bytes > 0)


def test_only_the_esp32cam_gets_psram(projects):
    boards = real_boards("esp32")
    with_psram = {b.name for b in boards if sdkconfig(projects[b.name]).get("CONFIG_SPIRAM") == "y"}
    assert with_psram == {"esp32cam"}
    readme = (projects["esp32cam"] / "README.md").read_text()
    assert "PSRAM" in readme and "EXT_RAM_BSS_ATTR" in readme
    assert "PSRAM" not in (projects["esp32dev"] / "README.md").read_text()


@pytest.mark.parametrize("board", REAL_BOARDS, ids=board_ids(REAL_BOARDS))
def test_generated_text_files_are_machine_independent(board, projects):
    project = projects[board.name]
    for rel in ("platformio.ini", "README.md", "include/cg_app_config.h"):
        text = (project / rel).read_text()
        assert str(project) not in text and "/work/" not in text, rel
    readme = (project / "README.md").read_text()
    assert board.title in readme and board.serial_uart in readme and "pio test" in readme
