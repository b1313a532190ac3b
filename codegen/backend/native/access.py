"""How a kernel reads its input while it writes its output: what lets the memory planner overlap the two.

A layer's output may share memory with an input that dies at that layer (in-place execution) when every byte
the kernel writes lands where the kernel will not read any more. For each kernel the planner may run in
place, :data:`KERNEL_ACCESS` names its access pattern; from the pattern and the layer's shapes,
:func:`max_delta` computes the largest safe ``delta = offset(output) - offset(input)``. Any smaller delta is
safe too (the output only moves further below the bytes still to be read), and a delta of ``-output bytes``
or less means no overlap at all. Kernels not listed never run in place.

The patterns (``R(o)``: lowest input byte the kernel may still read once it has written output byte ``o``;
the planner needs ``delta + o < R(o)`` for every ``o``):

``elementwise``
    output element ``i`` is computed from input element ``i`` only; every read of element ``i`` happens before
    the write of output element ``i``, and afterwards only elements ``> i`` are read (blocks of several
    elements are fine: reads of a block before its writes). Element sizes may differ (QUANTIZE, DEQUANTIZE).
    Rows of SOFTMAX qualify: all passes over a row read it before its final pass writes it in order.
``window``
    convolution-like: output pixels ``(n, y, x)`` in raster order, all channels of a pixel written while the
    kernel reads only the receptive fields (clipped to the input) of that pixel and later ones, or of at most
    ``PIXEL_GROUP - 1`` earlier ones (kernels that compute a few pixels together, e.g. two im2col patches).
``rows_buffered``
    FULLY_CONNECTED that copies a whole input row (batch) into its scratch before writing that row's outputs.
``channels``
    global mean over H and W: per batch, channel ``c`` of every pixel is read before output channel ``c`` is
    written, channels in increasing order.

A kernel that is listed here must keep its input and output pointers free of ``restrict`` (they may
alias). ``tests/native`` runs every conformance model with its single layer in place (host C against TFLM);
``tests/native/test_memory_plan.py`` checks the overlap arithmetic on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from codegen import ir
from codegen.backend.native.layers import Dims, Layer, TensorRef

#: Conservative number of output pixels a ``window`` kernel may compute together.
PIXEL_GROUP = 4

KERNEL_ACCESS: dict[str, str] = {
    # elementwise (unary)
    "cg_relu_s8": "elementwise",
    "cg_relu_f32": "elementwise",
    "cg_relu6_f32": "elementwise",
    "cg_leaky_relu_s8": "elementwise",
    "cg_leaky_relu_f32": "elementwise",
    "cg_logistic_s8": "elementwise",
    "cg_logistic_f32": "elementwise",
    "cg_tanh_s8": "elementwise",
    "cg_tanh_f32": "elementwise",
    "cg_hard_swish_s8": "elementwise",
    "cg_hard_swish_f32": "elementwise",
    "cg_quantize_s8": "elementwise",
    "cg_dequantize_s8": "elementwise",
    "cg_requantize_s8": "elementwise",
    "cg_softmax_s8": "elementwise",
    "cg_softmax_f32": "elementwise",
    # elementwise (binary; only an input with the output's shape may be overlapped)
    "cg_add_s8": "elementwise",
    "cg_add_dsp_s8": "elementwise",  # element i read (four at a time) before output i is written
    "cg_add_f32": "elementwise",
    "cg_sub_f32": "elementwise",
    "cg_mul_s8": "elementwise",
    "cg_mul_dsp_s8": "elementwise",
    "cg_mul_f32": "elementwise",
    # convolution-like
    "cg_conv2d_s8": "window",
    "cg_conv2d_dsp_s8": "window",  # two pixels per block, like cg_conv2d_s8
    "cg_conv2d_dsp_w8_s8": "window",  # the same loop with int8 weights
    "cg_conv2d_dsp_c1_s8": "window",  # the same pixel pairs, taps packed without per-row padding
    "cg_conv2d_dsp_24_s8": "window",  # the same pixel pairs, tile-wise 2:4 weights
    "cg_conv2d_dsp_24r_s8": "window",
    "cg_conv2d_dsp_cols_s8": "window",  # the same pixel pairs, only the kept columns gathered
    "cg_conv2d_cols_s8": "window",  # cg_conv2d_s8's pixel pairs, only the kept columns gathered
    "cg_conv2d_dsp_sparse_s8": "window",  # the same loop once per block of channels: in place with one block only
    "cg_conv2d_f32": "window",
    "cg_depthwise_conv2d_s8": "window",
    "cg_depthwise_conv2d_dsp_s8": "window",  # one pixel, channels in blocks of four
    "cg_depthwise_conv2d_f32": "window",
    "cg_avgpool_s8": "window",
    "cg_avgpool_f32": "window",
    "cg_maxpool_s8": "window",
    "cg_avgpool_dsp_s8": "window",  # four channels of a pixel at a time, the pixel's window only
    "cg_maxpool_dsp_s8": "window",
    "cg_maxpool_f32": "window",
    # others
    "cg_fully_connected_s8": "rows_buffered",
    "cg_fully_connected_dsp_24_s8": "rows_buffered",  # the input row widened into the scratch first
    "cg_mean_s8": "channels",
    "cg_mean_f32": "channels",
}


@dataclass(frozen=True)
class InPlace:
    """Layer ``layer``'s output tensor may sit at ``offset(input) + d`` for any ``d <= max_delta``."""

    layer: int  # layer index
    input: int  # tensor index
    output: int  # tensor index
    max_delta: int


