"""Registry: IR operator -> lowering function, and kernel name -> runtime source file.

Each op family has one module under ``codegen.backend.native.lower`` whose functions register themselves
with :func:`lowering`. A lowering does TFLite's Prepare work in Python and returns a :class:`Layer`. Kernel
names follow ``cg_<op>[_<variant>]_<s8|f32>`` and each lives in ``runtime/src/<family>/<name>.c``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from codegen import ir
from codegen.backend.native.layers import Layer
from codegen.resources import resource_path

OpT = TypeVar("OpT", bound=ir.Operator)


class Unsupported(Exception):
    """Raised by a lowering when this operator instance cannot be generated; the message says why."""


#: Cores with the Armv7E-M DSP extension (SIMD multiply-accumulate: SMLAD, SXTB16, ...): their boards get the
#: ``_dsp`` kernel variants (runtime/src/*/cg_*_dsp_s8.c), every other core the portable C kernels.
DSP_CORES = frozenset({"cortex-m4", "cortex-m7", "cortex-m33", "cortex-m35p", "cortex-m55", "cortex-m85"})
KERNEL_SETS = ("auto", "portable", "dsp")


def use_dsp(kernels: str, core: str | None) -> bool:
    """Whether the generated code calls the DSP kernel variants: ``kernels`` is ``"auto"`` (from the board's
    ``core``; no core, e.g. host builds: portable), ``"portable"`` or ``"dsp"`` (forced; on a core without the
    DSP extension the variants compile to plain C that emulates the instructions, bit for bit)."""
    if kernels not in KERNEL_SETS:
        raise ValueError(f"kernel set {kernels!r} is unknown (use one of {', '.join(KERNEL_SETS)})")
    if kernels == "auto":
        return core is not None and core.lower() in DSP_CORES
    return kernels == "dsp"


@dataclass(frozen=True)
class LowerContext:
    graph: ir.Graph
    dsp: bool = False  # call the Cortex-M DSP kernel variants (see use_dsp)
    int8_weights: bool = False  # keep weights int8 in flash (a codec compresses them): no 16-bit packed copies
    stream_weights: bool = False  # kernels that decode coded weights while they read them (decode mode "layer")
    codec: Any = None  # the ConstantCodec that will store the weights (None: all raw); see coded()
    block_weights: bool = False  # convolutions may expand sparse weights per block of channels (decode mode "layer")

    def coded(self, name: str, values: Any) -> bool:
        """Whether the codec stores constant ``name`` with these int8 ``values`` as a blob (else it stays raw)."""
        if self.codec is None:
            return False
        from codegen.backend.native.layers import ConstArray

        return self.codec.encode(ConstArray(name, values)) is not None

    def keeps_raw(self, name: str, nbytes: int) -> bool:
        """Whether the codec keeps constant ``name`` raw whatever its values (excluded, or under its size floor)."""
        return (self.codec is None or name in getattr(self.codec, "exclude", frozenset())
                or nbytes < getattr(self.codec, "min_bytes", 0))

    def tensor(self, index: int) -> ir.Tensor:
        return self.graph.tensors[index]

    def input(self, op: ir.Operator, i: int) -> ir.Tensor | None:
        if i >= len(op.inputs) or op.inputs[i] < 0:
            return None
        return self.graph.tensors[op.inputs[i]]

    def output(self, op: ir.Operator, i: int = 0) -> ir.Tensor:
        return self.graph.tensors[op.outputs[i]]

    def required(self, op: ir.Operator, i: int, what: str = "") -> ir.Tensor:
        """Input ``i`` of ``op``; raises :class:`Unsupported` when it is absent (the validation pass refuses
        such models first; this keeps the lowering safe without ``assert``)."""
        t = self.input(op, i)
        if t is None:
            raise Unsupported(f"input {i}{' (' + what + ')' if what else ''} is missing")
        return t

    @staticmethod
    def expect(op: ir.Operator, cls: type[OpT]) -> OpT:
        """``op`` as its IR class (lowerings are registered by op name, so a mismatch is a bug of ours)."""
        if not isinstance(op, cls):
            raise TypeError(f"lowering of {op.op} got a {type(op).__name__}, expected {cls.__name__}")
        return op


LowerFn = Callable[[LowerContext, ir.Operator], Layer]


@dataclass(frozen=True)
class OpSupport:
    op: str
    dtypes: tuple[str, ...]
    kernels: tuple[str, ...]
    fn: LowerFn


LOWERINGS: dict[str, OpSupport] = {}


def lowering(op: str, dtypes: tuple[str, ...], kernels: tuple[str, ...]) -> Callable[[LowerFn], LowerFn]:
    """Register the lowering of TFLite builtin ``op``; registering an op twice is an error."""

    def deco(fn: LowerFn) -> LowerFn:
        if op in LOWERINGS:
            raise TypeError(f"native lowering for {op} registered twice")
        LOWERINGS[op] = OpSupport(op, dtypes, kernels, fn)
        return fn

    return deco


def load_lowerings() -> dict[str, OpSupport]:
    """Import every lowering module (they register on import) and return the registry."""
    from codegen.backend.native import lower  # noqa: F401

    return LOWERINGS


def runtime_dir() -> Path:
    return resource_path("runtime")


@cache
def _kernel_files() -> dict[str, Path]:
    root = runtime_dir() / "src"
    files: dict[str, Path] = {}
    for path in sorted(root.rglob("cg_*.c")):
        if path.stem in files:
            raise RuntimeError(f"kernel {path.stem} defined twice: {files[path.stem]} and {path}")
        files[path.stem] = path
    return files


def kernel_source(name: str) -> Path:
    """The runtime ``.c`` file that defines kernel ``name``."""
    files = _kernel_files()
    if name not in files:
        raise KeyError(f"no runtime source for kernel {name}")
    return files[name]


def all_kernel_sources() -> list[Path]:
    return list(_kernel_files().values())


RUNTIME_HEADERS = ("cg_types.h", "cg_status.h", "cg_nn.h", "cg_nn_layout.h", "cg_nn_lstm.h", "cg_nn_support.h")
DSP_HEADER = "cg_dsp.h"  # the DSP instructions (or their C equivalents) of the _dsp kernel variants
CONV_DSP_HEADER = "cg_conv2d_dsp.h"  # what the two DSP convolutions share
# Internal header-only bodies that sibling kernels share, shipped only with the kernels (name prefixes) using them.
SHARED_HEADERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (CONV_DSP_HEADER, ("cg_conv2d_dsp_",)),
    ("cg_conv2d_s8_impl.h", ("cg_conv2d_s8", "cg_conv2d_cols_s8")),
    ("cg_arg_min_max_impl.h", ("cg_arg_min_max_",)),
    ("cg_svdf_s8_impl.h", ("cg_svdf_s8", "cg_svdf_state8_s8")),
    ("cg_min_max_impl.h", ("cg_maximum_", "cg_minimum_")),
)


def runtime_headers(kernel_names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The runtime headers generated sources need: the common ones, plus cg_dsp.h if a _dsp variant is used,
    plus the shared internal headers of the kernels used."""
    dsp = any("_dsp_" in name for name in kernel_names)
    shared = tuple(h for h, prefixes in SHARED_HEADERS if any(n.startswith(prefixes) for n in kernel_names))
    return RUNTIME_HEADERS + ((DSP_HEADER,) if dsp else ()) + shared
COMMON_SOURCES = ("cg_status_str",)


def supported_ops() -> list[str]:
    """Sorted TFLite builtin names the native backend can generate (used by ``codegen ops``)."""
    return sorted(load_lowerings())
