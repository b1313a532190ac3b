"""`codegen validate`: run a model on a board through serial and compare with the host, bit for bit.

    codegen validate --port /dev/ttyACM0 --model m.tflite --samples 100
    codegen validate --port socket://127.0.0.1:5555 --model m.tflite --dataset digits --float-model f.tflite
    codegen validate --project generated/two_inputs-emulated_stm32f405 --dataset images.npy --dataset vectors.npy
    codegen validate --project generated/m-emulated_stm32f405 --samples 50
    codegen validate --port /dev/ttyUSB0 --project generated/m-esp32dev
    codegen validate --port /dev/ttyUSB0 --port /dev/ttyUSB1 --project generated/m-esp32dev   # a board farm

With ``--project`` (a project made by ``codegen generate``) the project supplies the model (its copy in
``model/``, checked against the sha256 in its manifest), the board and its clock. Without ``--port`` (emulated
boards), the firmware is built if needed, the emulator is started, the run validated and the emulator stopped
again, also on errors and Ctrl-C; with ``--port`` the flashed board on that port is validated.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import CodegenError

log = logging.getLogger(__name__)

EXIT_MISMATCH = 1


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "validate",
        help="run a model on a board (or the emulator) and compare every output with the host",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--port", action="append",
                   help="serial port or URL: /dev/ttyACM0, COM3, socket://127.0.0.1:5555; repeat it for a board farm "
                   "(samples shared round-robin, boards run at once, report per board and in total)")
    p.add_argument("--project", type=Path,
                   help="generated project: supplies model, board and clock; without --port (emulated board) "
                   "build, start the emulator, validate, stop")
    p.add_argument("--model", type=Path, help="the int8 .tflite the firmware was generated from "
                   "(default with --project: the project's model)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--samples", type=int, default=None, help="number of inputs (default 100)")
    src.add_argument("--dataset", action="append",
                     help="use test samples of a dataset (e.g. digits) or a .npy file of samples instead of random "
                     "inputs; repeat it once per input, in graph order, for a model with several inputs")
    p.add_argument("--limit", type=int, default=100, help="with --dataset: number of samples (default 100)")
    p.add_argument("--board", help="board name, for the clock used to convert counts to ms")
    p.add_argument("--float-model", type=Path, help="float .tflite, to measure the accuracy drop float -> int8")
    p.add_argument("--out", type=Path, help="folder for validation.json, CSV files and PNG plots")
    p.add_argument("--cooldown", type=float, default=0.0, metavar="S", help="pause between inferences (s)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S", help="timeout per inference (s)")
    p.add_argument("--retries", type=int, default=3,
                   help="re-send a request this many times after a corrupted reply or a timeout (default 3)")
    p.add_argument("--boot-timeout", type=float, default=10.0, metavar="S",
                   help="how long to wait for the board to announce READY (s)")
    p.add_argument("--allow-busy", action="store_true",
                   help="go ahead when another program holds the serial port (a pty bridge such as socat or "
                   "ser2net that created the port is accepted without it)")
    p.add_argument("--on-reset", choices=("abort", "resume"), default="abort",
                   help="what to do when the board resets mid-run (default abort)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--no-host-c", action="store_true", help="skip the generated C compiled for the host")
    p.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from codegen.boards import load_board
    from codegen.frontend import load_model
    from codegen.hil import sources
    from codegen.hil.validate import (
        ValidationConfig,
        dataset_inputs,
        format_report,
        random_inputs,
        validate,
        write_report,
    )

    ports: list[str] = [args.port] if isinstance(args.port, str) else list(args.port or [])  # str: a caller's Namespace
    args.port = ports[0] if len(ports) == 1 else None
    if not ports and not args.project:
        raise CodegenError("no board to validate", hint="pass --port PORT, --project DIR, or both")
    project = _project_facts(args.project, args.model) if args.project else None
    model_path = args.model or (project.model if project else None)
    if model_path is None:
        raise CodegenError("no model given", hint="pass --model M.tflite (the model the firmware was built from)")
    graph = load_model(model_path)
    board_name = args.board or (project.board if project else None)
    board = load_board(board_name) if board_name else None

    datasets = [args.dataset] if isinstance(args.dataset, str) else list(args.dataset or [])  # str: from Python
    samples = args.limit if datasets else (args.samples if args.samples is not None else 100)
    config = ValidationConfig(samples=samples, seed=args.seed, cooldown_s=args.cooldown, on_reset=args.on_reset,
                              progress=sys.stderr.isatty() and not args.json)
    inputs = (dataset_inputs(graph, datasets, samples, args.seed) if datasets
              else random_inputs(graph, samples, args.seed))
    reference = sources.reference_fn(graph)
    host_c = host_layers = None
    if not args.no_host_c:
        try:
            host_c, host_layers = sources.host_c_fns(graph)
        except CodegenError as exc:
            log.warning("%s; comparing with the TFLM reference only", exc)
    float_model = sources.float_fn(args.float_model) if args.float_model else None

    if len(ports) > 1:
        from codegen.hil.farm import run_farm

        return run_farm(args, ports, graph, inputs, reference=reference, host_c=host_c, float_model=float_model,
                        host_layers=host_layers, config=config, board=board)
    with _device_url(args, project) as url:
        from codegen.hil.device import open_target

        with open_target(url, timeout=args.timeout, boot_timeout=args.boot_timeout, retries=args.retries,
                         baud=board.serial_baud if board else 115200, allow_busy=args.allow_busy) as target:
            report = validate(target, graph, inputs, reference=reference, host_c=host_c, float_model=float_model,
                              host_layers=host_layers, layer_names=sources.layer_names(graph), config=config,
                              board=board.name if board else "", clock_hz=board.clock_hz if board else 0)
    if args.out:
        report = write_report(report, args.out, plots=not args.no_plots)
    if args.json:
        from codegen.hil.validate import _jsonable

        print(json.dumps(_jsonable(report.to_json()), indent=2, sort_keys=True))
    else:
        print(format_report(report))
    return 0 if report.passed else EXIT_MISMATCH


# ---------------------------------------------------------------------------------------------------------------
# --project: find model and board, build, start and stop the emulator


@dataclass(frozen=True)
class ProjectFacts:
    """What validation needs to know about a generated project."""

    root: Path
    board: str
    model: Path | None
    model_sha256: str


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _project_facts(root: Path, model: Path | None) -> ProjectFacts:
    """Board and model of a generated project. The model is the project's own copy (``model/``) or, for
    projects without one, a same-named file beside it; either way its sha256 must be the manifest's."""
    if not (root / "platformio.ini").is_file():
        raise CodegenError(f"{root} is not a generated project (no platformio.ini)",
                           hint="pass the folder `codegen generate` wrote, or use --port with --model")
    manifest = root / ".codegen-manifest.json"
    try:
        data = json.loads(manifest.read_text()) if manifest.is_file() else {}
    except ValueError:
        raise CodegenError(f"{manifest} is not valid JSON", hint="regenerate the project") from None
    board = str(data.get("board", ""))
    if not board:
        from codegen.project.pio import read_ini_env

        board = read_ini_env(root)
    name = str(data.get("model", ""))
    want = str(data.get("model_sha256", "")).lower()
    if model is not None:
        if want and model.is_file() and _sha256(model) != want:
            raise CodegenError(f"{model} is a different model from the one {root} was generated from (sha256 "
                               f"{_sha256(model)[:16]}..., project {want[:16]}...)",
                               hint=f"pass the model with sha256 {want[:16]}..., or leave out --model")
    elif name:
        candidates = [root / "model" / name, root / name, root.parent / name, Path.cwd() / name,
                      Path.cwd() / "models" / name, root.parent.parent / "models" / name]
        found = [c for c in candidates if c.is_file()]
        matching = [c for c in found if not want or _sha256(c) == want]
        if not matching:
            looked = ", ".join(str(c) for c in found) or "nowhere"
            raise CodegenError(
                f"the model {name} of {root} (sha256 {want[:16]}...) was not found; same-named files with another "
                f"sha256: {looked}",
                hint=f"regenerate the project (it then keeps a copy in model/), or pass --model PATH/{name}")
        model = matching[0]
    return ProjectFacts(root, board, model, want)


@contextlib.contextmanager
def _device_url(args: argparse.Namespace, project: ProjectFacts | None) -> Iterator[str]:
    if project is None or args.port:
        yield args.port  # a flashed board (or an emulator someone else started) on this port
        return
    from codegen.boards import load_board
    from codegen.hil.project import running_emulator

    board = load_board(project.board)
    if not board.is_emulated:
        raise CodegenError(f"{project.root} targets the real board {board.name}: say which port it is on",
                           hint=f"flash it with `codegen flash {project.root}` and add --port (e.g. /dev/ttyUSB0)")
    with running_emulator(project.root, board) as url:
        yield url
