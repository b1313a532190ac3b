"""Convolutions whose pruned weights stay compressed in flash and are expanded per block of output channels inside
the layer (issue #16, decode mode ``layer``): ``cg_conv2d_dsp_sparse_s8``.

The weights are ``cg_conv2d_dsp_s8``'s 16-bit layout (:func:`~.packing.pack_conv_s16`) stored sparse per group of
4 output channels (a bitmap of the group's weights, then its non-zero ones as int8): every group starts on a byte,
so the kernel expands any run of groups on its own into its scratch and runs the dense kernel's pass over them.
How many groups a block holds (``block_groups``, the call's last argument) sets the scratch: all of them is the
dense kernel's speed, fewer trade the patches rebuilt once per block for RAM. The lowering builds the layer with
one block (all groups) and keeps the dense layer as ``Layer.raw``; the emitter picks per layer from the arena's
free space (:func:`codegen.backend.native.emitter.choose_blocks`).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from codegen.backend.native.layers import ConstArray, ConstRef, KernelCall, Layer, Literal, ScratchRef, TensorRef
from codegen.backend.native.lower.packing import pad_to

KERNEL = "cg_conv2d_dsp_sparse_s8"
# the sparse layout is used when it takes at most this share of the int8 bytes (about a third of the weights zero)
MAX_SHARE = 0.8


def sparse_groups(packed: np.ndarray, groups: int) -> np.ndarray:
    """``pack_conv_s16`` weights (int16, ``groups`` groups of 4 channels) as the kernel reads them: per group a
    bitmap of its weights (bit b of byte j: weight 8 j + b of the group is not zero, least significant bit first),
    then its non-zero weights as int8; uint8, so that no codec codes them again.

    >>> sparse_groups(np.array([0, 3, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0], dtype=np.int16), 1).tolist()
    [2, 2, 3, 255]
    """
    rows = np.asarray(packed).reshape(groups, -1)
    nz = rows != 0
    bitmaps = np.packbits(nz, axis=1, bitorder="little")
    out = [np.concatenate([bitmaps[g], rows[g][nz[g]].astype(np.int8).view(np.uint8)]) for g in range(groups)]
    return np.concatenate(out).astype(np.uint8) if out else np.zeros(0, dtype=np.uint8)


def read_bytes(values: np.ndarray, groups: int, kp: int) -> int | None:
    """Bytes ``cg_conv2d_dsp_sparse_s8`` reads from its sparse groups ``values`` (each a ``kp / 2``-byte bitmap,
    then as many values as bits set), None if a group runs past the array.

    >>> read_bytes(np.array([2, 2, 3, 255], dtype=np.uint8), 1, 4), read_bytes(np.array([255, 0], np.uint8), 1, 4)
    (4, None)
    """
    data = np.asarray(values, dtype=np.uint8).reshape(-1)
    at = 0
    for _ in range(groups):
        bitmap = data[at : at + kp // 2]
        if bitmap.size < kp // 2:
            return None
        at += kp // 2 + int(np.unpackbits(bitmap).sum())
        if at > data.size:
            return None
    return at


def scratch_bytes(kp: int, block_groups: int) -> int:
    """``cg_conv2d_dsp_sparse_s8_get_scratch_size``: the 16-bit patches of two pixels, the sums of two pixels for
    the block's channels and the block's weights expanded to 16 bits (``kp``: the padded depth)."""
    return 2 * kp * 2 + 2 * 4 * block_groups * 4 + 4 * block_groups * kp * 2


def pays(weights: np.ndarray, kp: int) -> bool:
    """Whether the sparse groups take at most :data:`MAX_SHARE` of the int8 weights' bytes."""
    o = weights.shape[0]
    groups = pad_to(o, 4) // 4
    size = groups * 4 * kp // 8 + int(np.count_nonzero(weights))
    return size <= MAX_SHARE * weights.size


def layer(dense: Layer, weights16: np.ndarray, kp: int, filter_tensor: int) -> Layer:
    """The blocked version of the dense ``cg_conv2d_dsp_s8`` layer ``dense`` (whose filter is ``weights16``, the
    packed int16 weights), with one block; ``Layer.raw`` is ``dense``."""
    call = dense.calls[0]
    x = dense.index
    groups = weights16.size // (4 * kp)
    stored = sparse_groups(weights16, groups)
    args = dict(enumerate(call.args))
    inp, bias, out = args[0][1], args[2][1], args[3][1]
    blocked = KernelCall(
        KERNEL,
        call.params_type,
        call.params,
        (
            ("const int8_t *", inp),
            ("const uint8_t *", ConstRef(f"l{x}_filter")),
            ("uint32_t", Literal(f"{stored.size}u")),
            ("const int32_t *", bias),
            ("int8_t *", out),
            ("int8_t *", ScratchRef()),
            ("int32_t", Literal(str(groups))),
        ),
    )
    if not isinstance(inp, TensorRef) or not isinstance(out, TensorRef):
        raise TypeError(f"layer {x}: not a cg_conv2d_dsp_s8 call")  # a bug of ours: conv2d builds it
    consts = tuple(
        ConstArray(c.name, stored, source_tensor=filter_tensor) if c.name == f"l{x}_filter" else c for c in dense.consts
    )
    return dataclasses.replace(
        dense, calls=(blocked,), consts=consts, scratch_bytes=scratch_bytes(kp, groups), raw=dense
    )


def groups_of(layer: Layer) -> tuple[int, int, int]:
    """(block groups, all groups, padded depth) of a blocked layer."""
    call = layer.calls[0]
    p = dict(call.params)
    f = p["filter"]
    kp = f.h * pad_to(f.w * f.c, 4)
    text = call.args[-1][1]
    if not isinstance(text, Literal):
        raise TypeError(f"layer {layer.index}: not a {KERNEL} call")  # a bug of ours: layer() builds it
    return int(text.text), pad_to(f.n, 4) // 4, kp


def with_block_groups(layer: Layer, block_groups: int) -> Layer:
    """``layer`` (blocked) with blocks of ``block_groups`` groups of 4 channels and the scratch they take."""
    call = layer.calls[0]
    _, _, kp = groups_of(layer)
    args = (*call.args[:-1], ("int32_t", Literal(str(block_groups))))
    return dataclasses.replace(
        layer, calls=(dataclasses.replace(call, args=args),), scratch_bytes=scratch_bytes(kp, block_groups)
    )
