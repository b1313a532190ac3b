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
