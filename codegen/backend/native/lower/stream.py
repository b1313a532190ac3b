"""Layers whose kernel decodes its coded weights while it consumes them (issue #16, decode mode ``layer``).

The weight array of such a layer is always stored as a blob (the emitter forces it, see
:func:`codegen.backend.native.emitter.emit`) and passed to the kernel as the blob itself
(``ConstRef(name, blob=True)``: pointer and byte count); the kernel needs only the decoder's tables as
scratch, no decoded copy of its weights.
"""

from __future__ import annotations

import numpy as np

from codegen.backend.native.layers import ConstArray, ConstRef, KernelCall, Layer, ScratchRef, TensorRef
from codegen.compress.huffman import SCRATCH_BYTES, encode_if_smaller

FC_KERNEL = "cg_fully_connected_huffman_s8"
FC_SPARSE_KERNEL = "cg_fully_connected_sparse_s8"
# the sparse layout is used when it takes at most this share of the raw int8 bytes (zeros it skips pay for the
# bitmap's byte per eight weights and its per-byte loop overhead)
SPARSE_MAX_SHARE = 0.8


def sparse_rows(weights: np.ndarray) -> np.ndarray:
    """[units, depth] int8 weights as ``cg_fully_connected_sparse_s8`` reads them: per unit a bitmap of
    ceil(depth / 8) bytes (bit b of byte j: weight 8 j + b is not zero, least significant bit first), then the
    unit's non-zero weights in input order; uint8, so that no codec codes it again.

    >>> sparse_rows(np.array([[0, 3, 0, 0, 0, 0, 0, 0, 0, -1], [0] * 10], dtype=np.int8)).tolist()
    [2, 2, 3, 255, 0, 0]
    """
    w = np.asarray(weights, dtype=np.int8).reshape(weights.shape[0], -1)
    units, depth = w.shape
    nz = w != 0
    bitmaps = np.packbits(np.pad(nz, ((0, 0), (0, -depth % 8))), axis=1, bitorder="little")
    rows = [np.concatenate([bitmaps[u], w[u][nz[u]].view(np.uint8)]) for u in range(units)]
    return np.concatenate(rows).astype(np.uint8) if rows else np.zeros(0, dtype=np.uint8)


def sparse_pays(weights: np.ndarray) -> bool:
    w = np.asarray(weights).reshape(weights.shape[0], -1)
    size = w.shape[0] * -(-w.shape[1] // 8) + int(np.count_nonzero(w))
    return size <= SPARSE_MAX_SHARE * w.size


def fully_connected_sparse(
    index: int,
    weights: np.ndarray,
    params: tuple[tuple[str, object], ...],
    consts: tuple[ConstArray, ...],
    tensors: tuple[int, int, int],
) -> Layer:
    """``cg_fully_connected_sparse_s8``: zero weights skipped, non-zero ones found through a bitmap; no decoder,
    no scratch. Arguments as :func:`fully_connected`."""
    inp, filt_tensor, out = tensors
    bias = consts[0]
    call = KernelCall(
        FC_SPARSE_KERNEL,
        "cg_fully_connected_s8_params",
        params,
        (
            ("const int8_t *", TensorRef(inp)),
            ("const uint8_t *", ConstRef(f"l{index}_filter")),
            ("const int32_t *", ConstRef(bias.name)),
            ("int8_t *", TensorRef(out)),
        ),
    )
    filt = ConstArray(f"l{index}_filter", sparse_rows(weights), source_tensor=filt_tensor)
    return Layer(index, "FULLY_CONNECTED", "s8", (call,), (filt, *consts), output=out)


def pays(weights: np.ndarray) -> bool:
    """Whether the codec would store these weights coded (else the layer keeps its dense kernel)."""
    return encode_if_smaller(np.ascontiguousarray(weights, dtype=np.int8).reshape(-1)) is not None


def fully_connected(
    index: int,
    weights: np.ndarray,
    params: tuple[tuple[str, object], ...],
    consts: tuple[ConstArray, ...],
    tensors: tuple[int, int, int],
) -> Layer:
    """``cg_fully_connected_huffman_s8``: the [units, depth] int8 weights row-major, decoded once per
    inference straight into the multiply-accumulate (zero runs cost one gap code). ``params`` and ``consts``
    (folded bias, multipliers, shifts) are those of ``cg_fully_connected_s8``; ``tensors`` = (input, filter, output)."""
    inp, filt_tensor, out = tensors
    bias = consts[0]
    call = KernelCall(
        FC_KERNEL,
        "cg_fully_connected_s8_params",
        params,
        (
            ("const int8_t *", TensorRef(inp)),
            ("const uint8_t *", ConstRef(f"l{index}_filter", blob=True)),
            ("const int32_t *", ConstRef(bias.name)),
            ("int8_t *", TensorRef(out)),
            ("void *", ScratchRef()),
        ),
    )
    rows = np.ascontiguousarray(weights, dtype=np.int8).reshape(-1)
    filt = ConstArray(f"l{index}_filter", rows, source_tensor=filt_tensor)
    return Layer(index, "FULLY_CONNECTED", "s8", (call,), (filt, *consts), scratch_bytes=SCRATCH_BYTES, output=out)
