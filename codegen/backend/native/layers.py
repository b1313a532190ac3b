"""What lowering produces: kernel calls with their parameter structs, operands and constant arrays.

These frozen dataclasses are the contract between the op lowerings (``codegen.backend.native.lower``), the
memory planner and the emitter. Parameter values are plain Python values rendered to C by :func:`c_value`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CTYPES = {
    np.dtype("int8"): "int8_t",
    np.dtype("int32"): "int32_t",
    np.dtype("float32"): "float",
    np.dtype("uint8"): "uint8_t",
    np.dtype("int16"): "int16_t",
    np.dtype("uint16"): "uint16_t",
    np.dtype("int64"): "int64_t",
}


@dataclass(frozen=True)
class ConstArray:
    """A constant array a kernel reads. ``weight`` arrays (filters, biases) go to ``<prefix>_weights.c`` and
    may later be stored compressed; the others (multipliers, shifts) are small parameters in ``<prefix>.c``."""

    name: str  # unique suffix, e.g. "l3_filter"
    values: np.ndarray = field(compare=False)
    weight: bool = True
    source_tensor: int = -1  # model tensor the data comes from (-1: derived at generation time)

    @property
    def ctype(self) -> str:
        return CTYPES[self.values.dtype]

    @property
    def nbytes(self) -> int:
        return int(self.values.nbytes)


@dataclass(frozen=True)
class TensorRef:
    """An activation tensor in the arena."""

    tensor: int


@dataclass(frozen=True)
class ConstRef:
    name: str
    blob: bool = False  # pass the stored blob itself (pointer, byte count): the kernel decodes it as it reads


@dataclass(frozen=True)
class ScratchRef:
    """The layer's scratch buffer in the arena."""


@dataclass(frozen=True)
class Literal:
    """A C expression passed as is (e.g. a pad value)."""

    text: str


Operand = TensorRef | ConstRef | ScratchRef | Literal | None


@dataclass(frozen=True)
class Dims:
    n: int
    h: int
    w: int
    c: int


@dataclass(frozen=True)
class CFloat:
    """A float parameter, emitted as a float32 literal."""

    value: float


ParamValue = int | CFloat | Dims | ConstRef | tuple


@dataclass(frozen=True)
class KernelCall:
    kernel: str  # C function, e.g. "cg_conv2d_s8"
    params_type: str  # its parameter struct type
    params: tuple[tuple[str, ParamValue], ...]
    args: tuple[tuple[str, Operand], ...]  # (C type of the pointer parameter, operand)


@dataclass(frozen=True)
class Layer:
    """One operator of the graph lowered to zero (alias) or more kernel calls."""

    index: int
    op: str
    dtype: str
    calls: tuple[KernelCall, ...]
    consts: tuple[ConstArray, ...] = ()
    scratch_bytes: int = 0
    alias_of: int = -1  # RESHAPE/SQUEEZE: the output tensor shares this input tensor's memory
    output: int = -1
    # a layer that expands its weights per block of output channels (cg_conv2d_dsp_sparse_s8): the same layer
    # with raw weights and the dense kernel, which the emitter takes where the arena has no room for a block
    raw: Layer | None = field(default=None, compare=False)
    # a variant with more scratch (tile-wise 2:4 int8 weights with the patch extension instead of the runs kernel:
    # less flash), which the emitter takes where it does not grow the arena
    roomy: Layer | None = field(default=None, compare=False)
    # a layer on the column-sparse kernel (lower/columns.py): the same layer without it and the instructions per
    # inference the kernel saves; program.py takes it back where all such layers together do not pay for the code
    plain: tuple[Layer, float] | None = field(default=None, compare=False)

    @property
    def kernels(self) -> tuple[str, ...]:
        return tuple(c.kernel for c in self.calls)


def c_float(x: float) -> str:
    v = float(np.float32(x))
    if v == float(np.finfo(np.float32).max):
        return "3.40282347e+38f"
    if v == -float(np.finfo(np.float32).max):
        return "-3.40282347e+38f"
    text = f"{v:.9g}"
    if "e" not in text and "." not in text:
        text += ".0"
    return text + "f"


def c_value(v: ParamValue, symbol_of: dict[str, str]) -> str:
    """Render a parameter value as a C initializer."""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, np.integer)):
        iv = int(v)
        return "(-2147483647 - 1)" if iv == -(2**31) else str(iv)
    if isinstance(v, CFloat):
        return c_float(v.value)
    if isinstance(v, Dims):
        return f"{{{v.n}, {v.h}, {v.w}, {v.c}}}"
    if isinstance(v, ConstRef):
        return symbol_of[v.name]
    if isinstance(v, tuple):
        if v and isinstance(v[0], tuple) and isinstance(v[0][0], str):  # nested struct
            return "{" + ", ".join(f".{k} = {c_value(x, symbol_of)}" for k, x in v) + "}"
        return "{" + ", ".join(c_value(x, symbol_of) for x in v) + "}"
    raise TypeError(f"cannot render {v!r} as C")
