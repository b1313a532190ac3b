"""Command-line entry point: global options, sub-command registry, error handling.

Each command group lives in its own module with ``register(subparsers)``; this file only wires them together.
``codegen --board B --model M`` (no sub-command) is the ``generate`` command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from codegen import __version__
from codegen.errors import EXIT_USAGE, CodegenError

log = logging.getLogger("codegen")

COMMAND_MODULES = (
    "codegen.inspect_cli",          # analyze, ops, boards
    "codegen.backend.native.cli",   # verify, emit-c
    "codegen.project.cli",          # generate, build, flash
    "codegen.hil.cli",              # validate
    "codegen.train.cli",            # train, bench
    "codegen.camera.cli",           # camera capture, camera run
    "codegen.compress.cli",         # compress
    "codegen.convert.cli",          # convert (ONNX -> TFLite)
)

_GENERATE_FLAGS = ("--board", "--model")
_GLOBAL_FLAGS = ("--debug", "-v", "--verbose")


def version_text() -> str:
    """codegen's version and those of the runtimes it uses (read from package metadata, nothing imported)."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"codegen {__version__}", f"Python {sys.version.split()[0]}"]
    for label, dist in (("TensorFlow", "tensorflow"), ("tflite-micro", "tflite-micro"), ("PlatformIO", "platformio")):
        try:
            parts.append(f"{label} {version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{label} not installed")
    return ", ".join(parts)


class _VersionAction(argparse.Action):
    """Print :func:`version_text` unwrapped (argparse's version action re-wraps it) and exit 0."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        print(version_text())
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codegen",
        description="Deploy quantized neural networks to microcontrollers: analyze a model, generate C and a "
        "PlatformIO project for a board, build, flash and validate it.",
        epilog="Shortcut: `codegen --board BOARD --model MODEL.tflite` is `codegen generate --board ... --model ...`.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0,
                        help="print the versions of codegen and of the tools it runs with, then exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show progress logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                log.debug("command module %s not available", name)
                continue
            raise
        module.register(sub)
    return parser


def _rewrite_shortcut(argv: list[str]) -> list[str]:
    """`codegen --board B --model M ...` -> `codegen generate --board B --model M ...`."""
    globals_ = [a for a in argv if a in _GLOBAL_FLAGS]
    rest = [a for a in argv if a not in _GLOBAL_FLAGS]
    if not rest or not rest[0].startswith("-") or {"-h", "--help", "--version"} & set(rest):
        return argv
    if any(a.split("=", 1)[0] in _GENERATE_FLAGS for a in rest):
        return [*globals_, "generate", *rest]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    args_list = _rewrite_shortcut(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args_list
    from codegen import tflog

    tflog.install(debug)  # before anything can import TensorFlow
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO if ("-v" in args_list or "--verbose" in args_list)
        else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    parser = build_parser()
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except CodegenError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # unwritable or missing output path, read-only file system, disk full, busy mount...
        if debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot write or read{where}: {exc.strerror or exc} (check the path, its permissions and the "
              "free space, or choose another --out)", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
