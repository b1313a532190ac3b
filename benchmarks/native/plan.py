"""Planned arena of the MLPerf Tiny int8 models: what each step of the memory planner gains, against TFLM.

Per model and kernel set (portable C, Cortex-M DSP variants): the arena of the previous planner (first fit,
largest buffer first, no overlap of live buffers), with the placement-order search, and with in-place layers
(the planner's result); TFLM's arena as its recording allocator reports it, split into the head (activations
and kernel scratch: what our arena holds) and the tail (persistent data, which in our code lives in flash or in
static parameter structs). Pure Python, a few seconds.

    PYTHONPATH=. python benchmarks/native/plan.py [--out benchmarks/native/plan.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from codegen import __version__  # noqa: E402
from codegen.backend.native.planner import ORDERS, _arena, _place, plan_layers  # noqa: E402
from codegen.backend.native.program import lower_graph, native_graph  # noqa: E402
from codegen.frontend import load_model  # noqa: E402
from codegen.reference import tflm_arena_split  # noqa: E402

HEADER = (
    "| model | kernels | first fit | + order search | + in place | TFLM head | ours / TFLM head | TFLM tail "
    "| in-place layers | order |\n|---|---|---:|---:|---:|---:|---:|---:|---|---|"
)
MODELS = ["resnet8_cifar10_int8", "vww_mobilenetv1_025_96_int8", "kws_dscnn_int8", "ad01_fc_autoencoder_int8"]


def first_fit(graph, layers) -> int:  # noqa: ANN001
    """The previous planner: first fit, largest first, no overlaps."""
    p = plan_layers(graph, layers, in_place=False)
    return _arena(_place([b for b in p.buffers], (), ORDERS["size"]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=str(ROOT.parent / "shared" / "models"))
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "native" / "plan.md")
    args = ap.parse_args()
    rows = []
    for name in MODELS:
        path = Path(args.models) / f"{name}.tflite"
        graph = native_graph(load_model(path))
        head, tail = tflm_arena_split(path)
        for kernels in ("portable", "dsp"):
            layers = lower_graph(graph, kernels == "dsp").layers
            no_overlap = plan_layers(graph, layers, in_place=False)
            final = plan_layers(graph, layers)
            writer = {f"t{layer.output}": layer.op for layer in layers}
            ops = sorted({writer[o.output] for o in final.in_place})
            rows.append(
                f"| {name} | {kernels} | {first_fit(graph, layers):,} | {no_overlap.arena_bytes:,} | "
                f"**{final.arena_bytes:,}** | {head:,} | {final.arena_bytes / head:.2f} | {tail:,} | "
                f"{len(final.in_place)} ({', '.join(ops)}) | {final.order} |"
            )
            print(rows[-1], flush=True)
    text = f"""# Memory plan: arena of the MLPerf Tiny int8 models, ours vs TFLM

codegen {__version__}. Bytes. "first fit" is the previous planner (largest buffer first, lowest offset, live
buffers never overlap); "+ order search" tries several placement orders and a seeded local search; "+ in place"
also lets a layer's output overlap an input that dies at that layer as far as the kernel's access pattern
allows (docs/memory-plan.md): the planner's result, what `codegen analyze`/`generate` report as the arena.
TFLM figures are from the tflite-micro package's recording allocator on the same model: the head holds
activations and kernel scratch (like for like with our arena), the tail persistent data (tensor structs,
quantization, per-op data; our code keeps the equivalent in flash or static parameter structs). Kernel set:
"portable" is what host builds and cores without DSP get, "dsp" what Cortex-M4/M7/M33 boards get (their
kernels' scratch sizes differ).

{HEADER}
{chr(10).join(rows)}

Reproduce: `PYTHONPATH=. $PY benchmarks/native/plan.py` (pure Python, a few seconds; exactness of the
in-place plans is checked by tests/native on the host and by the emulated-board tests).
"""
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
