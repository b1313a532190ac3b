"""TFLite Micro's reference semantics of data-movement operators as index arithmetic (numpy).

Shared by constant folding (``codegen.passes.fold``) and the native lowerings, so that a folded constant and a
generated kernel address the same elements. Each function follows the TFLM kernel it names.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else lo if v < lo else v


def strided_slice_axes(
    shape: Sequence[int],
    begin: Sequence[int],
    end: Sequence[int],
    strides: Sequence[int],
    begin_mask: int,
    end_mask: int,
    shrink_axis_mask: int,
) -> list[tuple[int, int, int]]:
    """(start, count, stride) per input axis, as TFLM's ``StridedSlice`` (``StridedSliceStartForAxis`` /
    ``StridedSliceEndForAxis``; TFLM ignores the ellipsis and new-axis masks and ``offset``)."""
    axes = []
    for axis, size in enumerate(shape):
        stride = int(strides[axis])
        if stride == 0:
            raise ValueError("STRIDED_SLICE stride is 0")
        start = int(begin[axis])
        if start < 0:
            start += size
        start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
        if begin_mask & (1 << axis):
            start = 0 if stride > 0 else size - 1
        if shrink_axis_mask & (1 << axis):
            stop = start if start >= size else start + 1
        else:
            stop = int(end[axis])
            if stop < 0:
                stop += size
            stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
            if end_mask & (1 << axis):
                stop = size if stride > 0 else -1
        count = len(range(start, stop, stride))
        axes.append((start, count, stride))
    return axes


def slice_axes(shape: Sequence[int], begin: Sequence[int], size: Sequence[int]) -> list[tuple[int, int, int]]:
    """(start, count, 1) per axis for SLICE; a size of -1 takes the rest of the axis."""
    axes = []
    for axis, dim in enumerate(shape):
        b, s = int(begin[axis]), int(size[axis])
        count = dim - b if s == -1 else s
        if b < 0 or count < 0 or b + count > dim:
            raise ValueError(f"SLICE begin {b} size {s} is outside axis {axis} of size {dim}")
        axes.append((b, count, 1))
    return axes


def take_axes(x: np.ndarray, axes: Sequence[tuple[int, int, int]]) -> np.ndarray:
    """The elements ``axes`` (start, count, stride per axis) select from ``x``, in output order."""
    index = [np.arange(count, dtype=np.int64) * stride + start for start, count, stride in axes]
    if x.ndim == 0:
        return x.reshape(1)
    return x[np.ix_(*index)]


def gather(params: np.ndarray, indices: np.ndarray, axis: int, batch_dims: int) -> np.ndarray:
    """TFLM GATHER (indices must lie in range; raises ValueError otherwise)."""
    rank = params.ndim
    axis = axis + rank if axis < 0 else axis
    batch_dims = batch_dims + indices.ndim if batch_dims < 0 else batch_dims
    if not 0 <= axis < rank or not 0 <= batch_dims <= min(axis, indices.ndim):
        raise ValueError(f"GATHER axis {axis} / batch_dims {batch_dims} out of range")
    if indices.size and (indices.min() < 0 or indices.max() >= params.shape[axis]):
        raise ValueError("GATHER index out of range")
    if batch_dims == 0:
        return np.take(params, indices.astype(np.int64), axis=axis)
    batch = int(np.prod(params.shape[:batch_dims]))
    p = params.reshape((batch, *params.shape[batch_dims:]))
    i = indices.reshape((batch, *indices.shape[batch_dims:]))
    out = np.stack([np.take(p[b], i[b].astype(np.int64), axis=axis - batch_dims) for b in range(batch)])
    return out.reshape((*params.shape[:batch_dims], *out.shape[1:]))


def reverse_axes(axes: Sequence[int], rank: int) -> tuple[int, ...]:
    """REVERSE_V2 axes with negative ones resolved and sorted, as TFLM's ReverseV2Eval; raises ValueError for an
    axis out of range or axes that are not contiguous (TFLM refuses them)."""
    a = sorted(int(x) + rank if int(x) < 0 else int(x) for x in axes)
    if any(not 0 <= x < rank for x in a):
        raise ValueError(f"REVERSE_V2 axes {list(axes)} are out of range for rank {rank}")
    if any(a[i - 1] + 1 != a[i] for i in range(1, len(a))):
        raise ValueError(f"REVERSE_V2 axes {list(axes)} are not contiguous (TFLM supports only contiguous axes)")
    return tuple(a)


def transpose_perm(perm: Sequence[int], rank: int) -> tuple[int, ...]:
    """A TRANSPOSE permutation with negative axes resolved; raises ValueError unless it permutes 0..rank-1."""
    p = tuple(int(a) + rank if int(a) < 0 else int(a) for a in perm)
    if sorted(p) != list(range(rank)):
        raise ValueError(f"TRANSPOSE permutation {list(perm)} is not a permutation of {rank} axes")
    return p
