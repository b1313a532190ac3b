"""A board farm: one validation run spread over several boards at once (``codegen validate --port A --port B``).

The samples are sharded round-robin (sample ``i`` runs on board ``i mod K``, so a rerun puts every sample on the
same board again) and every board runs its share in its own thread through the ordinary single-board
:func:`~codegen.hil.validate.validate`. Before any inference, every board's INFO is checked (model sha256 and tool
version); one board with other firmware stops the run before it starts, naming its port.

The host computations (TFLM reference, generated C on the host, float model) hold interpreter state, so the
threads share them behind one lock; the boards themselves run concurrently (the serial or socket reads release
the GIL). The result is a :class:`FarmReport`: one :class:`~codegen.hil.validate.ValidationReport` per board, and
their merge over all samples (global sample numbers), which is what ``--json`` and ``--out`` show at the top
level, with the per-board breakdown under ``farm``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from codegen.errors import CodegenError, DeviceError
from codegen.hil.validate import (
    Comparison,
    HostFn,
    InputSet,
    LinkStats,
    Target,
    ValidationConfig,
    ValidationReport,
    check_identity,
    latency_stats,
    validate,
)
from codegen.ir import Graph

log = logging.getLogger(__name__)

OpenTarget = Callable[[str], contextlib.AbstractContextManager[Target]]


@dataclass(frozen=True)
class BoardRun:
    """One board's share of a farm run."""

    port: str
    indices: tuple[int, ...]              # global sample numbers this board ran
    report: ValidationReport | None       # None when the board failed during the run
    error: str = ""
    wall_s: float = 0.0

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.passed

    def to_json(self) -> dict[str, object]:
        r = self.report
        return {
            "port": self.port,
            "passed": self.passed,
            "error": self.error,
            "wall_s": round(self.wall_s, 3),
            "sample_indices": list(self.indices),
            "board": r.board if r else "",
            "device": r.to_json()["device"] if r else None,
            "device_exact_rate": r.device_exact_rate if r else 0.0,
            "comparisons": [c.to_json() for c in r.comparisons] if r else [],
            "latency": r.latency.to_json() if r else None,
            "divergences": [d.to_json() for d in r.divergences] if r else [],
            "link": r.to_json()["link"] if r else None,
            "resets_resumed": r.resets_resumed if r else 0,
        }


@dataclass(frozen=True)
class FarmReport:
    boards: tuple[BoardRun, ...]
    total: ValidationReport               # all samples that ran, merged (global sample numbers)
    wall_s: float

    @property
    def failed_boards(self) -> tuple[BoardRun, ...]:
        return tuple(b for b in self.boards if b.report is None)

    @property
    def diverged_boards(self) -> tuple[BoardRun, ...]:
        """Boards that ran but whose outputs differ from the host on at least one sample."""
        return tuple(b for b in self.boards if b.report is not None and not b.report.passed)

    @property
    def passed(self) -> bool:
        return all(b.passed for b in self.boards) and self.total.passed

    def to_json(self) -> dict[str, object]:
        out = self.total.to_json()
        out["passed"] = self.passed
        out["farm"] = {
            "boards": [b.to_json() for b in self.boards],
            "sharding": "round-robin: sample i on board i mod K",
            "wall_s": round(self.wall_s, 3),
            "diverged": [b.port for b in self.diverged_boards],
            "failed": [b.port for b in self.failed_boards],
        }
        return out


# ----------------------------------------------------------------------------------------------------------------
# Running


def check_ports(ports: Sequence[str], samples: int) -> None:
    """Refuse a port named twice and more boards than samples."""
    seen: set[str] = set()
    for p in ports:
        if p in seen:
            raise CodegenError(f"--port {p} is given twice", hint="name every board once")
        seen.add(p)
    if samples < len(ports):
        raise CodegenError(f"{samples} samples cannot be shared by {len(ports)} boards",
                           hint=f"pass at least --samples {len(ports)} (or --limit with --dataset)")


