"""Reports: JSON + Markdown for training runs and benchmarks, PNG plots (matplotlib, Agg backend)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codegen.train.bench import DEPLOY_BOARD

if TYPE_CHECKING:
    from codegen.train.bench import BenchResult
    from codegen.train.pipeline import TrainResult

log = logging.getLogger(__name__)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned)."""

    def cell(v: object) -> str:
        return str(v).replace("|", "\\|")

    def is_number(v: object) -> bool:
        if isinstance(v, (int, float)):
            return True
        try:
            float(str(v))
        except ValueError:
            return False
        return True

    numeric = [bool(rows) and all(is_number(r[i]) for r in rows) for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def train_markdown(result: TrainResult) -> str:
    info = result.info
    cfg = result.config
    ds = result.dataset
    lines = [
        f"# {cfg.prefix}: {info.name} on {ds['name']}",
        "",
        f"- parameters: {info.params:,}; MACs per inference: {info.macs:,}",
        f"- input {tuple(info.input_shape)}, {info.num_classes} classes; dataset {ds['train']} train / "
        f"{ds['test']} test images ({ds['source']})",
        f"- epochs {cfg.epochs} (fine-tuning {cfg.resolved_finetune_epochs()}), batch {cfg.batch_size}, "
        f"learning rate {cfg.learning_rate}, seed {cfg.seed}",
        f"- pruning: {cfg.prune.to_json() if cfg.prune else 'none'}; QAT: {'yes' if cfg.qat else 'no'}",
        f"- Keras float accuracy: {result.keras_accuracy:.4f}",
        f"- preprocessing (recorded in each variant's .preprocess.json): {_describe_preprocess(ds['preprocess'])}",
        "",
        "Images per class and split:",
        "",
        _counts_table(ds.get("counts")),
        "Accuracy of each variant is computed by the interpreter named in the table: the TFLM reference is what "
        "the board computes, bit for bit.",
        "",
    ]
    rows = [
        [
            v.name,
            v.path.name,
            v.size_bytes,
            f"{v.accuracy:.4f}",
            v.interpreter,
            f"{v.sparsity:.3f}",
            _fmt_bytes(v.deployed_flash),
            _fmt_bytes(v.deployed_ram),
            f"{v.input_dtype}->{v.output_dtype}",
            ", ".join(f"{k} x{n}" for k, n in v.op_counts.items()),
        ]
        for v in result.variants
    ]
    lines.append(
        markdown_table(
            ["variant", "file", "bytes", "accuracy", "accuracy by", "zero weights", "flash on board",
             "RAM on board", "io", "operators"], rows
        )
    )
    lines.append("")
    lines.append(
        f"Flash and RAM on board: the variant generated for {DEPLOY_BOARD} with `--huffman` (`codegen analyze "
        f"--sparse --huffman --board {DEPLOY_BOARD}`): the weights as its Cortex-M4 kernels store them (2:4 and "
        "column-sparse streams hold only the kept weights; Huffman blobs where the codec codes them, plus the "
        "decoder's code), and the arena plus any weights decoded at init; code, stack and firmware state not "
        "included."
    )
    return "\n".join(lines)


def _describe_preprocess(pre: Any) -> str:
    if not isinstance(pre, dict):
        return "default"
    size = pre.get("size")
    parts = [
        f"resize to {size[0]}x{size[1]}" if size else "native size",
        f"crop {pre.get('crop')}",
        f"{pre.get('channels') or 'native'} channel(s){' BGR' if pre.get('bgr') else ''}",
        f"(pixel - {pre.get('mean')}) * {pre.get('scale')}",
    ]
    return ", ".join(parts)


def _counts_table(counts: Any) -> str:
    if not isinstance(counts, dict) or not counts:
        return ""
    classes = list(next(iter(counts.values())))
    rows = [[c, *(counts[split].get(c, 0) for split in counts)] for c in classes]
    rows.append(["total", *(sum(counts[split].values()) for split in counts)])
    return markdown_table(["class", *counts], rows)


def write_train_report(result: TrainResult, json_path: Path, md_path: Path) -> None:
    """Write the report files; they hold no timings, so a seeded rerun reproduces them byte for byte."""
    data = result.to_json()
    data.pop("seconds", None)
    _write_json(json_path, data)
    md_path.write_text(train_markdown(result))
    log.info("wrote %s and %s", json_path, md_path)


# -- benchmark reports ---------------------------------------------------------------------------------------


def _fmt_bytes(n: int | None) -> str:
    return "n/a" if n is None else f"{n:,}"


def bench_markdown(results: Sequence[BenchResult], dataset: str, cooldown: float | None = None) -> str:
    headers = [
        "model",
        "file bytes",
        "deployed bytes",
        "accuracy",
        "accuracy by",
        "mean ms",
        "min ms",
        "max ms",
        "p99 ms",
        "total s",
        "samples",
    ]
    rows = [
        [
            r.name,
            f"{r.size_bytes:,}",
            _fmt_bytes(r.deployed_bytes),
            f"{r.accuracy:.4f}",
            r.interpreter,
            f"{r.mean_ms:.3f}",
            f"{r.min_ms:.3f}",
            f"{r.max_ms:.3f}",
            f"{r.p99_ms:.3f}",
            f"{r.total_s:.3f}",
            r.samples,
        ]
        for r in results
    ]
    latency_by = results[0].latency_interpreter if results else ""
    notes = [
        f"Accuracy: computed with the interpreter named per row (the TFLM reference is what the board computes, bit "
        f"for bit). Latency: host, {latency_by}. Deployed bytes: constant tensors as the board stores them "
        f"(Huffman-packed where that is smaller; n/a when codegen cannot read the model).",
    ]
    if cooldown is not None:
        notes.append(f"Cooldown between models: {cooldown:g} s.")
    return f"# Benchmark on {dataset}\n\n" + "\n".join(notes) + "\n\n" + markdown_table(headers, rows)


def write_bench_report(
    results: Sequence[BenchResult], dataset: str, out_dir: Path, cooldown: float = 0.0
) -> dict[str, Path]:
    """Write bench.json, bench.md and the three plots into ``out_dir``; returns the paths by kind."""
    from codegen.train.bench import environment

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "bench.json", "markdown": out_dir / "bench.md"}
    _write_json(
        paths["json"],
        {
            "dataset": dataset,
            "cooldown_s": cooldown,
            "environment": environment(cooldown),
            "models": [r.to_json() for r in results],
        },
    )
    paths["markdown"].write_text(bench_markdown(results, dataset, cooldown))
    paths.update(plot_bench(results, out_dir))
    return paths


MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
LINESTYLES = ("-", "--", "-.", ":")


def size_unit(max_bytes: float) -> tuple[float, str]:
    """(divisor, label) so that sizes read as small numbers: bytes, KiB or MiB."""
    if max_bytes >= 1024 * 1024:
        return 1024.0 * 1024.0, "MiB"
    if max_bytes >= 1024:
        return 1024.0, "KiB"
    return 1.0, "bytes"


def _styles(n: int) -> list[dict[str, object]]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10" if n <= 10 else "tab20"]
    return [
        {"color": cmap(i % cmap.N), "marker": MARKERS[i % len(MARKERS)], "linestyle": LINESTYLES[i % len(LINESTYLES)]}
        for i in range(n)
    ]


def plot_bench(results: Sequence[BenchResult], out_dir: Path) -> dict[str, Path]:
    """latency_sequence.png, latency_histogram.png, tradeoff.png: one colour and marker per model, the legend
    outside the axes, integer image ticks, sizes in bytes/KiB/MiB by magnitude."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    paths = {
        "latency_sequence": out_dir / "latency_sequence.png",
        "latency_histogram": out_dir / "latency_histogram.png",
        "tradeoff": out_dir / "tradeoff.png",
    }
    styles = _styles(len(results))
    latency_by = results[0].latency_interpreter if results else ""

    fig, ax = plt.subplots(figsize=(10, 4.5))
    for r, st in zip(results, styles, strict=True):
        n = len(r.latencies_ms)
        ax.plot(
            np.arange(n),
            r.latencies_ms,
            color=st["color"],
            linestyle=st["linestyle"],
            marker=st["marker"],
            markevery=max(1, n // 12),
            markersize=5,
            linewidth=1.0,
            label=r.name,
        )
    ax.set_xlabel("image (in order)")
    ax.set_ylabel("latency [ms]")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Per-image latency on the host ({latency_by})", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    fig.savefig(paths["latency_sequence"], dpi=100, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(10, 4.5))
    all_lat = np.concatenate([r.latencies_ms for r in results]) if results else np.zeros(1)
    # logarithmic bins: a loaded host has rare spikes 100x the typical latency, linear bins would hide the bulk
    lo = max(float(all_lat.min()), 1e-4)
    hi = max(float(all_lat.max()), lo * 1.01)
    bins = np.geomspace(lo * 0.98, hi * 1.02, 50)
    for r, st in zip(results, styles, strict=True):
        counts, edges = np.histogram(np.clip(r.latencies_ms, bins[0], bins[-1]), bins=bins)
        centres = np.sqrt(edges[:-1] * edges[1:])
        ax.plot(centres, counts, color=st["color"], linestyle=st["linestyle"], linewidth=1.2, drawstyle="steps-mid",
                label=f"{r.name} (median {np.median(r.latencies_ms):.3g} ms)")
        ax.plot([np.median(r.latencies_ms)], [counts.max()], color=st["color"], marker=st["marker"], markersize=7,
                linestyle="none")
    ax.set_xscale("log")
    ax.set_xlabel("latency [ms], logarithmic")
    ax.set_ylabel("images")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Latency distribution on the host ({latency_by}); marker = median", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    fig.savefig(paths["latency_histogram"], dpi=100, bbox_inches="tight")
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.5), sharey=True)
    file_div, file_unit = size_unit(max((r.size_bytes for r in results), default=0))
    deployed = [r.deployed_bytes for r in results if r.deployed_bytes is not None]
    dep_div, dep_unit = size_unit(max(deployed, default=0))
    for r, st in zip(results, styles, strict=True):
        kw = {"color": st["color"], "marker": st["marker"], "s": 60, "edgecolors": "black", "linewidths": 0.5}
        y = r.accuracy * 100
        axes[0].scatter(r.size_bytes / file_div, y, label=r.name, **kw)
        if r.deployed_bytes is not None:
            axes[1].scatter(r.deployed_bytes / dep_div, y, **kw)
        axes[2].scatter(r.mean_ms, y, **kw)
    axes[0].set_xlabel(f".tflite file size [{file_unit}]")
    axes[1].set_xlabel(f"deployed weights (emulated_stm32f405, --huffman) [{dep_unit}]")
    axes[2].set_xlabel(f"mean host latency [ms]\n({latency_by})")
    interp = sorted({r.interpreter for r in results})
    axes[0].set_ylabel(f"accuracy [%] ({', '.join(interp)})")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.margins(x=0.15, y=0.15)
    if not deployed:
        axes[1].text(0.5, 0.5, "no model readable by codegen", ha="center", va="center", transform=axes[1].transAxes)
    fig.suptitle("Accuracy / size / latency trade-off")
    fig.legend(loc="upper left", bbox_to_anchor=(1.0, 0.92), fontsize=8, title="model")
    fig.tight_layout()
    fig.savefig(paths["tradeoff"], dpi=100, bbox_inches="tight")
    plt.close(fig)
    return paths
