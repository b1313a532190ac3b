"""Boards are data: one JSON file per board under ``boards/``, validated against ``boards/_schema.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jsonschema

from codegen.errors import BoardError
from codegen.resources import resource_path


@dataclass(frozen=True)
class MemoryRegion:
    name: str
    kind: str  # "flash" | "ram" | "psram"
    origin: int | None
    size: int


@dataclass(frozen=True)
class EmulatorSpec:
    program: str
    machine: str
    cpu: str
    icount_shift: int
    extra_args: tuple[str, ...]


@dataclass(frozen=True)
class Board:
    name: str
    aliases: tuple[str, ...]
    title: str
    vendor: str
    family: str
    template: str
    mcu: str
    core: str
    fpu: str | None
    clock_hz: int
    flash_bytes: int
    ram_bytes: int
    memory_regions: tuple[MemoryRegion, ...]
    pio_platform: str
    pio_board: str
    pio_framework: str | None
    serial_baud: int
    serial_uart: str
    usb_bridge: str
    upload_method: str
    emulator: EmulatorSpec | None
    notes: str = ""
    source: str = ""
    port: str = ""  # firmware/port/<port>; the family when empty

    @property
    def psram_bytes(self) -> int:
        return sum(r.size for r in self.memory_regions if r.kind == "psram")

    @property
    def port_dir(self) -> str:
        """Folder of the board's firmware port under ``firmware/port/``."""
        return self.port or self.family

    @property
    def is_emulated(self) -> bool:
        return self.emulator is not None


def boards_dir() -> Path:
    return resource_path("boards")


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads((boards_dir() / "_schema.json").read_text())


def parse_board(data: dict, source: str = "<dict>") -> Board:
    """Validate a board description against the schema and build a :class:`Board`."""
    try:
        jsonschema.validate(data, _schema())
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise BoardError(f"board file {source} is invalid at {where}: {exc.message}",
                         hint="fix the file so it matches boards/_schema.json") from None
    emu = data["emulator"]
    return Board(
        name=data["name"],
        aliases=tuple(data["aliases"]),
        title=data["title"],
        vendor=data["vendor"],
        family=data["family"],
        template=data["template"],
        mcu=data["mcu"],
        core=data["core"],
        fpu=data.get("fpu"),
        clock_hz=data["clock_hz"],
        flash_bytes=data["flash_bytes"],
        ram_bytes=data["ram_bytes"],
        memory_regions=tuple(MemoryRegion(r["name"], r["kind"], r.get("origin"), r["size"])
                             for r in data["memory_regions"]),
        pio_platform=data["platformio"]["platform"],
        pio_board=data["platformio"]["board"],
        pio_framework=data["platformio"]["framework"],
        serial_baud=data["serial"]["baud"],
        serial_uart=data["serial"]["uart"],
        usb_bridge=data["serial"]["usb_bridge"],
        upload_method=data["upload"]["method"],
        emulator=None if emu is None else EmulatorSpec(emu["program"], emu["machine"], emu["cpu"],
                                                       emu["icount_shift"], tuple(emu["extra_args"])),
        notes=data.get("notes", ""),
        source=source,
        port=data.get("port", ""),
    )


@lru_cache(maxsize=1)
def list_boards() -> tuple[Board, ...]:
    """All boards, sorted by name. A broken board file or a duplicate name/alias is an error."""
    boards = []
    seen: dict[str, str] = {}
    for path in sorted(boards_dir().glob("*.json")):
        if path.name.startswith("_"):
            continue
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise BoardError(f"board file {path} is not valid JSON: {exc}", hint="fix the file") from None
        board = parse_board(data, str(path))
        if board.name != path.stem:
            raise BoardError(f"board file {path} names the board {board.name!r}",
                             hint=f"rename the file to {board.name}.json or fix its name")
        for key in (board.name, *board.aliases):
            if key in seen:
                raise BoardError(f"board name or alias {key!r} is used by {seen[key]} and {path}",
                                 hint="make board names and aliases unique")
            seen[key] = str(path)
        boards.append(board)
    return tuple(boards)


def load_board(name: str) -> Board:
    """Find a board by name or alias (case-insensitive)."""
    key = name.strip().lower()
    for board in list_boards():
        if key == board.name or key in board.aliases:
            return board
    known = ", ".join(b.name for b in list_boards())
    raise BoardError(f"unknown board {name!r}", hint=f"choose one of: {known} (see `codegen boards`)")
