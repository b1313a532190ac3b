"""Benchmark of the Huffman weight blobs: compression ratio on the MLPerf Tiny int8 models (dense and
magnitude-pruned to 50 % and 75 %) and decode cost in instructions per weight on a Cortex-M4 under QEMU.

    /tmp/venv/bin/python benchmarks/compress/bench_compress.py            # writes results.md here
    /tmp/venv/bin/python benchmarks/compress/bench_compress.py --no-qemu  # compression only

Ratios count everything the device stores for the weights: blob headers, code-length tables and
bitstreams; tensors whose blob would not be smaller stay raw and count at their raw size.
"""

from __future__ import annotations

import argparse
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from codegen.compress import huffman  # noqa: E402
from codegen.compress.accounting import magnitude_prune  # noqa: E402
from codegen.frontend import load_model  # noqa: E402
from codegen.resources import resource_path  # noqa: E402

log = logging.getLogger("bench_compress")

MODELS = ("resnet8_cifar10_int8", "vww_mobilenetv1_025_96_int8", "kws_dscnn_int8", "ad01_fc_autoencoder_int8")
SPARSITIES = (0.0, 0.5, 0.75)
TARGETS = {0.0: 0.85, 0.5: 0.5, 0.75: 0.35}
ICOUNT_SHIFT = 3


@dataclass(frozen=True)
class Row:
    model: str
    sparsity: float
    tensors: int
    raw: int
    entropy: float  # order-0 entropy of each tensor's int8 values, summed, in bytes (no tables)
    plain_unlimited: float  # plain Huffman bitstream bytes without the length limit (no tables)
    plain_limited: float  # same with the 12-bit limit
    plain_stored: int  # plain Huffman blobs (or raw where smaller)
    best_stored: int  # the encoder's choice of layout (or raw where smaller)
    best_overhead: int  # header + table bytes inside best_stored


def weights(model: str, models_dir: Path, sparsity: float) -> list[tuple[str, np.ndarray]]:
    graph = load_model(models_dir / f"{model}.tflite")
    out = []
    for t in graph.constant_tensors:
        if t.data is None or t.data.dtype != np.int8:
            continue
        zps = set(t.quant.zero_point) if t.quant is not None else {0}
        zp = zps.pop() if len(zps) == 1 else 0
        out.append((t.name, magnitude_prune(t.data, sparsity, zp) if sparsity else t.data))
    return out


def _entropy_bytes(v: np.ndarray) -> float:
    counts = np.bincount(v.reshape(-1).astype(np.int64) + 128)
    p = counts[counts > 0] / v.size
    return float(-(p * np.log2(p)).sum() * v.size / 8)


def _plain_bits(v: np.ndarray, limit: int | None) -> float:
    vals, counts = np.unique(v, return_counts=True)
    freqs = {int(a): int(c) for a, c in zip(vals, counts, strict=True)}
    lengths = huffman._huffman_lengths(freqs)
    if limit is not None:
        lengths = huffman.limit_lengths(lengths, freqs, limit)
    return sum(lengths[s] * f for s, f in freqs.items()) / 8


def measure(model: str, models_dir: Path, sparsity: float) -> Row:
    ts = weights(model, models_dir, sparsity)
    raw = entropy = unl = lim = 0.0
    plain = best = overhead = 0
    for _name, v in ts:
        raw += v.size
        entropy += _entropy_bytes(v)
        unl += _plain_bits(v, None)
        lim += _plain_bits(v, huffman.MAX_CODE_LEN)
        p = huffman.encode(v, gaps=False, signmag=False)
        plain += min(p.blob_bytes, v.size)
        b = huffman.encode(v)
        if b.blob_bytes < v.size:
            best += b.blob_bytes
            overhead += b.header_bytes + b.table_bytes
        else:
            best += v.size
    return Row(model, sparsity, len(ts), int(raw), entropy, unl, lim, plain, best, overhead)


# ------------------------------------------------------------------------------------------ decode cost


@dataclass(frozen=True)
class DecodeCase:
    model: str
    sparsity: float
    tensor: str
    count: int
    blob: huffman.HuffmanBlob


def decode_cases(models_dir: Path) -> list[DecodeCase]:
    cases = []
    for model in MODELS:
        for s in SPARSITIES:
            name, v = max(weights(model, models_dir, s), key=lambda nv: nv[1].size)
            cases.append(DecodeCase(model, s, name, v.size, huffman.encode(v)))
    return cases


def _fnv1a(b: bytes) -> int:
    h = 2166136261
    for x in b:
        h = ((h ^ x) * 16777619) & 0xFFFFFFFF
    return h


