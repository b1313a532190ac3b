"""Per-tensor raw/huffman choice for a graph's constant tensors, with honest byte accounting.

Every constant tensor is listed: int8 tensors of at least ``min_bytes`` are stored as a Huffman blob when the
blob (header, code-length table and bitstream) is smaller than the raw bytes; everything else (biases, shapes,
float tensors, tiny tensors, incompressible tensors) stays raw. Totals count what the device stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from codegen.compress.huffman import DEFAULT_MIN_BYTES, Choice, HuffmanBlob, encode
from codegen.ir import Graph


@dataclass(frozen=True)
class TensorCompression:
    """The choice for one constant tensor. ``blob`` is set when ``choice == "huffman"``."""

    index: int
    name: str
    dtype: str
    elements: int
    raw_bytes: int
    choice: Choice
    reason: str
    blob: HuffmanBlob | None = None

    @property
    def stored_bytes(self) -> int:
        return self.blob.blob_bytes if self.blob is not None else self.raw_bytes

    @property
    def header_bytes(self) -> int:
        return self.blob.header_bytes if self.blob is not None else 0

    @property
    def table_bytes(self) -> int:
        return self.blob.table_bytes if self.blob is not None else 0

    @property
    def coded_bytes(self) -> int:
        return self.blob.coded_bytes if self.blob is not None else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "dtype": self.dtype, "elements": self.elements,
            "choice": self.choice, "mode": self.blob.mode if self.blob is not None else "raw",
            "reason": self.reason, "raw_bytes": self.raw_bytes, "stored_bytes": self.stored_bytes,
            "header_bytes": self.header_bytes, "table_bytes": self.table_bytes,
            "coded_bytes": self.coded_bytes,
        }


@dataclass(frozen=True)
class CompressionReport:
    """Choices for a set of tensors and the byte totals."""

    tensors: tuple[TensorCompression, ...]
    min_bytes: int

    @property
    def raw_bytes(self) -> int:
        return sum(t.raw_bytes for t in self.tensors)

    @property
    def stored_bytes(self) -> int:
        return sum(t.stored_bytes for t in self.tensors)

    @property
    def saved_bytes(self) -> int:
        return self.raw_bytes - self.stored_bytes

    @property
    def ratio(self) -> float:
        """Stored over raw bytes (1.0 when there is nothing)."""
        return self.stored_bytes / self.raw_bytes if self.raw_bytes else 1.0

    @property
    def huffman(self) -> tuple[TensorCompression, ...]:
        return tuple(t for t in self.tensors if t.choice == "huffman")

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_bytes": self.min_bytes, "raw_bytes": self.raw_bytes, "stored_bytes": self.stored_bytes,
            "saved_bytes": self.saved_bytes, "ratio": round(self.ratio, 4),
            "header_bytes": sum(t.header_bytes for t in self.tensors),
            "table_bytes": sum(t.table_bytes for t in self.tensors),
            "coded_bytes": sum(t.coded_bytes for t in self.tensors),
            "tensors": [t.as_dict() for t in self.tensors],
        }


def plan_tensor(index: int, name: str, values: np.ndarray, min_bytes: int = DEFAULT_MIN_BYTES
                ) -> TensorCompression:
    """Choose raw or huffman for one tensor and say why."""
    arr = np.asarray(values)
    common = {"index": index, "name": name, "dtype": str(arr.dtype), "elements": int(arr.size),
              "raw_bytes": int(arr.nbytes)}
    if arr.dtype != np.int8:
        return TensorCompression(**common, choice="raw", reason="not int8")
    if arr.nbytes < max(min_bytes, 1):
        return TensorCompression(**common, choice="raw", reason=f"smaller than {min_bytes} bytes")
    blob = encode(arr)
    if blob.blob_bytes >= arr.nbytes:
        return TensorCompression(**common, choice="raw", reason=f"blob would be {blob.blob_bytes} bytes")
    return TensorCompression(**common, choice="huffman", reason=f"{blob.mode}, {blob.ratio:.3f}x", blob=blob)


def plan_tensors(items: Iterable[tuple[int, str, np.ndarray]], min_bytes: int = DEFAULT_MIN_BYTES
                 ) -> CompressionReport:
    """Choices for (index, name, values) triples."""
    return CompressionReport(tuple(plan_tensor(i, n, v, min_bytes) for i, n, v in items), min_bytes)


def plan_graph(graph: Graph, min_bytes: int = DEFAULT_MIN_BYTES, sparsity: float = 0.0) -> CompressionReport:
    """Choices for every constant tensor an operator of ``graph`` reads.

    ``sparsity`` > 0 first magnitude-prunes the int8 tensors (see :func:`magnitude_prune`) to show what
    pruning would save; the graph itself is not changed.
    """
    items = []
    for t in graph.constant_tensors:
        data = np.asarray(t.data)
        if sparsity > 0 and data.dtype == np.int8:
            zps = set(t.quant.zero_point) if t.quant is not None else {0}
            zero_point = zps.pop() if len(zps) == 1 else 0
            data = magnitude_prune(data, sparsity, zero_point)
        items.append((t.index, t.name, data))
    return plan_tensors(items, min_bytes)


def magnitude_prune(values: np.ndarray, sparsity: float, zero_point: int = 0) -> np.ndarray:
    """Set the ``sparsity`` fraction of ``values`` closest to ``zero_point`` to the zero point (ties broken by
    position, so the result is deterministic). A measuring aid, not a training-aware pruning method."""
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity {sparsity} is not in [0, 1]")
    flat = np.asarray(values).reshape(-1).copy()
    k = int(round(sparsity * flat.size))
    if k:
        distance = np.abs(flat.astype(np.int64) - zero_point)
        flat[np.argsort(distance, kind="stable")[:k]] = zero_point
    return flat.reshape(np.shape(values))
