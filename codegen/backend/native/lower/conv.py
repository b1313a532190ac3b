"""CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: per-channel requantization and folded biases."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from codegen import ir
from codegen.backend.native import prepare
from codegen.backend.native.kernels import LowerContext, Unsupported, lowering
from codegen.backend.native.layers import (
    CFloat,
    ConstArray,
    ConstRef,
    Dims,
    KernelCall,
    Layer,
    ScratchRef,
    TensorRef,
)
from codegen.backend.native.lower import columns, columns_s8, conv_blocks, int16, sparse24
from codegen.backend.native.lower import stream as streamed
from codegen.backend.native.lower.common import nhwc, require, same_dtype, scale_zp
from codegen.backend.native.lower.packing import (
    channels_major,
    depthwise_dsp_ring_bytes,
    fc_pairs_fit,
    interleave_rows,
    pack_conv_s16,
    pack_depthwise_dsp,
    pack_fc_pairs,
    pack_rows,
    pad_to,
)


def _act(op: ir.Operator) -> ir.Activation:
    act = op.activation  # type: ignore[attr-defined]
    require(
        act in (ir.Activation.NONE, ir.Activation.RELU, ir.Activation.RELU6, ir.Activation.RELU_N1_TO_1),
        f"fused activation {act.value} is not implemented",
    )
    return act


def _filter_scales(filt: ir.Tensor, channels: int) -> list[float]:
    require(filt.quant is not None, f"filter tensor {filt.index} has no quantization parameters")
    require(
        all(z == 0 for z in filt.quant.zero_point), f"filter tensor {filt.index} has a non-zero zero point"
    )
    if filt.quant.per_channel:
        require(
            len(filt.quant.scale) == channels,
            f"filter tensor {filt.index} has {len(filt.quant.scale)} scales for {channels} channels",
        )
        return [float(s) for s in filt.quant.scale]
    return [float(filt.quant.scale[0])] * channels


def _multipliers(
    idx: int, in_scale: float, filter_scales: list[float], out_scale: float
) -> tuple[ConstArray, ConstArray]:
    pairs = [prepare.quantize_multiplier(in_scale * fs / out_scale) for fs in filter_scales]
    mult = np.array([m for m, _ in pairs], dtype=np.int32)
    shift = np.array([s for _, s in pairs], dtype=np.int32)
    return (ConstArray(f"l{idx}_mult", mult, weight=False), ConstArray(f"l{idx}_shift", shift, weight=False))


def _const_data(ctx: LowerContext, t: ir.Tensor | None, what: str) -> np.ndarray:
    require(t is not None and t.is_constant, f"{what} must be a constant tensor")
    return t.data


def _folded_bias(idx: int, weights: np.ndarray, bias: np.ndarray | None, input_offset: int) -> ConstArray:
    """bias[c] + input_offset * sum(weights[c]): the kernels then multiply raw int8 values."""
    folded = per_channel_sum(weights) * input_offset
    if bias is not None:
        folded = folded + bias.astype(np.int64)
    if folded.min(initial=0) < prepare.INT32_MIN or folded.max(initial=0) > prepare.INT32_MAX:
        raise Unsupported("bias plus input offset times the filter sum overflows int32")
    return ConstArray(f"l{idx}_bias", folded.astype(np.int32), weight=True)


def per_channel_sum(rows: np.ndarray) -> np.ndarray:
    """Sum of each row (an output channel's weights) as int64."""
    return rows.reshape(rows.shape[0], -1).astype(np.int64).sum(axis=1)


def _f32_filter_and_bias(
    ctx: LowerContext, x: int, w: np.ndarray, filt: ir.Tensor, b: ir.Tensor | None
) -> tuple[list[ConstArray], ConstRef | None]:
    """Float filter and optional bias constants of layer ``x``, and the reference the kernel call takes for the bias."""
    consts = [ConstArray(f"l{x}_filter", w.astype(np.float32), source_tensor=filt.index)]
    if b is None:
        return consts, None
    bias = _const_data(ctx, b, "bias").astype(np.float32).reshape(-1)
    consts.append(ConstArray(f"l{x}_bias", bias, source_tensor=b.index))
    return consts, ConstRef(f"l{x}_bias")


def _requant_s8(op: ir.Operator, inp: ir.Tensor, filt: ir.Tensor, out: ir.Tensor, channels: int
                ) -> tuple[tuple[tuple[str, object], ...], ConstArray, ConstArray, int]:
    """Per-channel requantization of an int8 conv/FC: kernel params, multiplier and shift arrays, input zero point."""
    in_s, in_zp = scale_zp(inp)
    out_s, out_zp = scale_zp(out)
    mult, shift = _multipliers(op.index, in_s, _filter_scales(filt, channels), out_s)
    lo, hi = prepare.activation_range_int8(op.activation, out_s, out_zp)
    params = (
        ("input_offset", -in_zp),
        ("output_offset", out_zp),
        ("act_min", lo),
        ("act_max", hi),
        ("multiplier", ConstRef(mult.name)),
        ("shift", ConstRef(shift.name)),
    )
    return params, mult, shift, in_zp


def _int_bias(ctx: LowerContext, op: ir.Operator, n: int) -> np.ndarray | None:
    b = ctx.input(op, 2)
    if b is None:
        return None
    data = _const_data(ctx, b, "bias")
    require(b.dtype is ir.DType.INT32, f"int8 kernels need an int32 bias, got {b.dtype.value}")
    require(data.size == n, f"bias has {data.size} values for {n} channels")
    return data.reshape(-1)


def _f32_act(op: ir.Operator) -> tuple[tuple[str, CFloat], tuple[str, CFloat]]:
    lo, hi = prepare.activation_range_f32(_act(op))
    return ("act_min", CFloat(lo)), ("act_max", CFloat(hi))


def _geometry(op: ir.Conv2D | ir.DepthwiseConv2D, inp: ir.Tensor, filt: ir.Tensor, out: ir.Tensor):
    i, f, o = nhwc(inp.shape, "input"), nhwc(filt.shape, "filter"), nhwc(out.shape, "output")
    pad_h = prepare.padding_before(op.padding, i.h, f.h, op.stride_h, op.dilation_h, o.h)
    pad_w = prepare.padding_before(op.padding, i.w, f.w, op.stride_w, op.dilation_w, o.w)
    for axis, size, k, s, d, osz in (
        ("height", i.h, f.h, op.stride_h, op.dilation_h, o.h),
        ("width", i.w, f.w, op.stride_w, op.dilation_w, o.w),
    ):
        require(
            prepare.out_size(op.padding, size, k, s, d) == osz,
            f"output {axis} {osz} does not match the convolution geometry",
        )
    common = (
        ("stride_h", op.stride_h),
        ("stride_w", op.stride_w),
        ("dilation_h", op.dilation_h),
        ("dilation_w", op.dilation_w),
        ("pad_h", pad_h),
        ("pad_w", pad_w),
    )
    return i, f, o, common


def conv2d_s8_scratch_bytes(k_h: int, k_w: int, in_c: int) -> int:
    """``cg_conv2d_s8_get_scratch_size``: the int8 im2col patches (``k_h * k_w * in_c`` values, padded to a
    multiple of 4) of two pixels."""
    return 2 * pad_to(k_h * k_w * in_c, 4)


DEPTHWISE_DSP_MAX_SPAN = 64  # CG_DW_MAX_SPAN of cg_depthwise_conv2d_dsp_s8.c


def depthwise_dsp_span(k_h: int, dilation_h: int) -> int:
    """Input rows one output row of a depthwise filter reads: the ring of ``cg_depthwise_conv2d_dsp_s8``."""
    return (k_h - 1) * dilation_h + 1


def depthwise_dsp_s8_scratch_bytes(i: Dims, f: Dims, o: Dims, geo: dict[str, int]) -> int:
    """``cg_depthwise_conv2d_dsp_s8_get_scratch_size`` for the layer's shapes and geometry parameters."""
    return depthwise_dsp_ring_bytes(
        i.w, f.h, f.w, o.w, o.c, geo["stride_w"], geo["dilation_h"], geo["dilation_w"], geo["pad_w"]
    )


def conv2d_dsp_s8_scratch_bytes(k_h: int, k_w: int, in_c: int, out_c: int) -> int:
    """``cg_conv2d_dsp_s8_get_scratch_size`` (and ``cg_conv2d_dsp_w8_s8``'s): the 16-bit patches of two pixels
    (kernel rows padded to a multiple of 4 steps) and the int32 sums of two pixels (channels padded to 4)."""
    return 2 * k_h * pad_to(k_w * in_c, 4) * 2 + 2 * pad_to(out_c, 4) * 4


def pad_kernel_rows(weights: np.ndarray) -> np.ndarray:
    """OHWI weights as [O, KH * pad_to(KW * I, 4)]: each kernel row zero-padded to a multiple of 4 steps, the
    depth ``cg_conv2d_dsp_s8`` accumulates over.

    >>> pad_kernel_rows(np.arange(1, 7).reshape(1, 2, 1, 3)).tolist()
    [[1, 2, 3, 0, 4, 5, 6, 0]]
    """
    o, kh, kw, c = weights.shape
    rows = weights.reshape(o, kh, kw * c)
    return np.pad(rows, ((0, 0), (0, 0), (0, pad_to(kw * c, 4) - kw * c))).reshape(o, -1)


CONV_C1_MAX_ROW = 64  # CG_CONV_ROW_STAGE of cg_conv2d_dsp.h: kernel rows cg_conv2d_dsp_c1_s8 assembles at borders


def c1_depth(k_h: int, k_w: int, in_c: int) -> int:
    """Steps ``cg_conv2d_dsp_c1_s8`` accumulates: the whole words of every kernel row, then the values left of all
    rows padded to a multiple of 4."""
    row = k_w * in_c
    return k_h * (row // 4 * 4) + pad_to(k_h * (row % 4), 4)


def conv2d_dsp_c1_s8_scratch_bytes(k_h: int, k_w: int, in_c: int, out_c: int) -> int:
    """``cg_conv2d_dsp_c1_s8_get_scratch_size``: the packed 16-bit patches and the int32 sums of two pixels."""
    return 2 * c1_depth(k_h, k_w, in_c) * 2 + 2 * pad_to(out_c, 4) * 4


def pack_taps(weights: np.ndarray) -> np.ndarray:
    """OHWI weights as [O, K] in the order ``cg_conv2d_dsp_c1_s8`` accumulates: kernel rows of ``KW * I = 4a + r``
    values, per row its first 4a values, then the r values left of every row zero-padded to a multiple of 4.

    >>> pack_taps(np.arange(1, 11).reshape(1, 2, 5, 1)).tolist()  # 2 rows of 5: 12 steps instead of 16
    [[1, 2, 3, 4, 6, 7, 8, 9, 5, 10, 0, 0]]
    """
    o, kh, kw, c = weights.shape
    row = kw * c
    rows = weights.reshape(o, kh, row)
    words, left = rows[:, :, : row // 4 * 4].reshape(o, -1), rows[:, :, row // 4 * 4 :].reshape(o, -1)
    left = np.pad(left, ((0, 0), (0, pad_to(left.shape[1], 4) - left.shape[1])))
    return np.concatenate([words, left], axis=1)


def c1_pays(k_h: int, k_w: int, in_c: int, out_c: int) -> bool:
    """Whether ``cg_conv2d_dsp_c1_s8`` beats ``cg_conv2d_dsp_s8`` on a layer: the blocks of 4 steps it saves per
    group of 4 channels (about 24 instructions each per pixel pair) against the values left of the rows, which it
    moves one by one (about 4 instructions per pair each).  Not where it saves no step: KWS's 10x4 on one channel
    ran 4 % faster (its cheaper im2col) but a model with both kernels links their shared code twice (1.8 KB of
    flash).  Kernel rows up to ``CONV_C1_MAX_ROW`` values, and at most ``CONV_C1_MAX_ROW - 3`` values left of the
    rows (its stack buffer)."""
    row = k_w * in_c
    saved = (k_h * pad_to(row, 4) - c1_depth(k_h, k_w, in_c)) // 4
    fits = row <= CONV_C1_MAX_ROW and k_h * (row % 4) <= CONV_C1_MAX_ROW - 3
    return fits and saved > 0 and saved * pad_to(out_c, 4) // 4 * 24 > 4 * k_h * (row % 4)


def _dsp_cost(rows: np.ndarray, f: Dims, in_c: int, out_c: int, sparse: tuple[str, np.ndarray] | None) -> float:
    """Instructions per pixel pair of the DSP convolution taken without the column kernel: the tile-wise 2:4 one
    (``sparse``, lower/sparse24.py), the few-channel one or the dense one (:func:`columns.dense_cost`)."""
    if sparse is not None:
        blocks = sparse24.block_patterns(rows) or []
        mac = (sparse24.runs_cost(blocks) if sparse[0] == sparse24.RUNS_KERNEL
               else sparse24.sparse_cost(blocks, rows.shape[1], bool(int(sparse[1][0]) & 2)))
        return columns.dense_cost(f.h, rows.shape[1], out_c, mac)
    if c1_pays(f.h, f.w, in_c, out_c):
        return columns.dense_cost(f.h, c1_depth(f.h, f.w, in_c), out_c)
    return columns.dense_cost(f.h, rows.shape[1], out_c)


ACC_BOUND = 1 << 30  # |accumulator| below this: the DSP output stage's SMMULR on 2 * acc cannot overflow


def conv_out_stage(
    idx: int, weights: np.ndarray, bias: np.ndarray, mult: np.ndarray, shift: np.ndarray, output_offset: int
) -> ConstArray | None:
    """``out_stage`` of ``cg_conv2d_dsp_s8`` (cg_nn.h): per channel (m, add, r, neg) giving TFLite's double-rounding
    requantization plus the output offset, or None where the kernel must take the general requantization: a
    positive shift (multiplier of 1 or more), an accumulator (folded bias plus int8 inputs times the weights) that
    could reach 2^30, or an addend beyond 2^30.  A channel with a constant result gets m = 0 and add = its output
    (and neg = -1, so that only true r = 0 channels send the layer to the kernel's masked loop): all weights zero
    (the accumulator is the bias), or a right shift so large that the result rounds to zero."""
    rows = np.abs(weights.reshape(weights.shape[0], -1).astype(np.int64)).sum(axis=1)
    bound = np.abs(bias.astype(np.int64)) + 128 * rows
    live = rows > 0
    if shift.size == 0 or int(shift.max()) > 0 or int(bound[live].max(initial=0)) >= ACC_BOUND:
        return None
    table: list[int] = []
    for m, e, b, row, bias_c in zip(mult.tolist(), shift.tolist(), bound.tolist(), rows.tolist(), bias.tolist(),
                                    strict=True):
        r = -e
        if row == 0:  # the output is the requantized bias, clamped by the kernel
            out = prepare.multiply_by_quantized_multiplier(int(bias_c), m, e) + output_offset
            table += [0, max(-256, min(256, out)), 0, -1]  # v = 0: no sign mask needed
        elif r == 0:
            table += [m, output_offset, 0, 0]
        elif (b * m >> 31) + 1 <= (1 << (r - 1)) - 1:  # |v| < 2^(r-1): the rounded shift is 0
            table += [0, output_offset, 0, -1]
        else:
            add = (1 << (r - 1)) + output_offset * (1 << r)
            if abs(add) >= ACC_BOUND:
                return None
            table += [m, add, r, -1]
    return ConstArray(f"l{idx}_ostage", np.array(table, dtype=np.int32), weight=False)


def fc_out_stage(idx: int, mults: np.ndarray, shifts: np.ndarray, output_offset: int, units: int) -> ConstArray:
    """``out_stage`` of ``cg_fully_connected_dsp_s8`` (cg_nn.h): per unit, units padded to 8 with zero rows,
    (2^(r-1) + output_offset * 2^r, multiplier, r) for r = -shift in [1, 22]."""
    r = -shifts.astype(np.int64)
    h = (np.int64(1) << (r - 1)) + (np.int64(output_offset) << r)
    rows = np.zeros((pad_to(units, 8), 3), dtype=np.int64)
    rows[:units] = np.stack([h, mults.astype(np.int64), r], axis=1)
    return ConstArray(f"l{idx}_ostage", rows.reshape(-1).astype(np.int32), weight=False)


FC_DSP_SUM_BOUND = 1 << 30  # |folded bias| + 128 * sum|w| below this: cg_fully_connected_dsp_s8's doubled sums fit


def fully_connected_s8_scratch_bytes(in_depth: int) -> int:
    """``cg_fully_connected_s8_get_scratch_size``: a copy of one input row."""
    return in_depth


CONV_S8_GROUP = 4  # CG_CONV_GROUP of cg_conv2d_s8.c: output channels per register block
FC_S8_GROUP = 8  # CG_FC_GROUP of cg_fully_connected_s8.c


@lowering(
    "CONV_2D",
    dtypes=("int8", "float32", int16.DTYPE),
    kernels=(
        "cg_conv2d_s8", "cg_conv2d_dsp_s8", "cg_conv2d_dsp_w8_s8", "cg_conv2d_dsp_24_s8", "cg_conv2d_dsp_24r_s8",
        "cg_conv2d_dsp_c1_s8", columns.KERNEL, columns_s8.KERNEL,
        "cg_conv2d_f32",
        "cg_conv2d_s16", conv_blocks.KERNEL,
    ),
)
def conv2d(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _conv2d(ctx, op, True)


def _conv2d(ctx: LowerContext, op: ir.Operator, column_sparse: bool) -> Layer:
    """CONV_2D; ``column_sparse``: the column-sparse kernel may be taken (its layer then carries the one without it
    as ``plain``, lower/columns.py)."""
    op = ctx.expect(op, ir.Conv2D)
    if int16.is_int16(ctx.input(op, 0)):
        return int16.conv2d(ctx, op)
    inp, filt, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    dt = same_dtype("CONV_2D", inp, filt, out)
    i, f, o, geo = _geometry(op, inp, filt, out)
    require(f.c == i.c, f"grouped convolution ({i.c} input channels, filter depth {f.c}) is not implemented")
    require(f.n == o.c, "filter count does not match the output channels")
    w = _const_data(ctx, filt, "filter")
    x = op.index
    if dt == "f32":
        b = ctx.input(op, 2)
        consts, bias_ref = _f32_filter_and_bias(ctx, x, w, filt, b)
        call = KernelCall(
            "cg_conv2d_f32",
            "cg_conv2d_f32_params",
            (("input", i), ("filter", f), ("output", o), *geo, *_f32_act(op)),
            (
                ("const float *", TensorRef(inp.index)),
                ("const float *", ConstRef(f"l{x}_filter")),
                ("const float *", bias_ref),
                ("float *", TensorRef(out.index)),
            ),
        )
        return Layer(op.index, op.op, dt, (call,), tuple(consts), output=out.index)
    requant, mult, shift, in_zp = _requant_s8(op, inp, filt, out, f.n)
    bias = _folded_bias(x, w, _int_bias(ctx, op, f.n), -in_zp)
    params = (("input", i), ("filter", f), ("output", o), *geo, *requant)
    consts: tuple[ConstArray, ...] = (bias, mult, shift)
    blocked = False
    cols: tuple[np.ndarray, float] | None = None
    if ctx.dsp:
        rows = pad_kernel_rows(w)
        pairs = i.n * -(-(o.h * o.w) // 2)
        # issue #16: structured weights take their kernel with or without a codec (its int32 stream holds only the
        # kept weights and stays raw: the codec codes int8 arrays only); the codec's paths are for the others
        sparse = sparse24.conv_choice(rows, o.c, pairs)
        # whole im2col columns zero in every filter (layer-wide 2:4), only the kept ones gathered
        cols = None if not column_sparse else columns.choice(
            w, i.w, op.dilation_h, op.dilation_w, _dsp_cost(rows, f, i.c, o.c, sparse), pairs)
        structured = sparse is not None or cols is not None
        w8 = (pack_rows(rows, 4) if ctx.int8_weights and not structured
              and not ctx.keeps_raw(f"l{x}_filter", w.size) else None)
        blocked = w8 is not None and ctx.block_weights and conv_blocks.pays(w, rows.shape[1])
        if w8 is not None and not blocked and ctx.coded(f"l{x}_filter", w8):
            # int8 weights in flash that the codec codes (decoded before the layer or at init): cg_conv2d_dsp_w8_s8
            kernel, ftype, stored = "cg_conv2d_dsp_w8_s8", "const int8_t *", w8
        else:  # 16-bit weights (raw, or expanded per block by cg_conv2d_dsp_sparse_s8, lower/conv_blocks.py)
            kernel, ftype, stored = "cg_conv2d_dsp_s8", "const int16_t *", pack_conv_s16(rows)
        scratch = conv2d_dsp_s8_scratch_bytes(f.h, f.w, i.c, o.c)
        if cols is not None:
            kernel, ftype, stored, sparse = columns.KERNEL, "const int32_t *", cols[0], None
            scratch = columns.scratch_bytes(f.h, f.w, i.c, o.c)
        if sparse is not None:  # issue #16: tile-wise 2:4 weights, only the kept ones multiplied
            kernel, ftype, stored = sparse[0], "const int32_t *", sparse[1]
            scratch += sparse24.conv_scratch_extra(rows.shape[1]) if kernel == sparse24.KERNEL else 0
        if sparse is None and kernel == "cg_conv2d_dsp_s8" and not blocked and c1_pays(f.h, f.w, i.c, o.c):
            # few input channels (first layers): taps packed without per-row padding
            kernel, stored = "cg_conv2d_dsp_c1_s8", pack_conv_s16(pack_taps(w))
            scratch = conv2d_dsp_c1_s8_scratch_bytes(f.h, f.w, i.c, o.c)
        # the bias of the padding channels of the last group of 4 is read too (zeros)
        bias = ConstArray(bias.name, np.pad(bias.values, (0, pad_to(o.c, 4) - o.c)), weight=True)
        ostage = conv_out_stage(x, w, bias.values[: o.c], mult.values, shift.values, scale_zp(out)[1])
        consts = (bias, mult, shift)
        if ostage is not None:
            params = (*params, ("out_stage", ConstRef(ostage.name)))
            consts = (*consts, ostage)
    else:
        kernel, ftype, stored = "cg_conv2d_s8", "const int8_t *", interleave_rows(w, CONV_S8_GROUP)
        scratch = conv2d_s8_scratch_bytes(f.h, f.w, i.c)
        # issue #16: whole im2col columns zero in every filter, only the kept ones gathered (lower/columns_s8.py);
        # under a codec too (its int32 stream stays raw)
        cols = None if not column_sparse else columns_s8.choice(
            w, i.w, op.dilation_h, op.dilation_w, i.n * -(-(o.h * o.w) // 2))
        if cols is not None:
            kernel, ftype, stored = columns_s8.KERNEL, "const int32_t *", cols[0]
    call = KernelCall(
        kernel,
        "cg_conv2d_s8_params",
        params,
        (
            ("const int8_t *", TensorRef(inp.index)),
            (ftype, ConstRef(f"l{x}_filter")),
            ("const int32_t *", ConstRef(bias.name)),
            ("int8_t *", TensorRef(out.index)),
            ("int8_t *", ScratchRef()),
        ),
    )
    consts = (ConstArray(f"l{x}_filter", stored, source_tensor=filt.index), *consts)
    dense = Layer(op.index, op.op, dt, (call,), consts, scratch_bytes=scratch, output=out.index)
    roomy = sparse24.conv_roomy(rows, o.c, pairs) if kernel == sparse24.RUNS_KERNEL else None
    if roomy is not None:  # issue #16: int8 2:4 weights where the patch extension fits the arena (emitter)
        alt = KernelCall(sparse24.KERNEL, call.params_type, call.params, call.args)
        dense = replace(dense, roomy=Layer(
            op.index, op.op, dt, (alt,), (ConstArray(f"l{x}_filter", roomy, source_tensor=filt.index), *consts[1:]),
            scratch_bytes=scratch + sparse24.conv_scratch_extra(rows.shape[1]), output=out.index))
    if cols is not None:  # the layer without the column kernel, taken where the kernel does not pay for its code
        return replace(dense, plain=(_conv2d(ctx, op, False), cols[1]))
    return conv_blocks.layer(dense, stored, f.h * pad_to(f.w * i.c, 4), filt.index) if blocked else dense


@lowering(
    "DEPTHWISE_CONV_2D",
    dtypes=("int8", "float32", int16.DTYPE),
    kernels=(
        "cg_depthwise_conv2d_s8", "cg_depthwise_conv2d_dsp_s8", "cg_depthwise_conv2d_f32", "cg_depthwise_conv2d_s16"
    ),
)
def depthwise_conv2d(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = ctx.expect(op, ir.DepthwiseConv2D)
    if int16.is_int16(ctx.input(op, 0)):
        return int16.depthwise_conv2d(ctx, op)
    inp, filt, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    dt = same_dtype("DEPTHWISE_CONV_2D", inp, filt, out)
    i, f, o, geo = _geometry(op, inp, filt, out)
    mult_d = o.c // max(i.c, 1)
    require(o.c == i.c * mult_d and f.c == o.c, "depthwise channel counts do not match")
    w = _const_data(ctx, filt, "filter")
    x = op.index
    b = ctx.input(op, 2)
    if dt == "f32":
        consts, bias_ref = _f32_filter_and_bias(ctx, x, w, filt, b)
        call = KernelCall(
            "cg_depthwise_conv2d_f32",
            "cg_depthwise_conv2d_f32_params",
            (("input", i), ("filter", f), ("output", o), *geo, ("depth_multiplier", mult_d), *_f32_act(op)),
            (
                ("const float *", TensorRef(inp.index)),
                ("const float *", ConstRef(f"l{x}_filter")),
                ("const float *", bias_ref),
                ("float *", TensorRef(out.index)),
            ),
        )
        return Layer(op.index, op.op, dt, (call,), tuple(consts), output=out.index)
    requant, mult, shift, in_zp = _requant_s8(op, inp, filt, out, o.c)
    bias_data = _int_bias(ctx, op, o.c)
    params = (
        ("input", i),
        ("filter", f),
        ("output", o),
        *geo,
        ("depth_multiplier", mult_d),
        *requant,
    )
    stream = None
    span = depthwise_dsp_span(f.h, op.dilation_h)
    # under a codec, the DSP kernel (weights in an int32 stream, which the int8 codec leaves raw) where the codec
    # would keep the portable kernel's int8 weights raw anyway
    if ctx.dsp and mult_d == 1 and span <= DEPTHWISE_DSP_MAX_SPAN and (
        not ctx.int8_weights or not ctx.coded(f"l{x}_filter", channels_major(w))
    ):
        # [1, KH, KW, C] -> per-channel rows for the fold; None (portable kernel) when some step could overflow
        folded = per_channel_sum(w.reshape(-1, o.c).T) * -in_zp + (0 if bias_data is None else bias_data)
        stream = pack_depthwise_dsp(w, folded, mult.values, shift.values, dict(requant)["output_offset"])
    if stream is not None:
        call = KernelCall(
            "cg_depthwise_conv2d_dsp_s8",
            "cg_depthwise_conv2d_s8_params",
            tuple((k, v) for k, v in params if k not in ("multiplier", "shift")),  # in the stream instead
            (
                ("const int8_t *", TensorRef(inp.index)),
                ("const int32_t *", ConstRef(f"l{x}_filter")),
                ("int8_t *", TensorRef(out.index)),
                ("int8_t *", ScratchRef()),
            ),
        )
        consts = (ConstArray(f"l{x}_filter", stream, source_tensor=filt.index),)
        scratch = depthwise_dsp_s8_scratch_bytes(i, f, o, dict(geo))
        return Layer(op.index, op.op, dt, (call,), consts, scratch_bytes=scratch, output=out.index)
    # portable kernel: folded bias, each channel's taps together, a row of input zero points as scratch
    bias = _folded_bias(x, w.reshape(-1, o.c).T, bias_data, -in_zp)
    consts = (ConstArray(f"l{x}_filter", channels_major(w), source_tensor=filt.index), bias, mult, shift)
    call = KernelCall(
        "cg_depthwise_conv2d_s8",
        "cg_depthwise_conv2d_s8_params",
        params,
        (
            ("const int8_t *", TensorRef(inp.index)),
            ("const int8_t *", ConstRef(f"l{x}_filter")),
            ("const int32_t *", ConstRef(bias.name)),
            ("int8_t *", TensorRef(out.index)),
            ("int8_t *", ScratchRef()),
        ),
    )
    return Layer(op.index, op.op, dt, (call,), consts, scratch_bytes=i.c, output=out.index)


@lowering(
    "FULLY_CONNECTED",
    dtypes=("int8", "float32", int16.DTYPE),
    kernels=(
        "cg_fully_connected_s8", "cg_fully_connected_dsp_s8", "cg_fully_connected_f32", "cg_fully_connected_s16",
        streamed.FC_KERNEL,
        streamed.FC_SPARSE_KERNEL,
        sparse24.FC_KERNEL,
    ),
)
def fully_connected(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = ctx.expect(op, ir.FullyConnected)
    if int16.is_int16(ctx.input(op, 0)):
        return int16.fully_connected(ctx, op)
    inp, filt, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    dt = same_dtype("FULLY_CONNECTED", inp, filt, out)
    require(len(filt.shape) == 2, f"weights must be 2-D, got shape {list(filt.shape)}")
    units, depth = filt.shape
    require(depth > 0 and inp.size % depth == 0, "input size is not a multiple of the weights depth")
    batches = inp.size // depth
    require(out.size == batches * units, "output size does not match batches x units")
    w = _const_data(ctx, filt, "weights")
    x = op.index
    sizes = (("batches", batches), ("in_depth", depth), ("out_depth", units))
    b = ctx.input(op, 2)
    if dt == "f32":
        consts, bias_ref = _f32_filter_and_bias(ctx, x, w, filt, b)
        call = KernelCall(
            "cg_fully_connected_f32",
            "cg_fully_connected_f32_params",
            (*sizes, *_f32_act(op)),
            (
                ("const float *", TensorRef(inp.index)),
                ("const float *", ConstRef(f"l{x}_filter")),
                ("const float *", bias_ref),
                ("float *", TensorRef(out.index)),
            ),
        )
        return Layer(op.index, op.op, dt, (call,), tuple(consts), output=out.index)
    requant, mult, shift, in_zp = _requant_s8(op, inp, filt, out, units)
    bias = _folded_bias(x, w, _int_bias(ctx, op, units), -in_zp)
    params = (*sizes, *requant)
    tile24 = sparse24.fc_choice(w.reshape(units, depth)) if ctx.dsp else None
    if tile24 is not None:  # issue #16: tile-wise 2:4 weights, only the kept ones multiplied (raw under a codec too)
        tensors = (inp.index, filt.index, out.index)
        return sparse24.fully_connected(x, tile24, depth, params, (bias, mult, shift), tensors)
    if ctx.int8_weights and streamed.sparse_pays(w, ctx.stream_weights):  # issue #16: zeros skipped (stream.py)
        return streamed.fully_connected_sparse(x, w, params, (bias, mult, shift), (inp.index, filt.index, out.index))
    if ctx.stream_weights and streamed.pays(w):  # issue #16: decoded inside the kernel loop (lower/stream.py)
        return streamed.fully_connected(x, w, params, (bias, mult, shift), (inp.index, filt.index, out.index))
    reach = np.abs(bias.values.astype(np.int64)) + 128 * np.abs(w.reshape(units, -1).astype(np.int64)).sum(axis=1)
    if ctx.dsp and fc_pairs_fit(w) and int(reach.max(initial=0)) < FC_DSP_SUM_BOUND:
        # int8 weights packed two units per 16-bit value, no scratch, doubled sums
        shifts, mults = shift.values, mult.values
        in_regs = shifts.size > 0 and -22 <= int(shifts.min()) and int(shifts.max()) <= -1  # SMMULR output stage
        one = in_regs and bool(np.all(shifts == shifts[0]) and np.all(mults == mults[0]))
        table = fc_out_stage(x, mults, shifts, dict(requant)["output_offset"], units) if in_regs and not one else None
        dsp_params = (
            *sizes,
            *(kv for kv in requant if kv[0] != "input_offset"),  # folded into the bias
            ("requant", int(one)),
            ("out_stage", ConstRef(table.name) if table is not None else 0),  # 0: NULL
        )
        call = KernelCall(
            "cg_fully_connected_dsp_s8",
            "cg_fully_connected_dsp_s8_params",
            dsp_params,
            (
                ("const int8_t *", TensorRef(inp.index)),
                ("const int8_t *", ConstRef(f"l{x}_filter")),
                ("const int32_t *", ConstRef(bias.name)),
                ("int8_t *", TensorRef(out.index)),
            ),
        )
        padded = ConstArray(bias.name, 2 * np.pad(bias.values, (0, pad_to(units, 8) - units)), weight=True)
        consts = (ConstArray(f"l{x}_filter", pack_fc_pairs(w), source_tensor=filt.index), padded, mult, shift)
        consts += (table,) if table is not None else ()
        return Layer(op.index, op.op, dt, (call,), consts, output=out.index)
    call = KernelCall(
        "cg_fully_connected_s8",
        "cg_fully_connected_s8_params",
        params,
        (
            ("const int8_t *", TensorRef(inp.index)),
            ("const int8_t *", ConstRef(f"l{x}_filter")),
            ("const int32_t *", ConstRef(bias.name)),
            ("int8_t *", TensorRef(out.index)),
            ("int8_t *", ScratchRef()),
        ),
    )
    stored = interleave_rows(w, FC_S8_GROUP)
    consts = (ConstArray(f"l{x}_filter", stored, source_tensor=filt.index), bias, mult, shift)
    scratch = fully_connected_s8_scratch_bytes(depth)
    return Layer(op.index, op.op, dt, (call,), consts, scratch_bytes=scratch, output=out.index)
