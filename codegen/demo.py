"""The main job on the built-in default: `bash run.sh demo` (digits data, emulated STM32F405).

Runs the pipeline one step after another with the same commands a user types, stopping at the first failure:
train -> analyze -> verify -> generate -> build -> validate on the emulated board. Steps whose parts are not
installed are reported as skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from codegen.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def steps(model: Path, work: Path) -> list[tuple[str, str | None, list[str]]]:
    """(title, module that must exist, argv) for each step."""
    project = work / "squeezenet_int8-emulated_stm32f405"
    float_model = model.with_name(model.name.replace("_int8", "_fp32"))
    return [
        ("analyze the model and check it fits the emulated board", None,
         ["analyze", "--model", str(model), "--board", "emulated_stm32f405"]),
        ("generated C on the host vs the TFLM reference", "codegen.backend.native.cli",
         ["verify", "--model", str(model), "--samples", "20"]),
        ("generate the PlatformIO project for the emulated STM32F405", "codegen.project.cli",
         ["--board", "emulated_stm32f405", "--model", str(model), "--out", str(project), "--force"]),
        ("build the firmware with PlatformIO", "codegen.project.cli", ["build", str(project)]),
        ("run it on the emulated board and validate against the host", "codegen.hil.cli",
         ["validate", "--project", str(project), "--model", str(model), "--dataset", "digits", "--limit", "30",
          *(["--float-model", str(float_model)] if float_model.exists() else []), "--out", str(work / "validation")]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.sh demo", description=__doc__)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "squeezenet_int8.tflite")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "demo")
    args = parser.parse_args(argv)
    model = args.model
    if not model.exists():
        print(f"==> {model} is missing: training it on the digits data", flush=True)
        rc = cli_main(["train", "--model", "squeezenet", "--dataset", "digits", "--out", str(model.parent)])
        if rc:
            return rc
    args.work.mkdir(parents=True, exist_ok=True)
    for i, (title, module, cmd) in enumerate(steps(model, args.work), 1):
        print(f"\n==> step {i}: {title}\n    codegen {' '.join(cmd)}", flush=True)
        if module and not _available(module):
            print(f"    skipped: {module} is not part of this version yet", flush=True)
            continue
        rc = cli_main(cmd)
        if rc:
            print(f"==> step {i} failed (exit {rc})", file=sys.stderr)
            return rc
    print("\n==> demo finished", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
