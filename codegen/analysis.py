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
# RAM besides the arena: stack, serial buffers, C library data (a flat allowance; :func:`ram_use` itemizes it).
RAM_OVERHEAD_ESTIMATE = 12 * 1024
# Firmware state besides the network: the protocol state with its 256-byte small-payload buffer (cg_app.c), one
# 32-bit cycle counter per layer, serial driver and C library data. Measured on the emulated STM32F405 with a
# 39-layer network: 484 bytes of static data besides the arena and the stack (arm-none-eabi-size); real-board
# HAL/IDF data is part of the board's RAM budget (docs/real-boards.md).
FIRMWARE_STATE_BYTES = 1024
FIRMWARE_STATE_PER_LAYER = 4
# ESP32: our firmware plus the ESP-IDF drivers' static data beyond the allowance already taken off ``ram_bytes``;
# the flat figure the fit check used before it was itemized (arenas above it overflowed dram0_0_seg at link time).
ESP32_FIRMWARE_STATE_BYTES = RAM_OVERHEAD_ESTIMATE
# Stack the firmware reserves when the board's port does not say (STM32Cube projects: the framework's link
# script; our kernels use well under 1 KB of stack).
DEFAULT_STACK_RESERVE = 8 * 1024


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
class RamUse:
    """Internal RAM a generated firmware needs, item by item (bytes)."""

    arena: int  # activations and kernel scratch (0 when the arena lives in PSRAM)
    decoded: int  # weights decoded once at init (Huffman "init" mode)
    firmware: int  # firmware state besides the network (estimate)
    stack: int  # stack the firmware reserves in static RAM (link script)
    heap_stack: int = 0  # a task stack allocated from the heap at boot (ESP-IDF main task): not static data
    state: int = 0  # variable (state) tensors kept across inferences (SVDF, LSTM), outside the arena

    @property
    def total(self) -> int:
        return self.arena + self.decoded + self.state + self.firmware + self.stack

    def describe(self) -> str:
        parts = [f"arena {self.arena:,}"]
        if self.decoded:
            parts.append(f"decoded weights {self.decoded:,}")
        if self.state:
            parts.append(f"state tensors {self.state:,}")
        parts += [f"firmware state ~{self.firmware:,}", f"stack reserve {self.stack:,}"]
        note = f" (main task stack {self.heap_stack:,} from the heap, outside this budget)" if self.heap_stack else ""
        return " + ".join(parts) + note


def stack_reserve(board: Board) -> int:
    """Stack the board's firmware reserves: ``_min_stack`` of the port's link script (emulated boards), the
    ESP-IDF main task stack of the project template (ESP32: allocated from the heap, not from the static-data
    budget ``ram_bytes``), else :data:`DEFAULT_STACK_RESERVE`."""
    import re

    from codegen.resources import resource_path

    try:
        if board.template == "esp32":
            text = (resource_path("templates") / "project" / "esp32" / "sdkconfig.defaults.j2").read_text()
            m = re.search(r"^CONFIG_ESP_MAIN_TASK_STACK_SIZE=(\d+)", text, re.M)
            return int(m.group(1)) if m else DEFAULT_STACK_RESERVE
        for ld in sorted((resource_path("firmware") / "port" / board.port_dir).glob("*.ld")):
            m = re.search(r"_min_stack\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*;", ld.read_text())
            if m:
                return int(m.group(1), 0)
    except OSError as exc:
        log.debug("no stack reserve for %s: %s", board.name, exc)
    return DEFAULT_STACK_RESERVE


def ram_use(board: Board, arena: int, decoded: int = 0, layers: int = 0, arena_in_psram: bool = False,
            state: int = 0) -> RamUse:
    """Internal RAM of a firmware for ``board`` with a planned ``arena``, ``decoded`` weight bytes, ``layers`` and
    ``state`` bytes of variable tensors."""
    stack = stack_reserve(board)
    heap = board.template == "esp32"
    return RamUse(
        arena=0 if arena_in_psram else int(arena),
        decoded=int(decoded),
        firmware=(ESP32_FIRMWARE_STATE_BYTES if heap else FIRMWARE_STATE_BYTES)
        + FIRMWARE_STATE_PER_LAYER * int(layers),
        stack=0 if heap else stack,
        heap_stack=stack if heap else 0,
        state=int(state),
    )


@dataclass(frozen=True)
class FitVerdict:
    board: str
    flash_needed: int
    flash_available: int
    ram_needed: int
    ram_available: int
    psram_needed: int = 0       # external RAM (boards with PSRAM: an arena too large for internal RAM)
    psram_available: int = 0
    ram_detail: str = ""  # what ram_needed is made of (RamUse.describe)

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
    state_bytes: int = 0  # variable (state) tensors, a static buffer beside the arena

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


def planned_peak(graph: Graph, board: Board | None = None) -> tuple[int, str]:
    """The arena the native backend's memory planner needs (with the kernels ``board`` gets), or the liveness
    estimate if it cannot plan."""
    try:
        from codegen.backend.native.planner import plan
    except ImportError:
        return liveness_peak(graph), "liveness estimate"
    try:
        return int(plan(graph, board.core if board else None).arena_bytes), "native memory plan"
    except Exception as exc:  # noqa: BLE001 - the model may use ops the native planner does not know
        log.debug("native planner could not plan %s: %s", graph.name, exc)
        return liveness_peak(graph), "liveness estimate"


def state_bytes(graph: Graph) -> int:
    """Static RAM of the variable (state) tensors the operators keep across inferences, as the native planner
    lays them out (each 16-byte aligned)."""
    return sum((t.nbytes + 15) // 16 * 16 for t in graph.tensors if t.is_variable
               and any(t.index in op.inputs for op in graph.operators))


def _board_weight_bytes(graph: Graph, board: Board, model_bytes: int) -> int:
    """Flash the weights take as generated for ``board`` (the kernels of its core may store them packed, e.g. the
    Cortex-M DSP variants widen some to 16 bits), as ``codegen generate`` stores them without a codec; the model's
    own bytes when the native backend cannot generate the graph."""
    from codegen.compress.deployed import deployed

    try:
        return max(model_bytes, deployed(graph, board).flash_bytes)
    except Exception as exc:  # noqa: BLE001 - the model may use ops the native backend does not generate
        log.debug("native backend could not generate %s: %s", graph.name, exc)
        return model_bytes


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
    peak, method = planned_peak(graph, board)
    state = state_bytes(graph)
    fit = None
    if board is not None:
        flash_available, code = board.flash_bytes, CODE_BYTES_ESTIMATE
        if board.template == "esp32":  # the app partition of codegen's partition table, and ESP-IDF's own code
            from codegen.project.esp32 import IDF_CODE_BYTES_ESTIMATE, app_flash_bytes

            flash_available, code = app_flash_bytes(board), IDF_CODE_BYTES_ESTIMATE
        # boards with PSRAM: an arena too large for internal RAM goes there (as the project writer places it)
        psram = board.psram_bytes > 0 and ram_use(board, peak, layers=len(layers), state=state).total > board.ram_bytes
        ram = ram_use(board, peak, layers=len(layers), arena_in_psram=psram, state=state)
        fit = FitVerdict(
            board=board.name,
            flash_needed=_board_weight_bytes(graph, board, weight_bytes) + code,
            flash_available=flash_available,
            ram_needed=ram.total,
            ram_available=board.ram_bytes,
            psram_needed=peak if psram else 0,
            psram_available=board.psram_bytes,
            ram_detail=ram.describe(),
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
        state_bytes=state,
    )
