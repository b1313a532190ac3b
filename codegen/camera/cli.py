"""``codegen camera capture`` and ``codegen camera run``.

    codegen camera capture --source 0 --label cup --count 50 --out data/mine --every 0.5 --size 96x96
    codegen camera run --source 0 --port /dev/ttyACM0 --model models/mine_int8.tflite
    codegen camera run --source clip.avi --project generated/mine_int8-emulated_stm32f405 --check
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from codegen.errors import CodegenError

log = logging.getLogger(__name__)

EXIT_MISMATCH = 1


def register(subparsers: Any) -> None:
    cam = subparsers.add_parser(
        "camera",
        help="capture a labelled image folder from a camera/video, or classify live frames on a board",
        description="Camera tooling. A source is a camera index (0), a video file or a folder of images.",
    )
    sub = cam.add_subparsers(dest="camera_command", metavar="{capture,run}")
    sub.required = True

    c = sub.add_parser(
        "capture",
        help="write N frames of a source as images under DIR/LABEL/",
        description="Write N frames of a camera, video or image folder as PNG files under DIR/LABEL/ (the "
        "folder:DIR dataset layout). Numbering continues after existing images; nothing is overwritten.",
    )
    c.add_argument("--source", required=True, help="camera index (0), video file or image folder")
    c.add_argument("--label", required=True, help="class name: the sub-folder the images go to")
    c.add_argument("--count", type=int, required=True, metavar="N", help="number of images to write")
    c.add_argument("--out", type=Path, required=True, metavar="DIR", help="dataset folder")
    c.add_argument("--every", type=float, default=0.0, metavar="S",
                   help="seconds between saved frames (source time; default every frame)")
    c.add_argument("--size", default=None, metavar="WxH", help="resize frames to W x H pixels before saving")
    c.add_argument("--no-preview", action="store_true", help="no preview window even when a display exists")
    c.set_defaults(func=run_capture)

    r = sub.add_parser(
        "run",
        help="send each frame to the board, print label, confidence and device latency",
        description="Preprocess each frame as the model was trained (its recorded preprocessing), send it to the "
        "board with INFER, and print the label, the confidence and the device's latency. --project runs the "
        "emulated board itself (build, start QEMU, stop it at the end).",
    )
    r.add_argument("--source", required=True, help="camera index (0), video file or image folder")
    where = r.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", help="serial port or URL of the board: /dev/ttyACM0, COM3, socket://HOST:PORT")
    where.add_argument("--project", type=Path, help="generated emulated-board project: start and stop QEMU")
    r.add_argument("--model", type=Path, default=None,
                   help="the .tflite the firmware was built from (default with --project: the project's copy)")
    r.add_argument("--frames", type=int, default=None, metavar="N", help="stop after N frames (default: all)")
    r.add_argument("--check", action="store_true",
                   help="compare every device output with the generated C on the host (exit 1 on a difference)")
    r.add_argument("--json", action="store_true", help="print the results as JSON")
    r.add_argument("--timeout", type=float, default=20.0, metavar="S", help="timeout per inference (s)")
    r.add_argument("--boot-timeout", type=float, default=10.0, metavar="S", help="wait for READY (s)")
    r.add_argument("--baud", type=int, default=None, help="serial baud rate (default: the board's)")
    r.add_argument("--no-preview", action="store_true", help="no preview window even when a display exists")
    r.set_defaults(func=run_run)


def _size_wxh(text: str | None) -> tuple[int, int] | None:
    """``"WxH"`` -> (height, width)."""
    if text is None:
        return None
    from codegen.train.datasets import parse_size

    w, h = parse_size(text)
    return h, w


def run_capture(args: argparse.Namespace) -> int:
    from codegen.camera.capture import capture

    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        end = "\n" if done >= total or not tty else ""
        print(f"\rcaptured {done}/{total} {args.label}", end=end, file=sys.stderr, flush=True)

    result = capture(args.source, args.label, args.count, args.out, every_s=args.every,
                     size=_size_wxh(args.size), preview=not args.no_preview, progress=progress)
    print(f"wrote {len(result.files)} images to {result.folder} "
          f"({result.files[0].name} .. {result.files[-1].name})")
    return 0


def _project_model(project: Path) -> tuple[Path, Any, str]:
    """(model copy, recorded preprocessing or None, board name) of a generated project."""
    from codegen.train.sidecar import read_manifest_preprocess

    manifest = project / ".codegen-manifest.json"
    if not manifest.is_file():
        raise CodegenError(f"{project} is not a project generated by codegen (no manifest)",
                           hint="generate it with `codegen generate --board qemu --model M`")
    data = json.loads(manifest.read_text())
    model = project / "model" / str(data.get("model", ""))
    return model, read_manifest_preprocess(project), str(data.get("board", ""))


@contextlib.contextmanager
def _url(args: argparse.Namespace, board_name: str) -> Iterator[str]:
    if args.project is None:
        yield args.port
        return
    from codegen.boards import load_board
    from codegen.hil.project import running_emulator

    board = load_board(board_name)
    if not board.is_emulated:
        raise CodegenError(f"--project starts an emulator, but {args.project} targets the real board {board.name}",
                           hint="flash it with `codegen flash` and pass --port")
    with running_emulator(args.project, board) as url:
        yield url


def run_run(args: argparse.Namespace) -> int:
    from codegen.camera.run import Classifier, FrameResult, format_frame, run_frames
    from codegen.hil.client import connect

    recorded = None
    board_name = ""
    model = args.model
    if args.project is not None:
        copy, recorded, board_name = _project_model(args.project)
        model = model or copy
    if model is None:
        raise CodegenError("no model given", hint="pass --model M.tflite (the model the firmware was built from)")
    if not Path(model).is_file():
        raise CodegenError(f"model {model} does not exist", hint="pass --model with the .tflite of the firmware")
    clf = Classifier(model, recorded=recorded)
    baud = args.baud
    if baud is None and board_name:
        from codegen.boards import load_board

        baud = load_board(board_name).serial_baud
    def show(r: FrameResult, counter_kind: str, counter_hz: int) -> None:
        print(format_frame(r, counter_kind, counter_hz), flush=True)

    with _url(args, board_name) as url:
        with connect(url, baud=baud or 115200, timeout=args.timeout, boot_timeout=args.boot_timeout) as dev:
            report = run_frames(args.source, dev, clf, frames=args.frames, check=args.check,
                                preview=not args.no_preview, on_frame=None if args.json else show)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        n = len(report.frames)
        summary = f"{n} frame{'s' * (n != 1)} classified on {report.board or 'the device'}"
        if report.checked:
            summary += f"; device == host C on {n - report.mismatches}/{n}"
        print(summary)
    return EXIT_MISMATCH if report.checked and report.mismatches else 0
