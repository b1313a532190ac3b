"""Sparsity benchmark: dense vs pruned (+ Huffman-coded weights) on an emulated board (issue #16).

For every model trained by ``codegen train`` (dense int8 and magnitude-pruned int8 variants, see README.md in this
folder) and every storage variant: the project for the board (``codegen generate`` with the same options as
``--huffman --decode ...``), ``codegen build`` (pio run, -O2) and ``codegen validate --project`` (QEMU ``-icount``:
counts per inference that follow executed instructions, not cycles; on the emulated STM32F405 SysTick ticks, 1.344
per instruction) on random inputs. Records flash and RAM of the ELF
(arm-none-eabi-size; RAM includes the stack reserve), the planned arena, the decoded-weights buffer, the stored
weight bytes, counts and executed instructions per inference, ``device_exact_rate`` (device == TFLM running the
pruned model == host C) and the accuracy ``codegen train`` measured with TFLM on its held-out split.

    PYTHONPATH=. $PY benchmarks/sparsity/bench.py --models-dir DIR [--board emulated_stm32f405] [--samples 3]

Results of models not run are kept from an earlier results file in ``--out``. ``DIR`` holds
``<model>_p<sparsity>_{int8,pruned_int8}.tflite`` and the train reports (see README.md).
Results go to ``benchmarks/sparsity/results-<board>.json`` and ``.md``.
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

from codegen import __version__  # noqa: E402
from codegen.boards import load_board  # noqa: E402
from codegen.compress.codec import NetworkGenerator  # noqa: E402
from codegen.project import pio  # noqa: E402
from codegen.project.writer import generate_project  # noqa: E402

# (label, file suffix, training run (file name tag), compress, decode)
VARIANTS = (
    ("dense", "int8", "p0.5", "none", "auto"),
    ("50 % pruned, raw", "pruned_int8", "p0.5", "none", "auto"),
    ("50 % + huffman, decode layer", "pruned_int8", "p0.5", "huffman", "layer"),
    ("50 % + huffman, decode init", "pruned_int8", "p0.5", "huffman", "init"),
    ("75 % + huffman, decode layer", "pruned_int8", "p0.75", "huffman", "layer"),
    ("2:4 pruned, raw", "pruned_int8", "s24", "none", "auto"),
    ("2:4 + huffman, decode layer", "pruned_int8", "s24", "huffman", "layer"),
    ("2:4-tile pruned, raw", "pruned_int8", "t24", "none", "auto"),
    ("2:4-tile + huffman, decode layer", "pruned_int8", "t24", "huffman", "layer"),
    ("2:4-layer pruned, raw", "pruned_int8", "l24", "none", "auto"),
    ("2:4-layer + huffman, decode layer", "pruned_int8", "l24", "huffman", "layer"),
    ("channel 50 % (filters removed)", "pruned_int8", "ch0.5", "none", "auto"),
)


def accuracy(models_dir: Path, stem: str, variant: str) -> float | None:
    report = models_dir / f"{stem}_report.json"
    if not report.is_file():
        return None
    data = json.loads(report.read_text())
    for v in data.get("variants", []):
        if v.get("name") == variant:
            for key in ("accuracy_tflm", "tflm_accuracy", "accuracy"):
                if isinstance(v.get(key), (int, float)):
                    return float(v[key])
    return None


def run_variant(model: Path, board: str, compress: str, decode: str, samples: int, work: Path) -> dict:
    network = NetworkGenerator(compress, decode, load_board(board))
    project = work / model.stem
    generate_project(model, board, project, force=True, network=network, selftest=False)
    built = pio.build(project)
    sources = network.last
    report_path = work / f"{model.stem}.json"
    cmd = [sys.executable, "-m", "codegen", "validate", "--project", str(project), "--model", str(model),
           "--samples", str(samples), "--timeout", "120", "--json", "--no-plots"]
    with report_path.open("w") as fp:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fp, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"error: validate failed for {model.name}: {proc.stderr.strip()[-400:]}")
    report = json.loads(report_path.read_text())
    size = built.size
    return {
        "model": model.name,
        "compress": network.choice.compress if network.choice else compress,
        # the chosen mode (sources.decode is "none" when no blob is decoded: convolutions expanded per block)
        "decode": (network.choice.decode if network.choice and network.choice.compress != "none"
                   else sources.decode if sources else None),
        "counts": float(report["latency"]["mean"]),  # what the board's counter counts (STM32F405: SysTick ticks)
        # executed instructions (counts / 1.344 on the STM32F405; firmware that does not say so: the counts)
        "instructions": float((report["latency"].get("instructions") or report["latency"])["mean"]),
        "flash_bytes": size.flash if size else None,
        "ram_bytes": size.ram if size else None,
        "arena_bytes": sources.arena_bytes if sources else None,
        "decoded_bytes": sources.decoded_bytes if sources else None,
        "weight_bytes": sources.weight_bytes if sources else None,
        "stored_weight_bytes": sum(s.stored_bytes for s in sources.constants) if sources else None,
        "kernels": list(sources.kernels) if sources else [],
        "device_exact_rate": report["device_exact_rate"],
        "passed": report["passed"],
        "samples": samples,
    }


def markdown(results: dict, board: str, command: str) -> str:
    lines = [
        f"# Sparsity benchmark: {board}", "",
        f"codegen {__version__}. Command (repository root): `{command}`", "",
        "Per inference: `counts` = what the board's counter reports under QEMU `-icount` (on the emulated "
        "STM32F405: SysTick ticks, 1.344 per executed instruction, the unit of the README's and issue #10's figures), "
        "`instr` = executed instructions (counts / 1.344), not cycles; firmware built with arm-none-eabi-gcc -O2, "
        "kernels for the board's core (DSP on Cortex-M4). Flash/RAM: the ELF "
        "(arm-none-eabi-size; RAM = data + bss incl. the stack reserve). `exact` = device_exact_rate (device == "
        "TFLM running the same pruned model == host C). Ratios are against the dense row of the same model. "
        "Accuracy: TFLM on the held-out split, from `codegen train`'s report.", "",
        "| model | variant | decode | flash B | flash x | RAM B | RAM - dense | arena B | arena x | counts | instr | "
        "instr x | weights stored B | accuracy | exact |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, rows in results.items():
        dense = rows[0]
        for r in rows:
            acc = f"{r['accuracy']:.3f}" if r.get("accuracy") is not None else "-"
            lines.append(
                f"| {key} | {r['label']} | {r['decode']} | {r['flash_bytes']:,} | "
                f"{r['flash_bytes'] / dense['flash_bytes']:.2f} | {r['ram_bytes']:,} | "
                f"{r['ram_bytes'] - dense['ram_bytes']:+,} | {r['arena_bytes']:,} | "
                f"{r['arena_bytes'] / dense['arena_bytes']:.2f} | {r.get('counts', r['instructions']) / 1e6:.3f} M | "
                f"{r['instructions'] / 1e6:.3f} M | "
                f"{r['instructions'] / dense['instructions']:.2f} | {r['stored_weight_bytes']:,} | {acc} | "
                f"{r['device_exact_rate']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--board", default="emulated_stm32f405")
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--models", nargs="+", default=["lenet5", "squeezenet", "resnet8"])
    ap.add_argument("--models-dir", type=Path, required=True)
    ap.add_argument("--only", nargs="+", default=None, metavar="TEXT",
                    help="run only the variants whose label contains one of TEXT (other rows: kept from --out)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "sparsity")
    args = ap.parse_args()
    board = load_board(args.board).name
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="cg-sparsity-bench-") as tmp:
        for key in args.models:
            rows = []
            for label, suffix, run, compress, decode in VARIANTS:
                if args.only and not any(text in label for text in args.only):
                    continue
                stem = f"{key}_{run}"
                path = args.models_dir / f"{stem}_{suffix}.tflite"
                if not path.is_file():
                    print(f"{key}: {path.name} missing, skipped", flush=True)
                    continue
                r = run_variant(path, board, compress, decode, args.samples, Path(tmp))
                r.update(label=label, accuracy=accuracy(args.models_dir, stem, suffix))
                rows.append(r)
                print(f"{key} {label}: flash {r['flash_bytes']:,} B, RAM {r['ram_bytes']:,} B, "
                      f"{r.get('counts', 0) / 1e6:.3f} M counts, exact {r['device_exact_rate']:.2f}", flush=True)
            if rows:
                results[key] = rows
    command = "PYTHONPATH=. $PY benchmarks/sparsity/bench.py " + " ".join(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"results-{board}"
    previous = args.out / f"{stem}.json"
    if previous.is_file():  # keep the models and variants not run this time (a busy machine)
        old = json.loads(previous.read_text())["results"]
        for key, rows in results.items():
            ran = {r["label"] for r in rows}
            kept = {r["label"]: r for r in old.get(key, []) if r["label"] not in ran}
            merged = {**kept, **{r["label"]: r for r in rows}}
            results[key] = [merged[v[0]] for v in VARIANTS if v[0] in merged]
        results = {**old, **results}
    (args.out / f"{stem}.json").write_text(json.dumps(
        {"tool_version": __version__, "board": board, "command": command, "results": results},
        indent=2, sort_keys=True) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(results, board, command.strip()))
    print(f"wrote {args.out / stem}.json and .md")
    failed = [f"{k} {r['label']}" for k, rows in results.items() for r in rows if not r["passed"]]
    if failed:
        print(f"device output differs for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