def run_qemu(cases: list[DecodeCase], build: Path) -> tuple[float, list[tuple[int, int, int, int, int]]]:
    """Build the Cortex-M4 program, run it under QEMU with -icount, return (ticks per instruction, rows of
    (status digits, hash ok, check ticks, nocrc ticks, full ticks))."""
    here = Path(__file__).parent / "m4"
    runtime = resource_path("runtime")
    lines = ['#include "bench_blobs.h"']
    for i, c in enumerate(cases):
        body = ",".join(str(x) for x in c.blob.data)
        lines.append(f"static const uint8_t blob{i}[{len(c.blob.data)}] __attribute__((aligned(4))) = "
                     f"{{{body}}};")
    entries = ",\n".join(
        f"    {{blob{i}, {len(c.blob.data)}u, {c.count}u, {_fnv1a(huffman.decode(c.blob).tobytes())}u}}"
        for i, c in enumerate(cases))
    lines.append(f"const bench_blob bench_blobs[{len(cases)}] = {{\n{entries}\n}};")
    (build / "bench_blobs.c").write_text("\n".join(lines) + "\n")
    (build / "bench_blobs.h").write_text(
        "#include <stdint.h>\n"
        "typedef struct { const uint8_t *data; uint32_t len; uint32_t count; uint32_t fnv1a; } bench_blob;\n"
        f"#define BENCH_NUM_BLOBS {len(cases)}u\n#define BENCH_MAX_COUNT {max(c.count for c in cases)}u\n"
        "extern const bench_blob bench_blobs[BENCH_NUM_BLOBS];\n")
    elf = build / "bench.elf"
    sources = [here / "startup.c", here / "bench_main.c", build / "bench_blobs.c",
               *sorted((runtime / "src" / "huffman").glob("*.c"))]
    cmd = ["arm-none-eabi-gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-mcpu=cortex-m4",
           "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-ffreestanding", "-nostdlib", "-nostartfiles",
           "-T", str(here / "link.ld"), "-I", str(build), "-I", str(runtime / "include"),
           "-o", str(elf), *map(str, sources), "-lgcc"]
    subprocess.run(cmd, check=True)
    proc = subprocess.run(
        ["qemu-system-arm", "-M", "netduinoplus2", "-display", "none", "-serial", "none", "-monitor", "none",
         "-icount", f"shift={ICOUNT_SHIFT}", "-semihosting-config", "enable=on,target=native",
         "-kernel", str(elf)], capture_output=True, text=True, timeout=300, check=True)
    out = proc.stdout + proc.stderr  # QEMU prints semihosting output on stderr
    cal = re.search(r"calibrate (\d+) (\d+)", out)
    if cal is None:
        raise RuntimeError(f"no calibration line in QEMU output:\n{out}\n{proc.stderr}")
    ticks_per_instr = int(cal.group(2)) / int(cal.group(1))
    pattern = r"blob \d+ (\d+) (\d+) (\d+) (\d+) (\d+)"
    rows = [tuple(int(x) for x in m.groups()) for m in re.finditer(pattern, out)]
    if len(rows) != len(cases):
        raise RuntimeError(f"expected {len(cases)} result lines from QEMU, got:\n{out}")
    return ticks_per_instr, rows  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------ report


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def report(rows: list[Row], qemu: tuple[float, list, list[DecodeCase]] | None) -> str:
    md = [
        "# Huffman weight blobs: benchmark results",
        "",
        "Generated by `benchmarks/compress/bench_compress.py` (do not edit by hand; rerun it). Models:"
        " the four",
        "MLPerf Tiny int8 models in `../shared/models`; weights: every constant int8 tensor an operator"
        " reads",
        "(biases are int32 and stay raw, they are not counted). Pruning: the given fraction of each int8"
        " tensor",
        "closest to its zero point is set to the zero point (magnitude pruning without fine-tuning: enough",
        "to measure storage, not accuracy).",
        "",
        "Ratios are stored bytes over raw int8 bytes, **including** blob headers (24 B) and code-length"
        " tables;",
        "a tensor whose blob would not be smaller is kept raw and counted at its raw size.",
        "",
        "* `entropy`: order-0 entropy of each tensor's values (no tables): the floor for any coder that"
        " codes",
        "  each weight independently with one table per tensor.",
        "* `plain`: Huffman over the int8 symbols (one literal code per weight), 12-bit length limit.",
        "* `blob`: what the encoder stores: the smallest of plain, sign-magnitude literals, and gap coding",
        "  (a second Huffman code for the number of zero-point values before each other value).",
        "",
        "| model | sparsity | int8 weights B | entropy | plain | blob | target | met | header+table B |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in rows:
        met = r.best_stored / r.raw <= TARGETS[r.sparsity]
        md.append(f"| {r.model} | {r.sparsity:.0%} | {r.raw:,} | {_fmt(r.entropy / r.raw)} | "
                  f"{_fmt(r.plain_stored / r.raw)} | **{_fmt(r.best_stored / r.raw)}** | "
                  f"<= {TARGETS[r.sparsity]} | {'yes' if met else 'no'} | {r.best_overhead:,} |")
    for s in SPARSITIES:
        sel = [r for r in rows if r.sparsity == s]
        raw = sum(r.raw for r in sel)
        md.append(f"| **all four** | {s:.0%} | {raw:,} | {_fmt(sum(r.entropy for r in sel) / raw)} | "
                  f"{_fmt(sum(r.plain_stored for r in sel) / raw)} | "
                  f"**{_fmt(sum(r.best_stored for r in sel) / raw)}** | <= {TARGETS[s]} | "
                  f"{'yes' if sum(r.best_stored for r in sel) / raw <= TARGETS[s] else 'no'} | "
                  f"{sum(r.best_overhead for r in sel):,} |")
    missed = [r for r in rows if r.best_stored / r.raw > TARGETS[r.sparsity]]
    md += ["", "## Findings", ""]
    if missed:
        md.append("Targets missed, with the order-0 entropy floor of the same weights:")
        md.append("")
        for r in missed:
            floor = r.entropy / r.raw
            why = ("the floor itself is above the target: a coder that codes each weight on its own with one "
                   "static code per tensor cannot reach it" if floor > TARGETS[r.sparsity] else
                   "the floor is below the target; the gap is table/header overhead and Huffman rounding")
            md.append(f"* {r.model} at {r.sparsity:.0%}: {_fmt(r.best_stored / r.raw)} vs target "
                      f"{TARGETS[r.sparsity]}; floor {_fmt(floor)}: {why}.")
        md.append("")
    md += [
        "Plain Huffman spends at least one bit per weight, so a 75 % sparse tensor pays >= 0.75 bit per"
        " weight",
        "for its zeros alone (entropy: 0.81 bit per weight for the zero/non-zero decision, spread over the",
        "non-zero weights). Gap coding removes that floor and gets within a few percent of the entropy"
        " bound;",
        "it is what reaches the 75 % target on every model. Beating the order-0 floor would need context",
        "modelling (e.g. per-channel tables or arithmetic coding), which costs far more to decode.",
        "",
        "Length limit: 12 bits. Plain Huffman bitstream bytes with and without the limit (all models and",
        "sparsities): "
        f"{sum(r.plain_limited for r in rows):,.0f} vs {sum(r.plain_unlimited for r in rows):,.0f} "
        f"(+{100 * (sum(r.plain_limited for r in rows) / sum(r.plain_unlimited for r in rows) - 1):.3f} %).",
    ]
    if qemu is not None:
        tpi, qrows, cases = qemu
        md += [
            "",
            "## Decode cost on Cortex-M4 (QEMU, instruction counts)",
            "",
            f"`qemu-system-arm -M netduinoplus2 -icount shift={ICOUNT_SHIFT}`, decoder built with",
            "`arm-none-eabi-gcc -O2 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16`. SysTick",
            "(processor clock) ticks are converted to instructions with a calibration loop of 2,000,000",
            f"known instructions ({tpi:.4f} ticks per instruction). These are **instructions**, not cycles:",
            "on real silicon, flash wait states and load-use and branch penalties add cycles (not measured",
            "here). Largest int8 tensor of each model; every decoded",
            "tensor was checked against the Python reference (hash).",
            "",
            "| model | sparsity | tensor weights | layout | blob/raw | check (CRC) instr/weight | "
            "decode instr/weight | decode+CRC instr/weight |",
            "|---|---:|---:|---|---:|---:|---:|---:|",
        ]
        for c, (status, ok, t_check, t_nocrc, t_full) in zip(cases, qrows, strict=True):
            if status != 0 or ok != 1:
                raise RuntimeError(f"decode on the M4 failed for {c.model} {c.sparsity}: status {status}, "
                                   f"hash {ok}")
            n = c.count
            md.append(f"| {c.model} | {c.sparsity:.0%} | {n:,} | {c.blob.mode} | {_fmt(c.blob.ratio)} | "
                      f"{t_check / tpi / n:.1f} | {t_nocrc / tpi / n:.1f} | {t_full / tpi / n:.1f} |")
        md += [
            "",
            "The CRC runs at two table lookups per blob byte; `cg_huffman_decode_nocrc_s8` skips it for"
            " callers",
            "that ran `cg_huffman_check` once (e.g. at init) on weights held in flash.",
        ]
    md += [
        "",
        "Firmware flash, RAM and inference overhead with Huffman-packed weights in generated code (emulated",
        "STM32F405): `firmware.md` (`bench_firmware.py`).",
    ]
    return "\n".join(md) + "\n"


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models-dir", type=Path, default=ROOT.parent / "shared" / "models")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results.md")
    ap.add_argument("--no-qemu", action="store_true", help="skip the Cortex-M4 decode-cost measurement")
    args = ap.parse_args()
    rows = []
    for model in MODELS:
        for s in SPARSITIES:
            log.info("compressing %s at %.0f %% sparsity", model, 100 * s)
            rows.append(measure(model, args.models_dir, s))
    qemu = None
    if not args.no_qemu:
        if shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None:
            log.warning("arm-none-eabi-gcc or qemu-system-arm missing: skipping the decode-cost measurement")
        else:
            cases = decode_cases(args.models_dir)
            with tempfile.TemporaryDirectory() as tmp:
                log.info("building and running the Cortex-M4 decoder benchmark under QEMU")
                tpi, qrows = run_qemu(cases, Path(tmp))
            qemu = (tpi, qrows, cases)
    text = report(rows, qemu)
    args.out.write_text(text)
    log.info("wrote %s", args.out)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