def _param(params: dict, name: str, default: int | None = None) -> int:
    v = params.get(name, default)
    if v is None:
        raise KeyError(name)
    return int(v)


def _window_delta(params: dict, in_item: int, out_item: int) -> int | None:
    """Largest safe delta of a ``window`` kernel, or None if its parameters are not the expected ones."""
    try:
        i, o = params["input"], params["output"]
        if not isinstance(i, Dims) or not isinstance(o, Dims):
            return None
        f = params.get("filter")
        k_h = f.h if isinstance(f, Dims) else _param(params, "filter_h")
        k_w = f.w if isinstance(f, Dims) else _param(params, "filter_w")
        s_h, s_w = _param(params, "stride_h"), _param(params, "stride_w")
        p_h, p_w = _param(params, "pad_h"), _param(params, "pad_w")
        d_h, d_w = _param(params, "dilation_h", 1), _param(params, "dilation_w", 1)
    except KeyError:
        return None
    if min(s_h, s_w, d_h, d_w, k_h, k_w) < 1 or i.n != o.n:
        return None

    def first_inside(start: np.ndarray, k: int, d: int, limit: int) -> np.ndarray:
        """First input coordinate >= 0 that the window starting at ``start`` reads, or -1 if none."""
        ks = np.arange(k)
        coords = start[:, None] + ks[None, :] * d
        inside = (coords >= 0) & (coords < limit)
        return np.where(inside.any(axis=1), coords[np.arange(len(start)), inside.argmax(axis=1)], -1)

    ry = first_inside(np.arange(o.h) * s_h - p_h, k_h, d_h, i.h)
    rx = first_inside(np.arange(o.w) * s_w - p_w, k_w, d_w, i.w)
    big = np.iinfo(np.int64).max // 4
    rows = ((np.arange(o.n)[:, None] * i.h + ry[None, :]) * i.w)[:, :, None] + rx[None, None, :]
    valid = (ry[None, :, None] >= 0) & (rx[None, None, :] >= 0)
    start = np.where(valid, rows * i.c * in_item, big).reshape(-1)  # lowest input byte each pixel reads
    # R(p): lowest input byte read once pixel p may be written: windows of pixels >= p - (PIXEL_GROUP - 1)
    suffix = np.minimum.accumulate(start[::-1])[::-1]
    lead = np.maximum(np.arange(len(suffix)) - (PIXEL_GROUP - 1), 0)
    r = suffix[lead]
    ends = (np.arange(len(r)) + 1) * o.c * out_item  # one past the last byte of pixel p
    return int(np.min(r - ends))


