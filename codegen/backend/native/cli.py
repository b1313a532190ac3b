"""CLI commands of the native backend: ``codegen verify`` and ``codegen emit-c``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from codegen.errors import OverwriteError

if TYPE_CHECKING:
    from codegen import ir
    from codegen.backend.native.emitter import NativeOptions

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "verify",
        help="compare the generated C (host build) with the TFLM reference",
        description="Run random inputs through the generated C compiled for this machine "
        "and through TFLM; exit 1 unless an int8 model matches bit for bit.",
    )
    p.add_argument("--model", required=True, type=Path, help=".tflite model")
    p.add_argument("--samples", type=int, default=100, help="random inputs to compare (default 100, at most 100,000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--sanitize", action="store_true", help="build with -fsanitize=address,undefined")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_compress_flags(p)
    p.set_defaults(func=run_verify)

    e = subparsers.add_parser(
        "emit-c",
        help="write the generated C sources of a model (native backend)",
        description="Write <prefix>.h, <prefix>.c, <prefix>_weights.c and the runtime "
        "kernels the model uses into one folder.",
    )
    e.add_argument("--model", required=True, type=Path, help=".tflite model")
    e.add_argument("--out", required=True, type=Path, help="output folder")
    e.add_argument("--prefix", default="cg_net", help="C symbol prefix (default cg_net)")
    e.add_argument("--force", action="store_true", help="overwrite files in a non-empty output folder")
    e.add_argument("--json", action="store_true", help="print a summary as JSON")
    _add_compress_flags(e)
    e.set_defaults(func=run_emit_c)


def _add_compress_flags(parser: argparse.ArgumentParser) -> None:
    from codegen.compress.codec import add_flags

    add_flags(parser)


def _options(args: argparse.Namespace, graph: ir.Graph, prefix: str = "cg_net") -> NativeOptions:
    """NativeOptions for --huffman/--compress/--decode (no board: auto decodes at init)."""
    from codegen.compress.codec import compress_flag, native_options

    options, choice = native_options(graph, compress_flag(args), args.decode, None, prefix)
    log.info("weights: %s, decode %s (%s)", choice.compress, choice.decode, choice.reason)
    return options


def run_verify(args: argparse.Namespace) -> int:
    from codegen.verify import MAX_SAMPLES, verify

    if not 1 <= args.samples <= MAX_SAMPLES:
        from codegen.errors import CodegenError

        raise CodegenError(f"--samples must be between 1 and {MAX_SAMPLES:,}, got {args.samples:,}",
                           hint=f"pass --samples {min(max(args.samples, 1), MAX_SAMPLES)}")
    from codegen.frontend import load_model

    options = _options(args, load_model(args.model))
    report = verify(args.model, samples=args.samples, seed=args.seed, sanitize=args.sanitize, options=options)
    for note in report.reference_notes:
        print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        graph = load_model(args.model)
        int8_io = all(t.dtype.value == "int8" for t in (*graph.input_tensors, *graph.output_tensors))
        kind = (
            f"{'int8' if int8_io else 'integer'} (bit-exact required)"
            if report.quantized
            else f"float32 ({report.tolerance})"
        )
        rows = [
            ("model", report.model, ""),
            ("check", kind, ""),
            ("samples", str(report.samples), f"seed {report.seed}"),
            ("exact match", f"{report.exact_rate * 100:.1f} %", f"{report.exact_matches}/{report.samples}"),
            ("within tolerance", f"{report.within_tolerance}/{report.samples}", ""),
            ("max abs diff", f"{report.max_abs_diff:g}", ""),
            ("weights", f"{report.weight_bytes} B stored", f"encoded: {report.decode}"),
            ("reference", report.reference, ""),
        ]
        for name, value, note in rows:
            print(f"{name:<18}{value:<32}{note}")
        tflm, persistent = report.arena_tflm, report.arena_tflm_persistent
        print(f"{'arena bytes':<18}{'ours':>10}{'TFLM':>12}   (activations + scratch; TFLM's persistent data apart)")
        print(f"{'':<18}{report.arena_ours:>10}{(tflm if tflm is not None else '-'):>12}"
              + (f"   + {persistent} persistent" if persistent is not None else ""))
        if report.state_ours:
            print(f"{'state bytes':<18}{report.state_ours:>10}   (variable tensors kept across inferences, beside "
                  "the arena; TFLM's are in its persistent data)")
        print("PASS" if report.passed else "FAIL")
    return 0 if report.passed else 1


def run_emit_c(args: argparse.Namespace) -> int:
    from codegen.backend.native import generate
    from codegen.frontend import load_model

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise OverwriteError(f"{out} exists and is not a folder", hint="choose another --out")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise OverwriteError(
            f"output folder {out} is not empty", hint="pass --force to overwrite, or pick a new --out"
        )
    from codegen.compress.codec import accounting

    graph = load_model(args.model)
    sources = generate(graph, prefix=args.prefix, options=_options(args, graph, args.prefix))
    written = sources.write(out)
    acct = accounting(sources)
    summary = {
        "out": str(out),
        "files": [p.name for p in written],
        "arena_bytes": sources.arena_bytes,
        "state_bytes": sources.state_bytes,
        "weight_bytes": sources.weight_bytes,
        "layers": sources.num_layers,
        "kernels": list(sources.kernels),
        "weights": acct.as_dict(),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"wrote {len(written)} files to {out}: arena {sources.arena_bytes} B, "
            + (f"state {sources.state_bytes} B, " if sources.state_bytes else "")
            + f"weights {sources.weight_bytes} B, "
            f"{sources.num_layers} layers, kernels {', '.join(sources.kernels)}"
        )
        if acct.decode != "none":
            print(acct.format())
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry for these two commands (the project CLI registers them through ``register``)."""
    parser = argparse.ArgumentParser(prog="codegen")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
