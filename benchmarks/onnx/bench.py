"""ONNX LeNet (NCHW, dynamic batch, as a PyTorch export) -> int8 TFLite -> emulated STM32F405 (issue #17).

Makes ``models/lenet_digits.onnx`` (``tests.convert.onnx_models.lenet_digits``: seeded random features, least-
squares readout on digits), then runs the three commands of the README and records what they print:

    codegen convert --model models/lenet_digits.onnx --out OUT/lenet_digits.tflite --dataset digits
    codegen --board qemu --model OUT/lenet_digits.tflite --out OUT/lenet-qemu
    codegen validate --project OUT/lenet-qemu --model OUT/lenet_digits.tflite --dataset digits --limit 100 \
        --float-model OUT/lenet_digits_float32.tflite

    PYTHONPATH=. $PY benchmarks/onnx/bench.py [--keep-model] [--out benchmarks/onnx]

Results go to ``<out>/results.md`` (with the conversion report and validation.json beside it).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MODEL = ROOT / "models" / "lenet_digits.onnx"


def codegen(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "codegen", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"codegen {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keep-model", action="store_true", help="use the existing models/lenet_digits.onnx")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "onnx")
    args = ap.parse_args()
    if not (args.keep_model and MODEL.exists()):
        import onnx

        from tests.convert.onnx_models import lenet_digits

        onnx.save(lenet_digits(), str(MODEL))
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        tfl = t / "lenet_digits.tflite"
        convert_out = codegen("convert", "--model", str(MODEL.relative_to(ROOT)), "--out", str(tfl),
                              "--dataset", "digits")
        project = t / "lenet-qemu"
        codegen("--board", "qemu", "--model", str(tfl), "--out", str(project))
        report = t / "report"
        validate_out = codegen("validate", "--project", str(project), "--model", str(tfl), "--dataset", "digits",
                               "--limit", "100", "--float-model", str(t / "lenet_digits_float32.tflite"),
                               "--no-plots", "--out", str(report))
        conversion = json.loads((t / "lenet_digits_convert.json").read_text())
        validation = json.loads((report / "validation.json").read_text().replace(str(t), "OUT"))
        convert_out = convert_out.replace(str(t), "OUT")
        validate_out = "\n".join(line.replace(str(t), "OUT") for line in validate_out.splitlines()
                                 if not line.startswith("wrote "))
    (args.out / "convert.json").write_text(json.dumps(conversion, indent=2) + "\n")
    (args.out / "validation.json").write_text(json.dumps(validation, indent=2) + "\n")
    lines = [
        "# ONNX LeNet -> int8 -> emulated STM32F405",
        "",
        "Recorded by `PYTHONPATH=. $PY benchmarks/onnx/bench.py` (see its docstring for the three commands).",
        "The model: `models/lenet_digits.onnx`, NCHW 1x1x28x28 with a dynamic batch dimension, Conv/Relu/MaxPool x2,",
        "Flatten, Gemm/Relu x2, Gemm (seeded random features, least-squares readout on the digits training split).",
        "",
        "## codegen convert",
        "",
        "```",
        *[line for line in convert_out.rstrip().splitlines() if not line.startswith("  files:")],
        "```",
        "",
        "## codegen validate --project (QEMU, instructions, not cycles)",
        "",
        "```",
        *validate_out.rstrip().splitlines(),
        "```",
        "",
    ]
    (args.out / "results.md").write_text("\n".join(lines))
    print((args.out / "results.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