def _elementwise_delta(in_bytes: int, out_bytes: int, elems: int) -> int:
    """delta <= (e + 1) * (in_item - out_item) for every element e but the last (nothing is read after it)."""
    if elems <= 1:
        return 0
    in_item, out_item = in_bytes // elems, out_bytes // elems
    return min(in_item - out_item, (elems - 1) * (in_item - out_item))


def _blocks(layer: Layer) -> int:
    """Passes over the pixels of a convolution that expands its weights per block (cg_conv2d_dsp_sparse_s8)."""
    from codegen.backend.native.lower import conv_blocks  # the lowerings import the planner, which imports us

    if layer.calls[0].kernel != conv_blocks.KERNEL:
        return 1
    block, groups, _ = conv_blocks.groups_of(layer)
    return -(-groups // block)


def in_place_options(graph: ir.Graph, layer: Layer) -> list[InPlace]:
    """The inputs of ``layer`` its output may overlap, with the largest safe delta (not yet checked whether
    the input dies at this layer: the planner does that)."""
    if len(layer.calls) != 1 or layer.alias_of >= 0 or layer.output < 0:
        return []
    call = layer.calls[0]
    kind = KERNEL_ACCESS.get(call.kernel)
    if kind is None or _blocks(layer) > 1:  # a second pass over the pixels reads what the first one wrote
        return []
    refs = [op.tensor for _, op in call.args if isinstance(op, TensorRef)]
    if not refs or refs[-1] != layer.output:
        return []
    out = graph.tensors[layer.output]
    inputs = [t for t in refs[:-1] if t != layer.output]
    params = dict(call.params)
    found: list[InPlace] = []
    for t in dict.fromkeys(inputs):
        inp = graph.tensors[t]
        if inp.is_constant or inp.size <= 0 or out.size <= 0:
            continue
        in_item, out_item = inp.nbytes // inp.size, out.nbytes // out.size
        delta: int | None
        if kind == "elementwise":
            delta = _elementwise_delta(inp.nbytes, out.nbytes, out.size) if inp.shape == out.shape else None
        elif kind == "window":
            delta = _window_delta(params, in_item, out_item) if t == refs[0] else None
        elif kind == "rows_buffered":
            delta = _rows_buffered_delta(params, in_item, out_item)
        elif kind == "channels":
            delta = _channels_delta(params, in_item, out_item, out.size)
        else:
            delta = None
        if delta is not None:
            found.append(InPlace(layer.index, t, layer.output, delta))
    return found


def _rows_buffered_delta(params: dict, in_item: int, out_item: int) -> int | None:
    try:
        rows, depth, units = _param(params, "batches"), _param(params, "in_depth"), _param(params, "out_depth")
    except KeyError:
        return None
    b = np.arange(rows)
    return int(np.min((b + 1) * depth * in_item - (b + 1) * units * out_item)) if rows > 0 else None


def _channels_delta(params: dict, in_item: int, out_item: int, out_elems: int) -> int | None:
    i = params.get("input")
    if not isinstance(i, Dims) or out_elems != i.n * i.c:
        return None
    hw = i.h * i.w
    b, c = np.meshgrid(np.arange(i.n), np.arange(i.c), indexing="ij")
    reads = (b * hw * i.c + c + 1) * in_item  # after output (b, c): channels > c of batch b, later batches
    last = np.where(c + 1 < i.c, reads, (b + 1) * hw * i.c * in_item)
    ends = (b * i.c + c + 1) * out_item
    return int(np.min(last - ends))
