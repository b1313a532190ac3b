"""Tensors and their quantization parameters."""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class DType(enum.Enum):
    """Element types a tensor can hold (the TFLite subset that microcontroller models use)."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    BOOL = "bool"
    INT4 = "int4"

    @property
    def np(self) -> np.dtype:
        """The numpy dtype used for this element type (int4 is held unpacked as int8)."""
        return np.dtype("int8" if self is DType.INT4 else self.value)

    @property
    def itemsize(self) -> int:
        return self.np.itemsize


@dataclass(frozen=True)
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel along ``axis``."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    def __post_init__(self) -> None:
        if not self.scale:
            raise ValueError("QuantParams needs at least one scale")
        if len(self.zero_point) not in (1, len(self.scale)):
            raise ValueError(f"{len(self.scale)} scales but {len(self.zero_point)} zero points")

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    def channel(self, c: int) -> tuple[float, int]:
        """Scale and zero point of channel ``c`` (per-tensor parameters apply to every channel)."""
        s = self.scale[c if self.per_channel else 0]
        z = self.zero_point[c if len(self.zero_point) > 1 else 0]
        return s, z


@dataclass(frozen=True, eq=False)
class Tensor:
    """One tensor of the graph. ``data`` holds the constant buffer (weights, biases, shapes) or ``None``."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: DType
    data: np.ndarray | None = None
    quant: QuantParams | None = None
    is_variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= max(int(d), 0)
        return n

    @property
    def nbytes(self) -> int:
        """Bytes the tensor takes (int4 counts half a byte per element, rounded up)."""
        if self.dtype is DType.INT4:
            return (self.size + 1) // 2
        return self.size * self.dtype.itemsize

    def __repr__(self) -> str:
        q = f", quant={'per-channel' if self.quant.per_channel else 'per-tensor'}" if self.quant else ""
        const = ", const" if self.is_constant else ""
        return f"Tensor({self.index}, {self.name!r}, {self.shape}, {self.dtype.value}{q}{const})"
