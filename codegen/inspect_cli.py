"""Commands that inspect models and boards: ``analyze``, ``ops``, ``boards``."""

from __future__ import annotations

import argparse
import json

from codegen.analysis import ModelCost, analyze
from codegen.boards import list_boards, load_board
from codegen.compress.codec import add_flags, compress_flag
from codegen.compress.deployed import deployed
from codegen.frontend import load_model
from codegen.ir import OP_REGISTRY


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="per-layer MACs, weights and activations of a model; fit on a board")
    p.add_argument("--model", required=True, help="a .tflite file")
    p.add_argument("--board", help="board name or alias: adds a fit verdict against its flash and RAM")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--sparse", action="store_true",
                   help="add flash and RAM as the board holds them once generated (weights as the board's kernels "
                   "store them, zero share); with --huffman: with Huffman-coded weights")
    add_flags(p)
    p.set_defaults(func=run_analyze)

    p = sub.add_parser("ops", help="list the operators the IR understands and which backends implement them")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_ops)

    p = sub.add_parser("boards", help="list the boards codegen targets, with their limits")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_boards)


def _kib(n: int) -> str:
    return f"{n / 1024:.1f} KiB"


def _shapes(ts: tuple) -> str:
    return " ".join(f"{'x'.join(map(str, t.shape)) or 'scalar'}:{t.dtype}" for t in ts)


def format_cost(cost: ModelCost) -> str:
    rows = [("#", "op", "inputs", "outputs", "MACs", "weights B", "out B")]
    for layer in cost.layers:
        rows.append((str(layer.index), layer.op, _shapes(layer.inputs), _shapes(layer.outputs),
                     f"{layer.macs:,}", f"{layer.weight_bytes:,}", f"{layer.output_bytes:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i < 4 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines += [
        "",
        f"model:        {cost.model} (sha256 {cost.sha256[:16]})",
        f"parameters:   {cost.parameters:,}",
        f"MACs:         {cost.macs:,} ({cost.macs / 1e6:.2f} M)",
        f"weights:      {cost.weight_bytes:,} bytes ({_kib(cost.weight_bytes)})",
        f"ops:          {', '.join(cost.op_set)}",
        f"arena:        {cost.peak_activation_bytes:,} bytes of activations and scratch ({cost.peak_method})",
    ]
    if cost.state_bytes:
        lines.append(f"state:        {cost.state_bytes:,} bytes of variable tensors kept across inferences "
                     "(a static buffer beside the arena)")
    if cost.fit is not None:
        f = cost.fit
        lines.append(
            f"fit on {f.board}: {'FITS' if f.fits else 'DOES NOT FIT'}: flash {f.flash_needed:,} / "
            f"{f.flash_available:,} bytes, RAM {f.ram_needed:,} / {f.ram_available:,} bytes "
            "(code and firmware state are estimates)"
        )
        if f.ram_detail:
            lines.append(f"RAM:          {f.ram_detail}")
    return "\n".join(lines)


def run_analyze(args: argparse.Namespace) -> int:
    board = load_board(args.board) if args.board else None
    compress = compress_flag(args)
    graph = load_model(args.model)
    cost = analyze(graph, board)
    view = deployed(graph, board, compress, args.decode) if args.sparse or compress != "none" else None
    if args.json:
        print(json.dumps({**cost.to_json(), **({"deployed": view.to_json()} if view else {})}, indent=2))
    else:
        print(format_cost(cost) + ("\n" + view.format() if view else ""))
    return 0


def _backend_support() -> dict[str, dict[str, tuple[str, ...]]]:
    """Backend -> operator -> the dtypes its registered lowering implements."""
    try:
        from codegen.backend.native.kernels import load_lowerings
    except ImportError:
        return {}
    return {"native": {name: s.dtypes for name, s in load_lowerings().items()}}


def run_ops(args: argparse.Namespace) -> int:
    from codegen.passes.fold import FOLDERS

    backends = _backend_support()
    ops = [{"op": name, "family": cls.family, "backends": sorted(b for b, s in backends.items() if name in s),
            "dtypes": {b: list(s[name]) for b, s in sorted(backends.items()) if name in s},
            "folded_when_constant": name in FOLDERS}
           for name, cls in sorted(OP_REGISTRY.items())]
    if args.json:
        print(json.dumps(ops, indent=2))
        return 0
    names = sorted(backends)
    w = max(24, *(len(o["op"]) + 1 for o in ops))  # UNIDIRECTIONAL_SEQUENCE_LSTM is 28 characters
    # the dtype lists come last: ARG_MAX's (four input->index pairs) are long
    print(f"{'op':<{w}} {'family':<12} {'folded':<7} " + " ".join(f"{b:<32}" for b in names).rstrip())
    for o in ops:
        cells = " ".join(f"{', '.join(o['dtypes'].get(b, [])) or '-':<32}" for b in names).rstrip()
        print(f"{o['op']:<{w}} {o['family']:<12} {'yes' if o['folded_when_constant'] else '-':<7} {cells}")
    return 0


def run_boards(args: argparse.Namespace) -> int:
    boards = list_boards()
    if args.json:
        print(json.dumps([{
            "name": b.name, "aliases": list(b.aliases), "title": b.title, "family": b.family, "core": b.core,
            "clock_hz": b.clock_hz, "flash_bytes": b.flash_bytes, "ram_bytes": b.ram_bytes,
            "psram_bytes": b.psram_bytes, "platformio": [b.pio_platform, b.pio_board, b.pio_framework],
            "emulated": b.is_emulated,
        } for b in boards], indent=2))
        return 0
    nw = max([len("board"), *(len(b.name) for b in boards)])
    aw = max([len("aliases"), *(len(",".join(b.aliases) or "-") for b in boards)])
    print(f"{'board':<{nw}} {'aliases':<{aw}} {'core':<11} {'MHz':>4} {'flash':>9} {'RAM':>9} {'PSRAM':>7}  title")
    for b in boards:
        print(f"{b.name:<{nw}} {','.join(b.aliases) or '-':<{aw}} {b.core:<11} {b.clock_hz // 1_000_000:>4} "
              f"{b.flash_bytes // 1024:>6} KiB {b.ram_bytes // 1024:>5} KiB "
              f"{(str(b.psram_bytes // 1024 // 1024) + ' MiB') if b.psram_bytes else '-':>7}  {b.title}")
    return 0
