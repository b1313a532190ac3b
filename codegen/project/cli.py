"""Commands ``generate``, ``build`` and ``flash``: thin wrappers over the writer and PlatformIO."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from codegen.boards import load_board
from codegen.compress.codec import NetworkGenerator, accounting, compress_flag
from codegen.compress.codec import add_flags as add_compress_flags
from codegen.project import pio
from codegen.project.writer import generate_project


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write a PlatformIO project for a model on a board",
        description="Write generated/<model>-<board>/ (or --out): platformio.ini, firmware, network C, "
        "tests and a README. Refuses to overwrite folders it did not write or files you edited.",
    )
    p.add_argument("--board", required=True, help="board name or alias (see `codegen boards`)")
    p.add_argument("--model", required=True, help="a .tflite file")
    p.add_argument("--out", help="output folder (default generated/<model>-<board>)")
    p.add_argument(
        "--force", action="store_true", help="overwrite a folder codegen did not write, or edited files"
    )
    p.add_argument("--name", help="project name (default <model>-<board>)")
    p.add_argument(
        "--no-fit-check", action="store_true", help="generate even if the model does not fit the board"
    )
    add_compress_flags(p)
    p.add_argument("--json", action="store_true", help="print a JSON summary (with per-weight accounting)")
    p.set_defaults(func=run_generate)

    p = sub.add_parser(
        "build", help="build a generated project with PlatformIO and report real flash/RAM use"
    )
    p.add_argument("project", type=Path, help="generated project folder")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--verbose-build", action="store_true", help="pass -v to pio run")
    p.set_defaults(func=run_build)

    p = sub.add_parser(
        "flash", help="flash a generated project (emulated board: start QEMU in the background)"
    )
    p.add_argument("project", type=Path, help="generated project folder")
    p.add_argument(
        "--port",
        help="upload port; emulated board: start one more instance with its serial socket on PORT, HOST:PORT or "
        "`auto` (a free port, printed), several instances run side by side (default: one, from platformio.ini)",
    )
    p.add_argument("--json", action="store_true", help="emulated board with --port: print port, URL and pid as JSON")
    p.set_defaults(func=run_flash)

    p = sub.add_parser("stop", help="stop the emulator that `codegen flash` started (emulated board)")
    p.add_argument("project", type=Path, help="generated project folder")
    p.add_argument("--port", help="stop only the instance `codegen flash --port` started on this port")
    p.set_defaults(func=run_stop)


def run_generate(args: argparse.Namespace) -> int:
    network = NetworkGenerator(compress_flag(args), args.decode, load_board(args.board))
    project = generate_project(
        args.model, args.board, args.out, name=args.name, force=args.force, fit_check=not args.no_fit_check,
        network=network,
    )
    fit = project.fit
    acct = accounting(network.last) if network.last is not None else None
    if args.json:
        json.dump({"project": str(project.path), "files": len(project.files), "fit": {
            "board": fit.board, "flash_needed": fit.flash_needed, "flash_available": fit.flash_available,
            "ram_needed": fit.ram_needed, "ram_available": fit.ram_available, "psram_needed": fit.psram_needed,
            "psram_available": fit.psram_available, "ram_detail": fit.ram_detail, "fits": fit.fits},
            "weights": acct.as_dict() if acct else None}, sys.stdout, indent=2)
        print()
        return 0
    print(f"wrote {project.path} ({len(project.files)} files)")
    print(
        f"fit estimate on {fit.board}: flash {fit.flash_needed:,} / {fit.flash_available:,} bytes, "
        f"RAM {fit.ram_needed:,} / {fit.ram_available:,} bytes"
        + (f", PSRAM {fit.psram_needed:,} / {fit.psram_available:,} bytes" if fit.psram_needed else "")
        + ("" if fit.fits else "  DOES NOT FIT")
    )
    if fit.ram_detail:
        print(f"RAM estimate: {fit.ram_detail}")
    if acct is not None and acct.decode != "none":
        print(acct.format())
    print(f"next: codegen build {project.path}")
    return 0


def run_build(args: argparse.Namespace) -> int:
    result = pio.build(args.project, verbose=args.verbose_build)
    limits = _limits(args.project)
    parts = pio.ram_parts(result.elf, result.size) if result.size is not None else None
    if args.json:
        data = {
            "project": str(result.project),
            "env": result.env_name,
            "elf": str(result.elf),
            "flash_bytes": result.size.flash if result.size else None,
            "ram_bytes": result.size.ram if result.size else None,
            "text": result.size.text if result.size else None,
            "data": result.size.data if result.size else None,
            "bss": result.size.bss if result.size else None,
            "flash_available": limits[0],
            "ram_available": limits[1],
            "ram_parts": asdict(parts) if parts else None,
        }
        json.dump(data, sys.stdout, indent=2)
        print()
        return 0
    print(f"built {result.elf}")
    if result.size is not None:
        s = result.size
        print(
            f"flash: {s.flash:,} bytes (text {s.text:,} + data {s.data:,})"
            + (f" of {limits[0]:,}" if limits[0] else "")
        )
        print(
            f"RAM:   {s.ram:,} bytes (data {s.data:,} + bss {s.bss:,}, stack reserve included)"
            + (f" of {limits[1]:,}" if limits[1] else "")
        )
        if parts is not None:
            print(f"       = {parts.describe()}")
    return 0


def _limits(project: Path) -> tuple[int | None, int | None]:
    try:
        from codegen.project.emulator import project_board

        board = project_board(project)
    except Exception:  # noqa: BLE001 - limits are informative only
        return None, None
    if board.template == "esp32":  # the app partition of codegen's partition table, not the whole flash
        from codegen.project.esp32 import app_flash_bytes

        return app_flash_bytes(board), board.ram_bytes
    return board.flash_bytes, board.ram_bytes


def run_flash(args: argparse.Namespace) -> int:
    if args.port and pio.read_ini_platform(args.project) == pio.EMULATED_PLATFORM:
        from codegen.project import instances

        inst = instances.launch(args.project, args.port)
        if args.json:
            json.dump({"project": str(inst.project), "port": inst.port, "url": inst.url, "pid": inst.pid},
                      sys.stdout)
            print()
        else:
            print(f"QEMU running (pid {inst.pid}); serial on {inst.url}")
            print(f"Stop it with: codegen stop {args.project} --port {inst.port}")
        return 0
    out = pio.upload(args.project, port=args.port)
    lines = [line for line in out.splitlines() if "QEMU" in line or "serial on" in line or "Stop it" in line]
    print("\n".join(lines) if lines else f"uploaded {args.project}")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from codegen.project import instances

    if pio.read_ini_platform(args.project) != pio.EMULATED_PLATFORM:
        pio.stop(args.project)  # explains that only the emulated board can be stopped
    stopped = instances.stop(args.project, args.port)
    for inst in stopped:
        print(f"stopped the emulator of {args.project} on port {inst.port} (pid {inst.pid})")
    if args.port is None:
        pio.stop(args.project)  # the one `pio run -t upload` (codegen flash without --port) started
        print(f"stopped the emulator of {args.project}")
    return 0