def shard(inputs: InputSet, index: int, count: int) -> tuple[tuple[int, ...], InputSet]:
    """Board ``index`` of ``count``: the global sample numbers it runs and its inputs (round-robin)."""
    idx = tuple(range(index, len(inputs.data), count))
    labels = tuple(inputs.labels[i] for i in idx) if inputs.labels else None
    floats = inputs.floats[list(idx)] if inputs.floats is not None else None
    return idx, InputSet(inputs.source, tuple(inputs.data[i] for i in idx), labels, floats)


def _serialized(fn: Callable[..., Any] | None, lock: threading.Lock) -> Callable[..., Any] | None:
    if fn is None:
        return None

    def run(*args: Any) -> Any:
        with lock:
            return fn(*args)

    return run


@contextlib.contextmanager
def _open_all(ports: Sequence[str], open_target: OpenTarget, graph: Graph) -> Iterator[list[Target]]:
    """Connect to every board and check its INFO before any board starts; always closes them all."""
    with contextlib.ExitStack() as stack:
        targets = []
        wrong: list[str] = []
        for port in ports:
            try:
                target = stack.enter_context(open_target(port))
            except CodegenError as exc:
                raise DeviceError(f"board on {port}: {exc.message}", hint=exc.hint) from None
            try:
                check_identity(target.info(), graph)
            except CodegenError as exc:
                wrong.append(f"{port}: {exc.message}")
            targets.append(target)
        if wrong:
            raise DeviceError(f"{len(wrong)} of {len(ports)} boards run other firmware; " + "; ".join(wrong),
                              hint="flash every board with firmware generated from this model "
                              "(codegen generate + codegen flash), or leave the board out")
        yield targets


