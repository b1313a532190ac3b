"""Reports: JSON + Markdown for training runs and benchmarks, PNG plots (matplotlib, Agg backend)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
        "",
    ]
    rows = [
        [
            v.name,
            v.path.name,
            v.size_bytes,
            f"{v.accuracy:.4f}",
            f"{v.sparsity:.3f}",
            f"{v.input_dtype}->{v.output_dtype}",
            ", ".join(f"{k} x{n}" for k, n in v.op_counts.items()),
        ]
        for v in result.variants
    ]
    lines.append(
        markdown_table(["variant", "file", "bytes", "accuracy", "zero weights", "io", "operators"], rows)
    )
    return "\n".join(lines)


def write_train_report(result: TrainResult, json_path: Path, md_path: Path) -> None:
    """Write the report files; they hold no timings, so a seeded rerun reproduces them byte for byte."""
    data = result.to_json()
    data.pop("seconds", None)
    _write_json(json_path, data)
    md_path.write_text(train_markdown(result))
    log.info("wrote %s and %s", json_path, md_path)


# -- benchmark reports ---------------------------------------------------------------------------------------


def bench_markdown(results: Sequence[BenchResult], dataset: str) -> str:
    headers = ["model", "bytes", "accuracy", "mean ms", "min ms", "max ms", "p99 ms", "total s", "samples"]
    rows = [
        [
            r.name,
            r.size_bytes,
            f"{r.accuracy:.4f}",
            f"{r.mean_ms:.3f}",
            f"{r.min_ms:.3f}",
            f"{r.max_ms:.3f}",
            f"{r.p99_ms:.3f}",
            f"{r.total_s:.2f}",
            r.samples,
        ]
        for r in results
    ]
    return f"# Benchmark on {dataset} (host TFLite interpreter, 1 thread)\n\n" + markdown_table(headers, rows)


def write_bench_report(results: Sequence[BenchResult], dataset: str, out_dir: Path) -> dict[str, Path]:
    """Write bench.json, bench.md and the three plots into ``out_dir``; returns the paths by kind."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / "bench.json", "markdown": out_dir / "bench.md"}
    _write_json(paths["json"], {"dataset": dataset, "models": [r.to_json() for r in results]})
    paths["markdown"].write_text(bench_markdown(results, dataset))
    paths.update(plot_bench(results, out_dir))
    return paths


def plot_bench(results: Sequence[BenchResult], out_dir: Path) -> dict[str, Path]:
    """latency_sequence.png, latency_histogram.png, tradeoff.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    paths = {
        "latency_sequence": out_dir / "latency_sequence.png",
        "latency_histogram": out_dir / "latency_histogram.png",
        "tradeoff": out_dir / "tradeoff.png",
    }

    fig, ax = plt.subplots(figsize=(8, 4))
    for r in results:
        ax.plot(np.arange(len(r.latencies_ms)), r.latencies_ms, linewidth=0.8, label=r.name)
    ax.set_xlabel("image (in order)")
    ax.set_ylabel("latency [ms]")
    ax.set_title("Per-image latency on the host interpreter")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(paths["latency_sequence"], dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    all_lat = np.concatenate([r.latencies_ms for r in results]) if results else np.zeros(1)
    bins = np.linspace(float(all_lat.min()), float(np.percentile(all_lat, 99.5)) + 1e-6, 50)
    for r in results:
        ax.hist(np.clip(r.latencies_ms, None, bins[-1]), bins=bins, alpha=0.5, label=r.name)
    ax.set_xlabel("latency [ms]")
    ax.set_ylabel("images")
    ax.set_title("Latency histogram")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(paths["latency_histogram"], dpi=100)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for i, r in enumerate(results):
        offset = (4, 4 + 9 * (i % 3) - 9)  # stagger labels of points that sit on top of each other
        for ax, x in ((axes[0], r.size_bytes / 1024), (axes[1], r.mean_ms)):
            ax.scatter(x, r.accuracy * 100, label=r.name if ax is axes[0] else None)
            ax.annotate(r.name, (x, r.accuracy * 100), xytext=offset, textcoords="offset points", fontsize=7)
    axes[0].set_xlabel("file size [KiB]")
    axes[1].set_xlabel("mean latency [ms]")
    for ax in axes:
        ax.set_ylabel("accuracy [%]")
        ax.grid(alpha=0.3)
    fig.suptitle("Accuracy / size / latency trade-off")
    fig.tight_layout()
    fig.savefig(paths["tradeoff"], dpi=100)
    plt.close(fig)
    return paths
