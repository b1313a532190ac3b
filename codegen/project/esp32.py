"""ESP-IDF rules for ESP32 projects: partition table, chip target, console, and where the arena lives.

The numbers and their sources are documented in docs/real-boards.md ("ESP32 memory budgets"):

* flash: codegen writes its own partition table (``partitions.csv``, named by ``board_build.partitions``) with
  one factory app partition that takes the whole flash after the first 64 KB (bootloader, partition table at
  0x8000, NVS, PHY data). PlatformIO flashes that table and checks the app size against it, and the fit check
  reads the app size back from the same table;
* internal RAM: ``ram_bytes`` of the board file is the static-data budget of ESP-IDF's memory layout minus an
  allowance for ESP-IDF's own static data and IRAM code;
* PSRAM: on boards that have it, an arena that does not fit internal RAM is placed in PSRAM
  (``EXT_RAM_BSS_ATTR``, ``CONFIG_SPIRAM_ALLOW_BSS_SEG_EXTERNAL_MEMORY``); internal RAM is preferred.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from codegen.boards import Board
from codegen.errors import CodegenError

PARTITIONS_FILE = "partitions.csv"
PARTITION_TABLE_OFFSET = 0x8000
NVS_OFFSET, NVS_SIZE = 0x9000, 0x5000
PHY_OFFSET, PHY_SIZE = 0xE000, 0x1000
APP_OFFSET = 0x10000  # app partitions must start on a 64 KB boundary
# Flash an ESP-IDF application takes before any weights (FreeRTOS, newlib, drivers, our firmware): ESP-IDF 5's
# hello_world image is about 160-200 KB depending on the chip; 256 KB leaves room (the real figure: `codegen build`).
IDF_CODE_BYTES_ESTIMATE = 256 * 1024
MIB = 1024 * 1024

# ESP-IDF target per chip family (board "mcu" prefix) and whether it has a second core.
_TARGETS = (("ESP32-S3", "esp32s3", True), ("ESP32-C3", "esp32c3", False), ("ESP32-C6", "esp32c6", False),
            ("ESP32", "esp32", True))
# CPU clocks ESP-IDF offers as CONFIG_ESP_DEFAULT_CPU_FREQ_MHZ_<n> on these chips.
_CPU_MHZ = {"esp32": (80, 160, 240), "esp32s3": (80, 160, 240), "esp32c3": (80, 160), "esp32c6": (80, 120, 160)}
USB_SERIAL_JTAG = "USB_SERIAL_JTAG"


@dataclass(frozen=True)
class Partition:
    name: str
    type: str
    subtype: str
    offset: int
    size: int


@dataclass(frozen=True)
class Esp32Context:
    """What the ESP-IDF templates print (templates/project/esp32/)."""

    idf_target: str
    dual_core: bool
    cpu_mhz: int
    flash_size: str            # "4MB": CONFIG_ESPTOOLPY_FLASHSIZE_<flash_size>
    partitions_file: str
    partitions: tuple[Partition, ...]
    app_partition_bytes: int
    console: str               # "uart" or "usb_serial_jtag"
    psram_bytes: int
    psram_octal: bool          # ESP32-S3 modules with 8 MB PSRAM (R8) use octal PSRAM
    arena_in_psram: bool
    idf_requires: tuple[str, ...]


def idf_target(board: Board) -> tuple[str, bool]:
    for prefix, target, dual in _TARGETS:
        if board.mcu.upper().startswith(prefix):
            return target, dual
    raise CodegenError(f"board {board.name}: no ESP-IDF target for MCU {board.mcu!r}",
                       hint="use an ESP32, ESP32-S3, ESP32-C3 or ESP32-C6 board")


def partition_table(board: Board) -> tuple[Partition, ...]:
    """Single factory app partition over the whole flash after the first 64 KB."""
    if board.flash_bytes % MIB or board.flash_bytes < 2 * MIB:
        raise CodegenError(f"board {board.name}: flash size {board.flash_bytes} is not a whole number of MB >= 2",
                           hint="fix flash_bytes in the board file")
    return (
        Partition("nvs", "data", "nvs", NVS_OFFSET, NVS_SIZE),
        Partition("phy_init", "data", "phy", PHY_OFFSET, PHY_SIZE),
        Partition("factory", "app", "factory", APP_OFFSET, board.flash_bytes - APP_OFFSET),
    )


def app_flash_bytes(board: Board) -> int:
    """Size of the app partition codegen's partition table gives ``board``."""
    return app_partition_size(partitions_csv(partition_table(board)))


def partitions_csv(parts: tuple[Partition, ...]) -> str:
    rows = ["# Name, Type, SubType, Offset, Size, Flags"]
    rows += [f"{p.name}, {p.type}, {p.subtype}, 0x{p.offset:x}, 0x{p.size:x}," for p in parts]
    return "\n".join(rows) + "\n"


_ROW = re.compile(r"^\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+[KM]?)\s*,")


def app_partition_size(csv_text: str) -> int:
    """Size of the first app partition of a partition table CSV (what PlatformIO checks the image against)."""
    for line in csv_text.splitlines():
        m = _ROW.match(line)
        if m and m.group(2) == "app":
            size = m.group(5)
            if size[-1] in "KM":
                return int(size[:-1]) * (1024 if size[-1] == "K" else MIB)
            return int(size, 0)
    raise CodegenError("partition table has no app partition", hint="add a factory app partition")


def esp32_context(board: Board, *, arena_in_psram: bool) -> Esp32Context:
    target, dual = idf_target(board)
    mhz = board.clock_hz // 1_000_000
    if mhz not in _CPU_MHZ[target] or board.clock_hz % 1_000_000:
        raise CodegenError(f"board {board.name}: {board.clock_hz} Hz is not a CPU clock ESP-IDF offers on {target}",
                           hint=f"use one of {', '.join(str(m) for m in _CPU_MHZ[target])} MHz")
    parts = partition_table(board)
    console = "usb_serial_jtag" if board.serial_uart.upper() == USB_SERIAL_JTAG else "uart"
    # ESP-IDF 5.3+ split the drivers into esp_driver_* components (the `driver` component no longer brings them).
    requires = ("esp_driver_usb_serial_jtag" if console == "usb_serial_jtag" else "esp_driver_uart", "esp_timer")
    return Esp32Context(
        idf_target=target,
        dual_core=dual,
        cpu_mhz=mhz,
        flash_size=f"{board.flash_bytes // MIB}MB",
        partitions_file=PARTITIONS_FILE,
        partitions=parts,
        app_partition_bytes=app_partition_size(partitions_csv(parts)),
        console=console,
        psram_bytes=board.psram_bytes,
        psram_octal=target == "esp32s3" and board.psram_bytes >= 8 * MIB,
        arena_in_psram=arena_in_psram,
        idf_requires=requires,
    )