def validate_farm(
    ports: Sequence[str],
    graph: Graph,
    inputs: InputSet,
    *,
    open_target: OpenTarget,
    reference: HostFn | None = None,
    host_c: HostFn | None = None,
    float_model: Callable[[np.ndarray], np.ndarray] | None = None,
    host_layers: Callable[[bytes], tuple[bytes, ...]] | None = None,
    layer_names: Sequence[str] = (),
    config: ValidationConfig | None = None,
    board: str = "",
    clock_hz: int = 0,
) -> FarmReport:
    """Validate ``inputs`` on the boards at ``ports``, concurrently; see the module docstring."""
    check_ports(ports, len(inputs.data))
    config = config or ValidationConfig(samples=len(inputs.data))
    lock = threading.Lock()
    host = {"reference": _serialized(reference, lock), "host_c": _serialized(host_c, lock),
            "float_model": _serialized(float_model, lock), "host_layers": _serialized(host_layers, lock)}
    k = len(ports)
    runs: list[BoardRun | None] = [None] * k
    crashes: list[BaseException] = []

    def work(i: int, target: Target) -> None:
        idx, sub = shard(inputs, i, k)
        t0 = time.monotonic()
        try:
            report = validate(target, graph, sub, **host, layer_names=layer_names,
                              config=replace(config, samples=len(sub.data), progress=False), board=board,
                              clock_hz=clock_hz)
        except CodegenError as exc:
            log.warning("board on %s failed: %s", ports[i], exc)
            runs[i] = BoardRun(ports[i], idx, None, str(exc), time.monotonic() - t0)
        except BaseException as exc:  # noqa: BLE001 - a bug: re-raised in the calling thread
            crashes.append(exc)
        else:
            runs[i] = BoardRun(ports[i], idx, report, "", time.monotonic() - t0)

    for fn in (reference, host_c):  # start the host sources (child process, compiled library) before the clock
        if fn is not None:
            fn(inputs.data[0])
    t0 = time.monotonic()
    with _open_all(ports, open_target, graph) as targets:
        threads = [threading.Thread(target=work, args=(i, t), name=f"board-{i}", daemon=True)
                   for i, t in enumerate(targets)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if crashes:
        raise crashes[0]
    done = tuple(r for r in runs if r is not None)
    return FarmReport(done, merge_reports(done, graph, inputs, k), time.monotonic() - t0)


# ----------------------------------------------------------------------------------------------------------------
# Merging the boards' reports


def _merge_comparisons(parts: Sequence[Sequence[Comparison]]) -> tuple[Comparison, ...]:
    order: list[tuple[str, str]] = []
    acc: dict[tuple[str, str], list[Comparison]] = {}
    for comps in parts:
        for c in comps:
            if (c.a, c.b) not in acc:
                order.append((c.a, c.b))
                acc[(c.a, c.b)] = []
            acc[(c.a, c.b)].append(c)
    merged = []
    for key in order:
        cs = acc[key]
        mads = [c.max_abs_diff for c in cs]
        mad: int | float = math.nan if any(isinstance(m, float) and math.isnan(m) for m in mads) else max(mads)
        merged.append(Comparison(key[0], key[1], sum(c.samples for c in cs), sum(c.exact for c in cs), mad,
                                 sum(c.top1_agree for c in cs)))
    return tuple(merged)


def merge_reports(runs: Sequence[BoardRun], graph: Graph, inputs: InputSet, boards: int) -> ValidationReport:
    """One report over every sample the boards ran, numbered as in ``inputs``."""
    ok = [r for r in runs if r.report is not None]
    samples = sorted((replace(s, index=r.indices[s.index]) for r in ok for s in r.report.samples),  # type: ignore[union-attr]
                     key=lambda s: s.index)
    reports = [r.report for r in ok if r.report is not None]
    first = reports[0] if reports else None
    accuracy: list[tuple[str, float]] = []
    if inputs.labels and samples:
        names = {name for rep in reports for name, _ in rep.accuracy}
        labels = np.asarray([s.label for s in samples])
        for name, attr in (("float", "float_top1"), ("reference", "reference_top1"), ("host_c", "host_c_top1"),
                           ("device", "device_top1")):
            if name in names:
                top = np.asarray([getattr(s, attr) for s in samples])
                accuracy.append((name, float(np.mean(top == labels))))
    divergences = tuple(replace(d, sample=r.indices[d.sample]) for r in ok for d in r.report.divergences)  # type: ignore[union-attr]
    links = [rep.link for rep in reports]
    link = LinkStats(sum(x.crc_errors for x in links), sum(x.retries for x in links),
                     sum(x.timeouts for x in links), sum(x.resets for x in links))
    if first is None:
        from codegen.hil.validate import DeviceInfo

        device = DeviceInfo(graph.sha256, "")
        latency = latency_stats([], "", 0)
    else:
        device = first.device
        latency = latency_stats([s.cycles for s in samples], first.device.counter_kind, first.latency.counter_hz)
    return ValidationReport(
        model=graph.source or graph.name, model_sha256=graph.sha256, board=first.board if first else "",
        device=device, input_source=f"{inputs.source}, sharded over {boards} boards",
        samples=tuple(samples), comparisons=_merge_comparisons([rep.comparisons for rep in reports]),
        accuracy=tuple(accuracy), latency=latency, layers=first.layers if first else (), divergences=divergences,
        link=link, resets_resumed=sum(rep.resets_resumed for rep in reports),
    )


# ----------------------------------------------------------------------------------------------------------------
# Text and files


def format_farm(farm: FarmReport) -> str:
    """The merged report, then one line per board (exact rate, latency distribution, link) and the verdict."""
    from codegen.hil.validate import format_report

    text = format_report(farm.total).splitlines()
    if text and text[-1].startswith("wrote "):
        text.pop()
    if text and text[-1].startswith("result: "):
        text.pop()
    unit = farm.total.latency.unit
    short = {"instructions": "instr", "icount ticks": "ticks"}.get(unit, "cycles")
    lines = text + [
        "",
        f"per board ({len(farm.boards)} boards, samples round-robin, wall time {farm.wall_s:.1f} s), latency in "
        f"{unit}:",
        f"  {'port':<28}{'board':<20}{'exact':>16}{'max|diff|':>10}"
        + "".join(f"{k + ' ' + short:>14}" for k in ("mean", "p50", "p99", "min", "max"))
        + f"{'link err':>9}{'wall s':>8}  result",
    ]
    for b in farm.boards:
        r = b.report
        if r is None:
            lines.append(f"  {b.port:<28}{'':<20}{'-':>16}{'-':>10}" + f"{'-':>14}" * 5 + f"{'-':>9}"
                         + f"{b.wall_s:>8.1f}  ERROR: {b.error}")
            continue
        dev = [c for c in r.comparisons if c.b == "device"]
        strict = min(dev, key=lambda c: c.exact_rate) if dev else None
        exact = f"{strict.exact}/{strict.samples} {100 * strict.exact_rate:5.1f}%" if strict else "-"
        mad = str(strict.max_abs_diff) if strict else "-"
        lat = r.latency
        errs = r.link.crc_errors + r.link.timeouts + r.link.resets + r.resets_resumed
        verdict = "PASS" if r.passed else "DIVERGED"
        if r.divergences:
            verdict += " (first at sample " + ", ".join(
                f"{b.indices[d.sample] if d.sample < len(b.indices) else d.sample}"
                + (f": layer {d.layer} {d.layer_name}" if d.layer is not None else "") for d in r.divergences) + ")"
        lines.append(f"  {b.port:<28}{r.board[:19]:<20}{exact:>16}{mad:>10}"
                     + "".join(f"{getattr(lat, k):>14,.0f}" for k in ("mean", "p50", "p99", "min", "max"))
                     + f"{errs:>9}{b.wall_s:>8.1f}  {verdict}")
    if farm.passed:
        lines.append(f"result: PASS ({len(farm.boards)} boards, every output matches the host bit for bit)")
    else:
        bad = [f"{b.port} diverged" for b in farm.diverged_boards] + [f"{b.port} failed" for b in farm.failed_boards]
        lines.append("result: FAIL (" + "; ".join(bad or ["no sample ran"]) + ")")
    if farm.total.files:
        lines.append("wrote " + ", ".join(farm.total.files))
    return "\n".join(lines)


def write_farm(farm: FarmReport, out_dir: Path, plots: bool = True) -> FarmReport:
    """The merged report's files (:func:`~codegen.hil.validate.write_report`) plus ``farm.json`` (per board)."""
    from codegen.hil.validate import _jsonable, write_report

    total = write_report(farm.total, out_dir, plots=plots)
    path = out_dir / "farm.json"
    total = replace(total, files=(*total.files, str(path)))
    farm = replace(farm, total=total)
    path.write_text(json.dumps(_jsonable(farm.to_json()), indent=2, sort_keys=True) + "\n")
    return farm


def run_farm(args: Any, ports: Sequence[str], graph: Graph, inputs: InputSet, *, reference: HostFn | None,
             host_c: HostFn | None, float_model: Callable[[np.ndarray], np.ndarray] | None,
             host_layers: Callable[[bytes], tuple[bytes, ...]] | None, config: ValidationConfig,
             board: Any) -> int:
    """``codegen validate`` with several ``--port``: run the farm, print or write the report, exit status."""
    from functools import partial

    from codegen.hil import sources
    from codegen.hil.cli import EXIT_MISMATCH
    from codegen.hil.device import open_target
    from codegen.hil.validate import _jsonable

    opener = partial(open_target, timeout=args.timeout, boot_timeout=args.boot_timeout, retries=args.retries,
                     baud=board.serial_baud if board else 115200, allow_busy=args.allow_busy)
    farm = validate_farm(ports, graph, inputs, open_target=opener, reference=reference, host_c=host_c,
                         float_model=float_model, host_layers=host_layers, layer_names=sources.layer_names(graph),
                         config=config, board=board.name if board else "", clock_hz=board.clock_hz if board else 0)
    if args.out:
        farm = write_farm(farm, args.out, plots=not args.no_plots)
    if args.json:
        print(json.dumps(_jsonable(farm.to_json()), indent=2, sort_keys=True))
    else:
        print(format_farm(farm))
    if farm.failed_boards:
        raise DeviceError("; ".join(f"board on {b.port} failed: {b.error}" for b in farm.failed_boards),
                          hint="the other boards' results are above; check the failed board and its link")
    return 0 if farm.passed else EXIT_MISMATCH
