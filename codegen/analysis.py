"""Per-layer cost of a model: MACs, weight bytes, activation bytes, and a fit verdict against a board."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

from codegen.boards import Board
from codegen.ir import Graph, Tensor

log = logging.getLogger(__name__)

# Flash taken by the runtime, the firmware application and the C library, before any weights. Measured from the
# emulated-board firmware with arm-none-eabi-size; real builds report the measured figure.
CODE_BYTES_ESTIMATE = 48 * 1024
# RAM besides the arena: stack, serial buffers, C library data.
RAM_OVERHEAD_ESTIMATE = 12 * 1024


@dataclass(frozen=True)
class TensorSummary:
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True)
class LayerCost:
    index: int
    op: str
    inputs: tuple[TensorSummary, ...]
    outputs: tuple[TensorSummary, ...]
    macs: int
    weight_bytes: int
    output_bytes: int


@dataclass(frozen=True)
class FitVerdict:
    board: str
    flash_needed: int
    flash_available: int
    ram_needed: int
    ram_available: int
    psram_needed: int = 0       # external RAM (boards with PSRAM: an arena too large for internal RAM)
    psram_available: int = 0

    @property
    def fits(self) -> bool:
        return (self.flash_needed <= self.flash_available and self.ram_needed <= self.ram_available
                and self.psram_needed <= self.psram_available)


@dataclass(frozen=True)
class ModelCost:
    model: str
    sha256: str
    layers: tuple[LayerCost, ...]
    parameters: int
    macs: int
    weight_bytes: int
    op_set: tuple[str, ...]
    peak_activation_bytes: int
    peak_method: str
    fit: FitVerdict | None = None

    def to_json(self) -> dict:
        d = asdict(self)
        if self.fit is not None:
            d["fit"]["fits"] = self.fit.fits
        return d


def _summary(t: Tensor) -> TensorSummary:
    return TensorSummary(shape=t.shape, dtype=t.dtype.value)


def is_parameter(t: Tensor) -> bool:
    """Weights and biases: constant float or quantized tensors (not shape/axis operands)."""
    return t.is_constant and (t.quant is not None or t.dtype.value.startswith("float"))


def liveness_peak(graph: Graph) -> int:
    """Largest sum of live activation bytes at any operator, with no reuse inside a step and no alignment."""
    last_use: dict[int, int] = {}
    for op in graph.operators:
        for t in op.inputs:
            if t >= 0:
                last_use[t] = op.index
    for t in graph.outputs:
        last_use[t] = len(graph.operators)
    first_def = {t: -1 for t in graph.inputs}
    for op in graph.operators:
        for t in op.outputs:
            first_def.setdefault(t, op.index)
    peak = 0
    for step in range(len(graph.operators)):
        live = sum(
            graph.tensors[t].nbytes for t, d in first_def.items()
            if not graph.tensors[t].is_constant and d <= step <= last_use.get(t, d)
        )
        peak = max(peak, live)
    return peak


def planned_peak(graph: Graph) -> tuple[int, str]:
    """The arena the native backend's memory planner needs, or the liveness estimate if it cannot plan."""
    try:
        from codegen.backend.native.planner import plan
    except ImportError:
        return liveness_peak(graph), "liveness estimate"
    try:
        return int(plan(graph).arena_bytes), "native memory plan"
    except Exception as exc:  # noqa: BLE001 - the model may use ops the native planner does not know
        log.debug("native planner could not plan %s: %s", graph.name, exc)
        return liveness_peak(graph), "liveness estimate"


def analyze(graph: Graph, board: Board | None = None) -> ModelCost:
    layers = []
    for op in graph.operators:
        ins = [t for t in graph.op_inputs(op) if t is not None]
        outs = graph.op_outputs(op)
        layers.append(LayerCost(
            index=op.index,
            op=op.op,
            inputs=tuple(_summary(t) for t in ins),
            outputs=tuple(_summary(t) for t in outs),
            macs=op.macs(graph),
            weight_bytes=sum(t.nbytes for t in ins if is_parameter(t)),
            output_bytes=sum(t.nbytes for t in outs),
        ))
    params = [t for t in graph.constant_tensors if is_parameter(t)]
    weight_bytes = sum(t.nbytes for t in params)
    peak, method = planned_peak(graph)
    fit = None
    if board is not None:
        flash_available, code = board.flash_bytes, CODE_BYTES_ESTIMATE
        if board.template == "esp32":  # the app partition of codegen's partition table, and ESP-IDF's own code
            from codegen.project.esp32 import IDF_CODE_BYTES_ESTIMATE, app_flash_bytes

            flash_available, code = app_flash_bytes(board), IDF_CODE_BYTES_ESTIMATE
        # boards with PSRAM: an arena too large for internal RAM goes there (as the project writer places it)
        psram = board.psram_bytes > 0 and peak + RAM_OVERHEAD_ESTIMATE > board.ram_bytes
        fit = FitVerdict(
            board=board.name,
            flash_needed=weight_bytes + code,
            flash_available=flash_available,
            ram_needed=(0 if psram else peak) + RAM_OVERHEAD_ESTIMATE,
            ram_available=board.ram_bytes,
            psram_needed=peak if psram else 0,
            psram_available=board.psram_bytes,
        )
    return ModelCost(
        model=graph.source or graph.name,
        sha256=graph.sha256,
        layers=tuple(layers),
        parameters=sum(t.size for t in params),
        macs=sum(layer.macs for layer in layers),
        weight_bytes=weight_bytes,
        op_set=tuple(graph.op_set),
        peak_activation_bytes=peak,
        peak_method=method,
        fit=fit,
    )
