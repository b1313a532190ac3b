"""Every project the writer renders for a real board is a valid PlatformIO project for that board.

`pio project config` parses and validates platformio.ini without the platform packages, which cannot be
downloaded here; building needs the PlatformIO registry (docs/real-boards.md).
"""

from __future__ import annotations

import re

import pytest
from platformio.project.config import ProjectConfig

from tests.boards_real.conftest import PIO, ContractNetwork, board_ids, pio_env, real_boards, run

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
    assert config.get(env, "test_build_src") is (board.family != "esp32")


@pytest.mark.parametrize("board", real_boards("stm32"), ids=board_ids(real_boards("stm32")))
def test_stm32_build_flags_force_include_the_board_and_add_the_source_folders(board, projects):
    config = ProjectConfig(str(projects[board.name] / "platformio.ini"))
    flags = " ".join(config.get(f"env:{board.name}", "build_flags"))
    assert "-include include/cg_board_port.h" in flags
    for folder in ("src/app", "src/port", "src/net"):
        assert f"-I{folder}" in flags
    assert config.get(f"env:{board.name}", "build_unflags") == ["-Os"]
    assert config.get(f"env:{board.name}", "debug_tool") == "stlink"


ESP32_BOARDS = real_boards("esp32")
MIB = 1024 * 1024


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_esp_idf_entry_point_is_alone_in_src_and_the_firmware_is_a_component(board, projects, model_graph):
    """`pio test` on ESP-IDF does not build src/ (test_build_src = no): only app_main may live there."""
    project = projects[board.name]
    root = (project / "CMakeLists.txt").read_text()
    assert "include($ENV{IDF_PATH}/tools/cmake/project.cmake)" in root
    assert re.search(rf"^project\(kws_dscnn_int8-{re.escape(board.name)}\)$", root, re.M)
    main = (project / "src" / "CMakeLists.txt").read_text()
    assert 'SRCS "main.c"' in main and "PRIV_REQUIRES codegen" in main
    component = (project / "components" / "codegen" / "CMakeLists.txt").read_text()
    assert 'INCLUDE_DIRS "app" "port" "net" "../../include"' in component
    # ESP-IDF 5.3+ (5.5 in the pinned platform): the UART and USB-Serial-JTAG drivers are components of their own
    console = "esp_driver_usb_serial_jtag" if board.serial_uart == "USB_SERIAL_JTAG" else "esp_driver_uart"
    assert f"REQUIRES {console} esp_timer" in component and "REQUIRES driver" not in component
    config = ProjectConfig(str(project / "platformio.ini"))
    assert config.get(f"env:{board.name}", "test_build_src") is False
    assert "void app_main(void)" in (project / "src" / "main.c").read_text()
    from codegen.hil.golden import selftest_files

    selftest = selftest_files(model_graph, board, vectors=[(bytes(490), bytes(12))])["test_selftest/test_selftest.c"]
    assert b"void app_main(void)" in selftest  # the self-test's entry point replaces src/main.c's


@pytest.mark.parametrize("board", REAL_BOARDS, ids=board_ids(REAL_BOARDS))
def test_platform_is_pinned_to_a_version(board, projects):
    config = ProjectConfig(str(projects[board.name] / "platformio.ini"))
    platform = config.get(f"env:{board.name}", "platform")
    assert re.fullmatch(r"platformio/(espressif32|ststm32)@\d+\.\d+\.\d+", platform), platform


