"""``codegen compress``: which weights a Huffman blob would shrink, with per-tensor byte accounting."""

from __future__ import annotations

import argparse
import json

from codegen.compress.accounting import CompressionReport, plan_graph
from codegen.compress.huffman import DEFAULT_MIN_BYTES
from codegen.errors import CodegenError
from codegen.frontend import load_model


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compress", help="per-tensor Huffman compression of a model's int8 weights (what the "
                       "device would store)")
    p.add_argument("--model", required=True, help="a .tflite file")
    p.add_argument("--min-bytes", type=int, default=DEFAULT_MIN_BYTES,
                   help=f"tensors smaller than this stay raw (default {DEFAULT_MIN_BYTES})")
    p.add_argument("--prune", type=float, default=0.0, metavar="SPARSITY",
                   help="what-if: magnitude-prune int8 weights to this sparsity (0..1) before coding")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run_compress)


def format_report(report: CompressionReport) -> str:
    rows = [("#", "tensor", "dtype", "raw B", "stored B", "ratio", "choice", "why")]
    for t in report.tensors:
        name = t.name if len(t.name) <= 40 else "..." + t.name[-37:]
        rows.append((str(t.index), name, t.dtype, f"{t.raw_bytes:,}", f"{t.stored_bytes:,}",
                     f"{t.stored_bytes / t.raw_bytes:.3f}" if t.raw_bytes else "-", t.choice, t.reason))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    right = {0, 3, 4, 5}
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths,
                                                                                            strict=True)))
             for r in rows]
    d = report.as_dict()
    lines += [
        "",
        f"constant tensors: {report.raw_bytes:,} bytes raw -> {report.stored_bytes:,} bytes stored "
        f"({report.ratio:.3f}x, {len(report.huffman)} of {len(report.tensors)} tensors as Huffman blobs)",
        f"blob overhead:    {d['header_bytes']:,} header + {d['table_bytes']:,} table bytes",
    ]
    return "\n".join(lines)


def run_compress(args: argparse.Namespace) -> int:
    if not 0.0 <= args.prune < 1.0:
        raise CodegenError(f"--prune {args.prune} is not a sparsity", hint="give a fraction such as 0.5")
    report = plan_graph(load_model(args.model), min_bytes=args.min_bytes, sparsity=args.prune)
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 0
