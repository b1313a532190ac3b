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
# the sparse layout is used when it takes at most this share of the raw int8 bytes (more than about 32 % zeros)
SPARSE_MAX_SHARE = 0.8
# against the Huffman-streamed kernel the sparse layout may take this many times the Huffman blob (it runs about 25
# times faster; the codec's rule for convolution weights, codec.SPARSE_OVER_HUFFMAN, is the same)
SPARSE_OVER_HUFFMAN = 1.15
#: units per block and inputs per group of the sparse layout (one 16-bit mask per block and group)
SPARSE_UNITS, SPARSE_GROUP = 4, 4


def sparse_rows(weights: np.ndarray) -> np.ndarray:
    """[units, depth] int8 weights as ``cg_fully_connected_sparse_s8`` reads them: units in blocks of 4, inputs
    in groups of 4 (zeros pad both); per block, group after group, a 16-bit little-endian mask (bit 4 j + i: the
    weight of the block's unit j at the group's input i is not zero), then the group's non-zero weights, unit
    by unit in input order; uint8, so that no codec codes it again.

    >>> sparse_rows(np.array([[0, 3, 0, 0, 0, -1], [5, 0, 0, 0, 0, 0]], dtype=np.int8)).tolist()
    [18, 0, 3, 5, 2, 0, 255]
    """
    w = np.asarray(weights, dtype=np.int8).reshape(weights.shape[0], -1)
    units, depth = w.shape
    w = np.pad(w, ((0, -units % SPARSE_UNITS), (0, -depth % SPARSE_GROUP)))
    # one record per (block, group): its 16 weights, unit by unit
    rec = w.reshape(-1, SPARSE_UNITS, w.shape[1] // SPARSE_GROUP, SPARSE_GROUP).transpose(0, 2, 1, 3)
    rec = rec.reshape(-1, SPARSE_UNITS * SPARSE_GROUP)
    nz = rec != 0
    mask = (nz.astype(np.uint32) << np.arange(nz.shape[1], dtype=np.uint32)).sum(axis=1)
    head = np.stack([mask & 0xFF, mask >> 8], axis=1).astype(np.uint8)
    body = np.concatenate([head, rec.view(np.uint8)], axis=1)
    keep = np.concatenate([np.ones_like(head, dtype=bool), nz], axis=1)
    return body[keep].astype(np.uint8)


def sparse_read_bytes(packed: np.ndarray, units: int, depth: int) -> int | None:
    """Bytes ``cg_fully_connected_sparse_s8`` reads from ``packed`` for a layer of ``units`` x ``depth``, walking
    its masks as the kernel does; None if a mask lies beyond the array (a damaged layout)."""
    data = np.asarray(packed, dtype=np.uint8).reshape(-1)
    records = -(-units // SPARSE_UNITS) * -(-depth // SPARSE_GROUP)
    ones = np.array([bin(v).count("1") for v in range(256)], dtype=np.int64)
    pos = 0
    for _ in range(records):
        if pos + 2 > data.size:
            return None
        pos += 2 + int(ones[data[pos]] + ones[data[pos + 1]])
    return pos


def sparse_bytes(weights: np.ndarray) -> int:
    """Bytes of :func:`sparse_rows` for these [units, depth] weights."""
    w = np.asarray(weights).reshape(weights.shape[0], -1)
    units, depth = w.shape
    return 2 * -(-units // SPARSE_UNITS) * -(-depth // SPARSE_GROUP) + int(np.count_nonzero(w))


def sparse_pays(weights: np.ndarray, streaming: bool = False) -> bool:
    """Whether a fully connected layer with a codec stores its weights sparse: at most ``SPARSE_MAX_SHARE`` of
    the int8 bytes, or, when the alternative is the Huffman-streamed kernel (``streaming``: ``--decode layer``,
    about 80 instructions per non-zero weight against the sparse kernel's 2 plus 14 per 16 weights), smaller
    than the int8 bytes and at most ``SPARSE_OVER_HUFFMAN`` times the Huffman blob."""
    w = np.asarray(weights).reshape(weights.shape[0], -1)
    size = sparse_bytes(w)
    if size <= SPARSE_MAX_SHARE * w.size:
        return True
    if not streaming or size >= w.size:
        return False
    blob = encode_if_smaller(np.ascontiguousarray(w, dtype=np.int8).reshape(-1))
    return blob is not None and size <= SPARSE_OVER_HUFFMAN * blob.blob_bytes


def fully_connected_sparse(
    index: int,
    weights: np.ndarray,
    params: tuple[tuple[str, object], ...],
    consts: tuple[ConstArray, ...],
    tensors: tuple[int, int, int],
) -> Layer:
    """``cg_fully_connected_sparse_s8``: zero weights skipped, non-zero ones found through 4-bit masks; no
    decoder, no scratch. Arguments as :func:`fully_connected`."""
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
