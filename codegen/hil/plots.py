"""PNG plots of a validation run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codegen.hil.validate import ValidationReport


def write_plots(report: ValidationReport, out_dir: Path) -> list[Path]:
    """latency.png (per inference, in order), latency_hist.png and, with a profile, layers.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lat = report.latency
    ticks = f"SysTick ticks (QEMU icount, {lat.per_instruction:g} per instruction)"
    unit = {"instructions": "instructions (QEMU icount)", "icount ticks": ticks}.get(lat.unit, lat.unit)
    values = [s.cycles for s in report.samples]
    files: list[Path] = []

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(range(len(values)), values, marker=".", linewidth=0.8)
    ax.axhline(lat.mean, color="tab:red", linestyle="--", linewidth=0.8, label=f"mean {lat.mean:,.0f}")
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.set_xlabel("inference #")
    ax.set_ylabel(unit)
    ax.set_title(f"Latency per inference - {report.board}")
    ax.legend(loc="best")
    fig.tight_layout()
    files.append(_save(fig, out_dir / "latency.png"))

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(values, bins=min(30, max(5, len(set(values)))))
    ax.set_xlabel(unit)
    ax.set_ylabel("inferences")
    ax.set_title(f"Latency histogram (p50 {lat.p50:,.0f}, p99 {lat.p99:,.0f})")
    fig.tight_layout()
    files.append(_save(fig, out_dir / "latency_hist.png"))

    if report.layers:
        fig, ax = plt.subplots(figsize=(8, max(3.0, 0.3 * len(report.layers) + 1)))
        labels = [f"{lp.index} {lp.name}" for lp in report.layers]
        ax.barh(range(len(labels)), [lp.cycles for lp in report.layers])
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(unit)
        ax.set_title("Per-layer cost")
        fig.tight_layout()
        files.append(_save(fig, out_dir / "layers.png"))
    plt.close("all")
    return files


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=100)
    return path
