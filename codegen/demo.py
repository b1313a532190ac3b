"""The main job on the built-in default: `bash run.sh demo` (digits data, emulated STM32F405).

Runs the whole pipeline with the same commands a user types, stopping at the first failure:
train (SqueezeNet on scikit-learn's digits, pruned to 50 %, int8) -> analyze -> Huffman accounting ->
verify the generated C against TFLM -> generate the PlatformIO project with Huffman-packed weights ->
build it -> run it on the emulated board and validate it against the host, sample by sample.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from codegen.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
BOARD = "emulated_stm32f405"


def train_step(models: Path, epochs: int) -> list[str]:
    return ["train", "--model", "squeezenet", "--dataset", "digits", "--epochs", str(epochs), "--prune", "0.5",
            "--variants", "fp32,int8,pruned_int8", "--out", str(models), "--seed", "0", "--force"]


def steps(model: Path, float_model: Path | None, work: Path) -> list[tuple[str, list[str]]]:
    project = work / f"{model.stem}-{BOARD}"
    validate = ["validate", "--project", str(project), "--model", str(model), "--dataset", "digits",
                "--limit", "50", "--out", str(work / "validation")]
    if float_model is not None and float_model.exists():
        validate += ["--float-model", str(float_model)]
    return [
        ("analyze the model and check that it fits the emulated board",
         ["analyze", "--model", str(model), "--board", BOARD]),
        ("Huffman accounting: raw, coded and table bytes per tensor", ["compress", "--model", str(model)]),
        ("generated C (Huffman-packed weights) on the host vs the TFLM reference",
         ["verify", "--model", str(model), "--samples", "50", "--huffman"]),
        ("generate the PlatformIO project for the emulated STM32F405",
         ["--board", BOARD, "--model", str(model), "--huffman", "--out", str(project), "--force"]),
        ("build the firmware with PlatformIO (offline, Debian's arm-none-eabi-gcc)", ["build", str(project)]),
        ("run it on the emulated board (QEMU) and validate it against the host, sample by sample", validate),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bash run.sh demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="skip training and deploy this int8 .tflite instead")
    parser.add_argument("--float-model", type=Path, help="float model of --model, for the accuracy-drop check")
    parser.add_argument("--epochs", type=int, default=20, help="training epochs (default 20)")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "demo", help="output folder (default out/demo)")
    args = parser.parse_args(argv)

    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    plan: list[tuple[str, list[str]]] = []
    if args.model is None:
        models = work / "models"
        plan.append(("train SqueezeNet on the digits data, prune to 50 %, quantize to int8",
                     train_step(models, args.epochs)))
        model, float_model = models / "squeezenet_pruned_int8.tflite", models / "squeezenet_fp32.tflite"
    else:
        model, float_model = args.model, args.float_model
    plan += steps(model, float_model, work)

    for i, (title, cmd) in enumerate(plan, 1):
        print(f"\n==> step {i}/{len(plan)}: {title}\n    codegen {' '.join(cmd)}", flush=True)
        rc = cli_main(cmd)
        if rc:
            print(f"==> step {i} failed (exit {rc})", file=sys.stderr)
            return rc
    print(f"\n==> demo finished: project in {work}, validation report in {work / 'validation'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
