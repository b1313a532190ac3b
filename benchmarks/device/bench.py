"""Device benchmark: the MLPerf Tiny int8 models and the shipped SqueezeNet on an emulated board.

For every model: ``codegen generate`` (project for the board), ``codegen build`` (pio run, -O2), then
``codegen validate --project`` (QEMU, ``-icount``: counts executed instructions, not cycles) on random inputs. Records
per model instructions per inference, MAC per instruction, flash and RAM of the ELF (arm-none-eabi-size; RAM
includes the stack reserve), the planned arena, ``device_exact_rate`` (device == TFLM == host C) and a per-layer
table (the firmware's PROFILE), beside the TFLM figures measured on the same emulated board (issue #10).

    PYTHONPATH=. $PY benchmarks/device/bench.py [--board qemu] [--kernels auto|portable] [--samples 5]
        [--models resnet8 kws ...] [--out benchmarks/device] [--keep-channels]

``--kernels portable`` switches the Cortex-M DSP kernels off (the portable C every core gets) to compare both
paths on the same board. ``--board emulated_rv32imc`` runs the same on the RISC-V board (ESP32-C3 instruction set,
portable kernels, minstret) and puts its instruction counts beside the Cortex-M4 results of the same folder.
``--keep-channels`` runs the native pipeline without ``remove-pruned-channels``: the firmware then computes every
channel of the model, as TFLM does, which separates what the kernels gain from what removing the model's dead
(all-zero) filters gains. Results go to ``<out>/results-<board>[-portable][-all-channels].json`` and ``.md``.
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
from codegen.analysis import analyze  # noqa: E402
from codegen.backend.native import NativeOptions, generate, program  # noqa: E402
from codegen.backend.native.program import native_graph  # noqa: E402
from codegen.boards import load_board  # noqa: E402
from codegen.frontend import load_model  # noqa: E402
from codegen.passes import PIPELINES, define_pipeline, run_pipeline  # noqa: E402
from codegen.project import pio  # noqa: E402
from codegen.project.writer import generate_project  # noqa: E402

SHARED = ROOT.parent.parent / "shared" / "models"
MODELS = {
    "resnet8": "resnet8_cifar10_int8.tflite",
    "vww": "vww_mobilenetv1_025_96_int8.tflite",
    "kws": "kws_dscnn_int8.tflite",
    "ad01": "ad01_fc_autoencoder_int8.tflite",
    "squeezenet": "squeezenet_int8.tflite",
}
# TFLM on the same emulated STM32F405 (Cortex-M4F, -O2, resolver with exactly the model's ops, instructions per
# Invoke), as given in issue #10: (reference kernels, with CMSIS-NN); and the target (<= 0.67x CMSIS-NN).
TFLM = {
    "resnet8": (107.5e6, 29.87e6, 20.0e6),
    "vww": (100.5e6, 24.10e6, 16.1e6),
    "kws": (43.1e6, 7.70e6, 5.16e6),
    "ad01": (1.95e6, 0.583e6, 0.39e6),
}


#: the native pipeline without the pass that removes all-zero filters: every channel of the model is computed
ALL_CHANNELS = define_pipeline(
    "native-all-channels", [p for p in PIPELINES["native"].passes if p != "remove-pruned-channels"])


def model_path(key: str, models_dir: Path) -> Path:
    name = MODELS[key]
    for folder in (models_dir, ROOT / "models"):
        if (folder / name).is_file():
            return folder / name
    raise SystemExit(f"error: model {name} not found in {models_dir} or {ROOT / 'models'}")


def run_model(key: str, path: Path, board: str, kernels: str, samples: int, work: Path) -> dict:
    graph = load_model(path)
    options = NativeOptions(kernels=kernels, core=load_board(board).core)
    sources = generate(graph, prefix="cg_net", options=options)
    project = work / f"{key}-{board}"
    generate_project(path, board, project, force=True,
                     network=lambda g, prefix: generate(g, prefix=prefix, options=options))
    built = pio.build(project)
    report_path = work / f"{key}.json"
    cmd = [sys.executable, "-m", "codegen", "validate", "--project", str(project), "--model", str(path),
           "--samples", str(samples), "--timeout", "120", "--json", "--no-plots"]
    with report_path.open("w") as fp:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fp, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"error: validate failed for {key}: {proc.stderr.strip()[-400:]}")
    report = json.loads(report_path.read_text())
    cost = analyze(native_graph(graph))
    model_macs = analyze(run_pipeline(graph, ALL_CHANNELS)).macs  # what TFLM computes
    macs = {layer.index: layer.macs for layer in cost.layers}
    instr = float(report["latency"]["mean"])
    layers = []
    for lp in report["layers"]:
        m = macs.get(lp["index"], 0)
        layers.append({"index": lp["index"], "op": lp["name"], "instructions": lp["cycles"], "macs": m,
                       "mac_per_instruction": (m / lp["cycles"]) if lp["cycles"] and m else None})
    size = built.size
    return {
        "model": path.name,
        "macs": cost.macs,
        "model_macs": model_macs,
        "instructions": instr,
        "mac_per_instruction": cost.macs / instr if instr else None,
        "flash_bytes": size.flash if size else None,
        "ram_bytes": size.ram if size else None,
        "arena_bytes": sources.arena_bytes,
        "weight_bytes": sources.weight_bytes,
        "kernels": list(sources.kernels),
        "device_exact_rate": report["device_exact_rate"],
        "passed": report["passed"],
        "samples": samples,
        "layers": layers,
    }


def fmt_m(x: float) -> str:
    return f"{x / 1e6:.3f} M" if x < 10e6 else f"{x / 1e6:.2f} M"


CORTEX_M_BOARD = "emulated_stm32f405"
# how each emulated board counts, and with which compiler its firmware is built
COUNTERS = {
    "emulated_stm32f405": ("QEMU `-icount shift=3` (SysTick)", "arm-none-eabi-gcc -O2"),
    "emulated_rv32imc": ("QEMU `-icount shift=0` (minstret)", "riscv64-unknown-elf-gcc -O2 -march=rv32imc"),
}
#: counter ticks per executed instruction: under ``-icount shift=3`` every instruction advances virtual time by 8 ns
#: and SysTick runs at the 168 MHz core clock, so the STM32F405 port counts 8e-9 * 168e6 = 1.344 per instruction
#: (firmware/port/emulated/port_emulated.c); minstret counts instructions.  The TFLM figures of issue #10 were
#: measured with the same SysTick method, so they are in the same unit as ours.
TICKS_PER_INSTRUCTION = {"emulated_stm32f405": 1.344, "emulated_rv32imc": 1.0}


def cortex_m_comparison(results: dict, out: Path, results_board: str) -> list[str]:
    """Instructions per inference beside the Cortex-M4 figures recorded in the same folder (other boards)."""
    path = out / f"results-{CORTEX_M_BOARD}.json"
    if not path.is_file():
        return []
    arm = json.loads(path.read_text())["results"]
    lines = ["", f"## Beside the Cortex-M4 ({CORTEX_M_BOARD}, kernels auto: DSP)", "",
             f"From `{path.name}` in this folder, in executed instructions (the Cortex-M4's SysTick counts divided "
             f"by {TICKS_PER_INSTRUCTION[CORTEX_M_BOARD]}); a RISC-V and a Cortex-M instruction do not cost the "
             "same cycles.", "",
             "| model | this board | Cortex-M4 | ratio |", "|---|---:|---:|---:|"]
    for key, r in results.items():
        if key in arm:
            other = arm[key]["instructions"] / TICKS_PER_INSTRUCTION[CORTEX_M_BOARD]
            mine = r["instructions"] / TICKS_PER_INSTRUCTION.get(results_board, 1.0)
            lines.append(f"| {key} | {fmt_m(mine)} | {fmt_m(other)} | {mine / other:.2f}x |")
    return lines


def markdown(results: dict, board: str, kernels: str, command: str, out: Path | None = None) -> str:
    counter, compiler = COUNTERS.get(board, ("QEMU `-icount`", "gcc -O2"))
    ticks = TICKS_PER_INSTRUCTION.get(board, 1.0)
    arm = board == CORTEX_M_BOARD
    lines = [
        f"# Device benchmark: {board}, kernels {kernels}",
        "",
        f"codegen {__version__}. Command (repository root): `{command}`",
        "",
        f"Instructions per inference: {counter}, counts of executed instructions, not cycles"
        + (f" ({ticks} counts per executed instruction: 8 ns of virtual time per instruction, SysTick at 168 MHz; "
           "the TFLM figures of issue #10 were measured the same way, so the columns compare like for like; "
           "`executed` divides by it)" if ticks != 1.0 else "")
        + f"; firmware built with {compiler}. `exact` = device_exact_rate (device output == TFLM reference == "
        "host C, random inputs). RAM = data + bss of the ELF (arena, buffers, stack reserve). "
        + ("TFLM columns: TFLM on the same emulated board, reference kernels / with CMSIS-NN (issue #10)." if arm
           else "The TFLM figures of issue #10 were measured on the Cortex-M4 only."),
        "",
        "`MACs run`: the MACs of the generated network (all-zero filters removed exactly by the "
        "`remove-pruned-channels` pass unless the command has `--keep-channels`); `model MACs`: what TFLM computes. "
        "MAC/instr counts the MACs run.",
        "",
        "| model | model MACs | MACs run | instructions | executed | MAC/instr | TFLM ref | TFLM+CMSIS-NN | "
        "ours / CMSIS-NN | target | flash B | arena B | RAM B | exact |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, r in results.items():
        ref, cmsis, target = TFLM.get(key, (None, None, None)) if arm else (None, None, None)
        cells = [key, f"{r.get('model_macs', r['macs']) / 1e6:.2f} M", f"{r['macs'] / 1e6:.2f} M",
                 fmt_m(r["instructions"]), fmt_m(r["instructions"] / ticks), f"{r['mac_per_instruction']:.3f}",
                 fmt_m(ref) if ref else "-", fmt_m(cmsis) if cmsis else "-",
                 f"{r['instructions'] / cmsis:.2f}x" if cmsis else "-", fmt_m(target) if target else "-",
                 f"{r['flash_bytes']:,}", f"{r['arena_bytes']:,}", f"{r['ram_bytes']:,}",
                 f"{r['device_exact_rate']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    if not arm and out is not None:
        lines += cortex_m_comparison(results, out, board)
    for key, r in results.items():
        lines += ["", f"## {key} ({r['model']}) per layer", "",
                  "| # | op | instructions | share | MACs | MAC/instr |", "|---:|---|---:|---:|---:|---:|"]
        total = sum(layer["instructions"] for layer in r["layers"]) or 1
        for layer in r["layers"]:
            mpi = f"{layer['mac_per_instruction']:.3f}" if layer["mac_per_instruction"] else "-"
            lines.append(f"| {layer['index']} | {layer['op']} | {layer['instructions']:,} | "
                         f"{100 * layer['instructions'] / total:.1f} % | {layer['macs']:,} | {mpi} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--board", default="emulated_stm32f405")
    ap.add_argument("--kernels", choices=("auto", "portable"), default="auto",
                    help="auto: the board core's fastest kernels (DSP on Cortex-M4/M7); portable: plain C")
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    ap.add_argument("--models-dir", type=Path, default=SHARED)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "device")
    ap.add_argument("--keep-channels", action="store_true",
                    help="do not remove all-zero filters (compute every channel of the model, as TFLM does)")
    args = ap.parse_args()
    board = load_board(args.board).name
    suffix = ("" if args.kernels == "auto" else f"-{args.kernels}") + ("-all-channels" if args.keep_channels else "")
    if args.keep_channels:
        program.PIPELINE = ALL_CHANNELS.name
    results = {}
    with tempfile.TemporaryDirectory(prefix="cg-device-bench-") as tmp:
        for key in args.models:
            r = run_model(key, model_path(key, args.models_dir), board, args.kernels, args.samples, Path(tmp))
            results[key] = r
            print(f"{key}: {fmt_m(r['instructions'])} instructions, {r['mac_per_instruction']:.3f} MAC/instr, "
                  f"exact {r['device_exact_rate']:.2f}, flash {r['flash_bytes']:,} B, arena {r['arena_bytes']:,} B",
                  flush=True)
    command = "PYTHONPATH=. $PY benchmarks/device/bench.py " + " ".join(sys.argv[1:])
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"results-{board}{suffix}"
    (args.out / f"{stem}.json").write_text(json.dumps(
        {"tool_version": __version__, "board": board, "kernels": args.kernels, "command": command,
         "results": results}, indent=2, sort_keys=True) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(results, board, args.kernels, command.strip(), args.out))
    failed = [k for k, r in results.items() if not r["passed"]]
    if failed:
        print(f"device output differs from the host for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