def partition_rows(project):
    rows = []
    for line in (project / "partitions.csv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, kind, sub, offset, size = [f.strip() for f in line.split(",")[:5]]
            rows.append((name, kind, sub, int(offset, 0), int(size, 0)))
    return rows


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_partition_table_is_generated_from_the_flash_size_and_is_the_one_flashed(board, projects):
    from codegen.project.esp32 import app_partition_size
    from codegen.project.writer import check_fit

    project = projects[board.name]
    config = ProjectConfig(str(project / "platformio.ini"))
    assert config.get(f"env:{board.name}", "board_build.partitions") == "partitions.csv"
    assert config.get(f"env:{board.name}", "board_upload.flash_size") == f"{board.flash_bytes // MIB}MB"
    rows = partition_rows(project)
    end = 0x9000  # partition table at 0x8000 (4 KB)
    for _, _, _, offset, size in rows:
        assert offset >= end, rows
        end = offset + size
    assert end == board.flash_bytes, "the partitions must cover the board's whole flash"
    apps = [r for r in rows if r[1] == "app"]
    assert len(apps) == 1 and apps[0][3] % 0x10000 == 0
    assert apps[0][4] == board.flash_bytes - 0x10000
    # the fit check reads the app partition, not the flash size
    assert app_partition_size((project / "partitions.csv").read_text()) == apps[0][4]
    assert check_fit(board, ContractNetwork()).flash_available == apps[0][4]
    cfg = sdkconfig(project)
    assert cfg["CONFIG_PARTITION_TABLE_CUSTOM"] == "y"
    assert cfg["CONFIG_PARTITION_TABLE_CUSTOM_FILENAME"] == '"partitions.csv"'
    assert cfg[f"CONFIG_ESPTOOLPY_FLASHSIZE_{board.flash_bytes // MIB}MB"] == "y"


def test_weights_beyond_the_app_partition_do_not_fit(projects):
    """The old check allowed the whole 4 MiB flash; the app partition is 64 KB smaller and IDF's code takes more."""
    from codegen.project.writer import check_fit

    board = next(b for b in ESP32_BOARDS if b.name == "esp32dev")
    weights = board.flash_bytes - 0x10000 - 200 * 1024  # fits the flash, not the app partition with IDF's code
    assert not check_fit(board, ContractNetwork(weight_bytes=weights)).fits


def sdkconfig(project) -> dict[str, str]:
    values = {}
    for line in (project / "sdkconfig.defaults").read_text().splitlines():
        if m := re.match(r"^(CONFIG_\w+)=(.*)$", line):
            values[m.group(1)] = m.group(2)
        elif m := re.match(r"^# (CONFIG_\w+) is not set$", line):
            values[m.group(1)] = "n"
    return values


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_sdkconfig_defaults_set_the_clock_no_idle_watchdog_quiet_console(board, projects):
    from codegen.project.esp32 import idf_target

    cfg = sdkconfig(projects[board.name])
    target, dual = idf_target(board)
    assert cfg[f"CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_{board.clock_hz // 1_000_000}"] == "y"
    assert cfg["CONFIG_ESP_TASK_WDT_INIT"] == "n"
    assert cfg["CONFIG_ESP_TASK_WDT_CHECK_IDLE_TASK_CPU0"] == "n"
    assert ("CONFIG_ESP_TASK_WDT_CHECK_IDLE_TASK_CPU1" in cfg) == dual
    assert cfg["CONFIG_LOG_DEFAULT_LEVEL_NONE"] == "y"
    if board.serial_uart == "USB_SERIAL_JTAG":
        assert cfg["CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG"] == "y" and "CONFIG_ESP_CONSOLE_UART_DEFAULT" not in cfg
    else:
        assert cfg["CONFIG_ESP_CONSOLE_UART_DEFAULT"] == "y"
        assert cfg["CONFIG_ESP_CONSOLE_UART_BAUDRATE"] == str(board.serial_baud)
    assert cfg["CONFIG_ESP_MAIN_TASK_AFFINITY_CPU0"] == "y"
    assert int(cfg["CONFIG_ESP_MAIN_TASK_STACK_SIZE"]) >= 8192
    assert cfg.get("CONFIG_SPIRAM", "n") == "n"  # the KWS arena fits internal RAM on every board


def test_esp32_c3_and_c6_consoles(projects):
    """C3-DevKitM-1: its only USB connector is a USB-UART bridge on UART0. C6-DevKitC-1: the native USB port."""
    boards = {b.name: b for b in ESP32_BOARDS}
    assert boards["esp32-c3-devkitm-1"].serial_uart == "UART0"
    assert boards["esp32-c6-devkitc-1"].serial_uart == "USB_SERIAL_JTAG"
    assert "ESP32-C6 USB" in (projects["esp32-c6-devkitc-1"] / "README.md").read_text()


# ESP-IDF's static-RAM limits (docs/real-boards.md): classic ESP32 160 KB of static DRAM (Memory Types guide), of
# which ESP-IDF's own .data/.bss take a part; S3, C3 and C6 share one region between IRAM code and static data
# (memory.ld.in of each target), so ESP-IDF's IRAM code comes out of it too. (MCU prefix, limit, IDF reserve)
STATIC_LIMIT = (("ESP32-S3", 0x3FCDB700 - 0x3FC88000, 96 * 1024), ("ESP32-C3", 0x3FCD0000 - 0x3FC80000, 96 * 1024),
                ("ESP32-C6", 0x4086E610 - 0x40800000, 96 * 1024), ("ESP32", 160 * 1024, 16 * 1024))


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_ram_budget_leaves_room_for_esp_idf_itself(board):
    limit, reserve = next((limit, reserve) for prefix, limit, reserve in STATIC_LIMIT if board.mcu.startswith(prefix))
    assert board.ram_bytes <= limit - reserve


def test_arena_that_overflows_the_classic_esp32_static_dram_does_not_fit():
    """Arenas of 130-176 KB used to pass the check and overflow dram0_0_seg at link time."""
    from codegen.project.writer import check_fit

    board = next(b for b in ESP32_BOARDS if b.name == "esp32dev")
    assert not check_fit(board, ContractNetwork(arena_bytes=140 * 1024)).fits
    assert check_fit(board, ContractNetwork(arena_bytes=100 * 1024)).fits


@pytest.mark.parametrize("board", REAL_BOARDS, ids=board_ids(REAL_BOARDS))
def test_generated_text_files_are_machine_independent(board, projects):
    project = projects[board.name]
    for rel in ("platformio.ini", "README.md", "include/cg_app_config.h"):
        text = (project / rel).read_text()
        assert str(project) not in text and "/work/" not in text, rel
    readme = (project / "README.md").read_text()
    assert board.title in readme and board.serial_uart in readme and "pio test" in readme


@pytest.mark.parametrize("board", ESP32_BOARDS, ids=board_ids(ESP32_BOARDS))
def test_analyze_and_generate_use_the_same_esp32_budgets(board, model_graph):
    from codegen.analysis import analyze

    fit = analyze(model_graph, board).fit
    assert fit.flash_available == board.flash_bytes - 0x10000 and fit.ram_available == board.ram_bytes
