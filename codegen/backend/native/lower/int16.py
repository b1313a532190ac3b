"""16x8 quantization (int16 activations, int8 weights, int64 bias): CONV_2D, DEPTHWISE_CONV_2D,
FULLY_CONNECTED, ADD, SUB, MUL, CONCATENATION, PAD, MEAN, LEAKY_RELU, SOFTMAX, LOGISTIC, TANH, QUANTIZE and
DEQUANTIZE with TFLM's reference int16 arithmetic.

The op families' lowerings (conv.py, elementwise.py, quant.py, shape.py, activation.py, pool.py) dispatch here
when their input is int16. int16 activations have zero point 0 (TFLite's 16x8 scheme); conv and fully
connected accumulate in int64 and requantize with the multiplier reduced to Q15 (``cg_requantize_s64``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from codegen import ir
from codegen.backend.native import prepare, prepare_sigmoid
from codegen.backend.native.kernels import LowerContext
from codegen.backend.native.layers import CFloat, ConstArray, ConstRef, KernelCall, Layer, Literal, TensorRef
from codegen.backend.native.lower.common import concatenation_copies, require, scale_zp, size

#: dtype label of 16x8 kernels in the registries (``codegen ops``)
DTYPE = "int16x8"
INT16_MIN, INT16_MAX = -32768, 32767


def is_int16(t: ir.Tensor | None) -> bool:
    return t is not None and t.dtype is ir.DType.INT16


def activation_range_int16(act: ir.Activation, scale: float, zero_point: int) -> tuple[int, int]:
    """``CalculateActivationRangeQuantized`` for an int16 output."""
    lo, hi = INT16_MIN, INT16_MAX
    q = prepare.quantize_f32
    if act is ir.Activation.NONE:
        return lo, hi
    if act is ir.Activation.RELU:
        return max(lo, q(0.0, scale, zero_point)), hi
    if act is ir.Activation.RELU6:
        return max(lo, q(0.0, scale, zero_point)), min(hi, q(6.0, scale, zero_point))
    if act is ir.Activation.RELU_N1_TO_1:
        return max(lo, q(-1.0, scale, zero_point)), min(hi, q(1.0, scale, zero_point))
    require(False, f"int16 fused activation {act.value} is not implemented")
    return lo, hi


def _activation(op: ir.Operator, what: str, *tensors: ir.Tensor) -> tuple[tuple[float, int], ...]:
    """Scale and zero point of int16 activation tensors, checking the 16x8 scheme (zero point 0)."""
    out = []
    for t in tensors:
        require(is_int16(t), f"{what} mixes int16 with {t.dtype.value} tensors (only 16x8 models are handled)")
        s, z = scale_zp(t)
        require(z == 0, f"int16 tensor {t.index} ({t.name}) has zero point {z}; TFLite's 16x8 scheme needs 0")
        out.append((s, z))
    return tuple(out)


def _weights(t: ir.Tensor, channels: int, what: str) -> tuple[np.ndarray, list[float]]:
    require(t.dtype is ir.DType.INT8, f"16x8 {what} needs int8 weights, got {t.dtype.value}")
    require(t.is_constant, f"{what} weights must be a constant tensor")
    require(t.quant is not None, f"weights tensor {t.index} has no quantization parameters")
    require(all(z == 0 for z in t.quant.zero_point), f"weights tensor {t.index} has a non-zero zero point")
    scales = [float(s) for s in t.quant.scale]
    if len(scales) == 1:
        scales *= channels
    require(len(scales) == channels, f"weights tensor {t.index} has {len(scales)} scales for {channels} channels")
    return t.data, scales


def _requant(op: ir.Operator, in_s: float, w_scales: list[float], out: ir.Tensor) -> tuple[tuple, list[ConstArray]]:
    out_s, _ = scale_zp(out)
    pairs = [prepare.quantize_multiplier(in_s * ws / out_s) for ws in w_scales]
    # TFLM's int64 requantization takes shifts in [-31, 7] (its total shift 15 - shift stays in 8..46)
    require(all(-31 <= sh <= 7 for _, sh in pairs), f"{op.op} rescale factor is outside TFLM's 16x8 range")
    mult = ConstArray(f"l{op.index}_mult", np.array([m for m, _ in pairs], dtype=np.int32), weight=False)
    shift = ConstArray(f"l{op.index}_shift", np.array([s for _, s in pairs], dtype=np.int32), weight=False)
    lo, hi = activation_range_int16(op.activation, out_s, 0)  # type: ignore[attr-defined]
    params = (
        ("input_offset", 0),
        ("output_offset", 0),
        ("act_min", lo),
        ("act_max", hi),
        ("multiplier", ConstRef(mult.name)),
        ("shift", ConstRef(shift.name)),
    )
    return params, [mult, shift]


def _bias(ctx: LowerContext, op: ir.Operator, n: int, index: int = 2) -> tuple[ConstRef | None, list[ConstArray]]:
    b = ctx.input(op, index)
    if b is None:
        return None, []
    require(b.is_constant, "bias must be a constant tensor")
    require(b.dtype is ir.DType.INT64, f"16x8 kernels take an int64 bias, got {b.dtype.value}")
    data = np.asarray(b.data).reshape(-1).astype(np.int64)
    require(data.size == n, f"bias has {data.size} values for {n} channels")
    c = ConstArray(f"l{op.index}_bias", data, source_tensor=b.index)
    return ConstRef(c.name), [c]


@dataclass(frozen=True)
class ConvLike:
    """The 16x8 filter, bias and requantization of a convolution-like layer (``conv_like``)."""

    filter: ConstRef
    bias: ConstRef | None
    params: tuple  # input/output offsets, clamps, per-channel multiplier and shift
    consts: tuple[ConstArray, ...]


def conv_like(ctx: LowerContext, op: ir.Operator, inp: ir.Tensor, filt: ir.Tensor, out: ir.Tensor, channels: int,
              bias_input: int = 2) -> ConvLike:
    """Checks and constants shared by 16x8 layers with an int8 per-channel filter and an int64 bias."""
    ((in_s, _), _) = _activation(op, op.op, inp, out)
    w, scales = _weights(filt, channels, op.op)
    requant, consts = _requant(op, in_s, scales, out)
    bias_ref, bias = _bias(ctx, op, channels, bias_input)
    filt_c = ConstArray(f"l{op.index}_filter", np.ascontiguousarray(w).astype(np.int8), source_tensor=filt.index)
    return ConvLike(ConstRef(filt_c.name), bias_ref, requant, (filt_c, *bias, *consts))


def _geometry(op: ir.Conv2D | ir.DepthwiseConv2D, inp: ir.Tensor, filt: ir.Tensor, out: ir.Tensor):
    from codegen.backend.native.lower.conv import _geometry as geometry

    return geometry(op, inp, filt, out)


def conv2d(ctx: LowerContext, op: ir.Conv2D) -> Layer:
    inp, filt, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    ((in_s, _), _) = _activation(op, "CONV_2D", inp, out)
    i, f, o, geo = _geometry(op, inp, filt, out)
    require(f.c == i.c, f"grouped convolution ({i.c} input channels, filter depth {f.c}) is not implemented")
    require(f.n == o.c, "filter count does not match the output channels")
    w, scales = _weights(filt, f.n, "CONV_2D")
    requant, consts = _requant(op, in_s, scales, out)
    bias_ref, bias = _bias(ctx, op, f.n)
    filt_c = ConstArray(f"l{op.index}_filter", w.astype(np.int8), source_tensor=filt.index)
    call = KernelCall(
        "cg_conv2d_s16",
        "cg_conv2d_s8_params",
        (("input", i), ("filter", f), ("output", o), *geo, *requant),
        (
            ("const int16_t *", TensorRef(inp.index)),
            ("const int8_t *", ConstRef(filt_c.name)),
            ("const int64_t *", bias_ref),
            ("int16_t *", TensorRef(out.index)),
        ),
    )
    return Layer(op.index, op.op, DTYPE, (call,), (filt_c, *bias, *consts), output=out.index)


def depthwise_conv2d(ctx: LowerContext, op: ir.DepthwiseConv2D) -> Layer:
    inp, filt, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    ((in_s, _), _) = _activation(op, "DEPTHWISE_CONV_2D", inp, out)
    i, f, o, geo = _geometry(op, inp, filt, out)
    mult_d = o.c // max(i.c, 1)
    require(o.c == i.c * mult_d and f.c == o.c, "depthwise channel counts do not match")
    w, scales = _weights(filt, o.c, "DEPTHWISE_CONV_2D")
    requant, consts = _requant(op, in_s, scales, out)
    bias_ref, bias = _bias(ctx, op, o.c)
    filt_c = ConstArray(f"l{op.index}_filter", w.astype(np.int8), source_tensor=filt.index)
    call = KernelCall(
        "cg_depthwise_conv2d_s16",
        "cg_depthwise_conv2d_s8_params",
        (("input", i), ("filter", f), ("output", o), *geo, ("depth_multiplier", mult_d), *requant),
        (
            ("const int16_t *", TensorRef(inp.index)),
            ("const int8_t *", ConstRef(filt_c.name)),
            ("const int64_t *", bias_ref),
            ("int16_t *", TensorRef(out.index)),
        ),
    )
    return Layer(op.index, op.op, DTYPE, (call,), (filt_c, *bias, *consts), output=out.index)


def fully_connected(ctx: LowerContext, op: ir.FullyConnected) -> Layer:
    inp, filt, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    ((in_s, _), _) = _activation(op, "FULLY_CONNECTED", inp, out)
    require(len(filt.shape) == 2, f"weights must be 2-D, got shape {list(filt.shape)}")
    units, depth = filt.shape
    require(depth > 0 and inp.size % depth == 0, "input size is not a multiple of the weights depth")
    batches = inp.size // depth
    require(out.size == batches * units, "output size does not match batches x units")
    w, scales = _weights(filt, units, "FULLY_CONNECTED")
    requant, consts = _requant(op, in_s, scales, out)
    bias_ref, bias = _bias(ctx, op, units)
    filt_c = ConstArray(f"l{op.index}_filter", w.astype(np.int8), source_tensor=filt.index)
    call = KernelCall(
        "cg_fully_connected_s16",
        "cg_fully_connected_s8_params",
        (("batches", batches), ("in_depth", depth), ("out_depth", units), *requant),
        (
            ("const int16_t *", TensorRef(inp.index)),
            ("const int8_t *", ConstRef(filt_c.name)),
            ("const int64_t *", bias_ref),
            ("int16_t *", TensorRef(out.index)),
        ),
    )
    return Layer(op.index, op.op, DTYPE, (call,), (filt_c, *bias, *consts), output=out.index)


def _operands(op: ir.Operator, *tensors: ir.Tensor) -> tuple[list[TensorRef | ConstRef], tuple[ConstArray, ...]]:
    """Arena references for activations, constant int16 arrays for constant operands (e.g. ``x * 0.5``)."""
    refs: list[TensorRef | ConstRef] = []
    consts = []
    for k, t in enumerate(tensors):
        if t.is_constant:
            require(t.data is not None, f"{op.op} constant operand {t.index} has no data")
            c = ConstArray(f"l{op.index}_in{k}", np.ascontiguousarray(t.data).astype(np.int16).reshape(-1),
                           source_tensor=t.index)
            consts.append(c)
            refs.append(ConstRef(c.name))
        else:
            refs.append(TensorRef(t.index))
    return refs, tuple(consts)


def add_sub(ctx: LowerContext, op: ir.Operator, shape: tuple, subtract: bool) -> Layer:
    """int16 ADD / SUB: TFLM's int8 arithmetic with 15 bits of headroom instead of 20."""
    a, b, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    (s1, _), (s2, _), (so, _) = _activation(op, op.op, a, b, out)
    (ra, rb), consts = _operands(op, a, b)
    left_shift = 15
    twice_max = 2 * max(s1, s2)
    m1, sh1 = prepare.quantize_multiplier(s1 / twice_max)
    m2, sh2 = prepare.quantize_multiplier(s2 / twice_max)
    mo, sho = prepare.quantize_multiplier(twice_max / ((1 << left_shift) * so))
    lo, hi = activation_range_int16(op.activation, so, 0)  # type: ignore[attr-defined]
    params = (
        ("shape", shape),
        ("input1_offset", 0),
        ("input2_offset", 0),
        ("output_offset", 0),
        ("left_shift", left_shift),
        ("input1_multiplier", m1),
        ("input1_shift", sh1),
        ("input2_multiplier", m2),
        ("input2_shift", sh2),
        ("output_multiplier", mo),
        ("output_shift", sho),
        ("act_min", lo),
        ("act_max", hi),
        ("subtract", 1 if subtract else 0),
    )
    call = KernelCall(
        "cg_add_s16",
        "cg_add_s8_params",
        params,
        (
            ("const int16_t *", ra),
            ("const int16_t *", rb),
            ("int16_t *", TensorRef(out.index)),
        ),
    )
    require(size(out.shape) > 0, f"{op.op} output is empty")
    return Layer(op.index, op.op, DTYPE, (call,), consts, output=out.index)


_CTYPE = {ir.DType.INT8: ("int8_t", "s8", (-128, 127)), ir.DType.INT16: ("int16_t", "s16", (INT16_MIN, INT16_MAX))}


def quantize(ctx: LowerContext, op: ir.Operator) -> Layer:
    """QUANTIZE float32 -> int16 (AffineQuantize) and int16 <-> int8 / int16 -> int16 (Requantize)."""
    from codegen.backend.native.lower.activation import requant_params

    inp, out = ctx.required(op, 0), ctx.output(op)
    if inp.dtype is ir.DType.FLOAT32:
        require(out.dtype is ir.DType.INT16, f"QUANTIZE to {out.dtype.value} is not implemented")
        out_s, out_zp = scale_zp(out)
        call = KernelCall(
            "cg_quantize_s16",
            "cg_affine_params",
            (("size", inp.size), ("scale", CFloat(out_s)), ("zero_point", out_zp)),
            (("const float *", TensorRef(inp.index)), ("int16_t *", TensorRef(out.index))),
        )
        return Layer(op.index, op.op, DTYPE, (call,), output=out.index)
    require(
        inp.dtype in _CTYPE and out.dtype in _CTYPE,
        f"QUANTIZE {inp.dtype.value} -> {out.dtype.value} is not implemented",
    )
    (ci, ki, _), (co, ko, (lo, hi)) = _CTYPE[inp.dtype], _CTYPE[out.dtype]
    kernel = "cg_requantize_s16" if ki == ko else f"cg_requantize_{ki}_{ko}"
    params = requant_params(inp.size, scale_zp(inp), scale_zp(out), lo, hi)
    call = KernelCall(
        kernel,
        "cg_requant_s8_params",
        params,
        ((f"const {ci} *", TensorRef(inp.index)), (f"{co} *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, DTYPE, (call,), output=out.index)


def dequantize(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out = ctx.required(op, 0), ctx.output(op)
    require(out.dtype is ir.DType.FLOAT32, f"DEQUANTIZE int16 -> {out.dtype.value} is not implemented")
    s, zp = scale_zp(inp)
    call = KernelCall(
        "cg_dequantize_s16",
        "cg_affine_params",
        (("size", inp.size), ("scale", CFloat(s)), ("zero_point", zp)),
        (("const int16_t *", TensorRef(inp.index)), ("float *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, DTYPE, (call,), output=out.index)


def concatenation(ctx: LowerContext, op: ir.Concatenation) -> Layer:
    """int16 CONCATENATION: a copy per input (TFLM copies int16 values, so every scale must match)."""
    out = ctx.output(op)
    ins = [ctx.required(op, k) for k in range(len(op.inputs))]
    scales = _activation(op, "CONCATENATION", *ins, out)
    require(len(set(scales)) == 1, "int16 CONCATENATION of inputs with different scales is not implemented")
    return Layer(op.index, op.op, DTYPE, concatenation_copies(op, ins, out, "s16", "int16_t"), output=out.index)


def mul(ctx: LowerContext, op: ir.Operator, shape: tuple) -> Layer:
    """int16 MUL: TFLM's MulElementwise (product of the raw values, one requantization)."""
    a, b, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    (s1, _), (s2, _), (so, _) = _activation(op, "MUL", a, b, out)
    (ra, rb), consts = _operands(op, a, b)
    mo, sho = prepare.quantize_multiplier(s1 * s2 / so)
    lo, hi = activation_range_int16(op.activation, so, 0)  # type: ignore[attr-defined]
    params = (
        ("shape", shape),
        ("input1_offset", 0),
        ("input2_offset", 0),
        ("output_offset", 0),
        ("output_multiplier", mo),
        ("output_shift", sho),
        ("act_min", lo),
        ("act_max", hi),
    )
    call = KernelCall(
        "cg_mul_s16",
        "cg_mul_s8_params",
        params,
        (
            ("const int16_t *", ra),
            ("const int16_t *", rb),
            ("int16_t *", TensorRef(out.index)),
        ),
    )
    return Layer(op.index, op.op, DTYPE, (call,), consts, output=out.index)


def mean(ctx: LowerContext, op: ir.Operator, i: tuple) -> Layer:
    """int16 MEAN over H and W (``i``: the NHWC input dims): TFLM's QuantizedMeanOrSum with int16 clamps."""
    inp, out = ctx.required(op, 0), ctx.output(op)
    (in_s, _), (out_s, _) = _activation(op, "MEAN", inp, out)
    hw = i.h * i.w  # type: ignore[attr-defined]
    require(hw <= (2**31 - 1) // 32768, f"int16 MEAN over {hw} values overflows the int32 sum")
    mult, shift = prepare.mean_multiplier(in_s / out_s, hw)
    params = (
        ("input", i),
        ("input_zero_point", 0),
        ("output_zero_point", 0),
        ("multiplier", mult),
        ("shift", shift),
    )
    call = KernelCall(
        "cg_mean_s16",
        "cg_mean_s8_params",
        params,
        (("const int16_t *", TensorRef(inp.index)), ("int16_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, DTYPE, (call,), output=out.index)


def pad(ctx: LowerContext, op: ir.Operator, dims: tuple, before: tuple, after: tuple) -> Layer:
    """int16 PAD with the output zero point (0 in the 16x8 scheme); ``dims``/``before``/``after`` are 4-D."""
    inp, out = ctx.required(op, 0), ctx.output(op)
    (si, _), (so, _) = _activation(op, "PAD", inp, out)
    require(si == so, "PAD with different input and output quantization")
    call = KernelCall(
        "cg_pad_s16",
        "cg_pad_params",
        (("in_dims", dims), ("before", before), ("after", after)),
        (("", Literal("0")), ("const int16_t *", TensorRef(inp.index)), ("int16_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, DTYPE, (call,), output=out.index)


def leaky_relu(ctx: LowerContext, op: ir.LeakyRelu) -> Layer:
    """int16 LEAKY_RELU: TFLM's multipliers (input scale * alpha in float32, divisions in double)."""
    inp, out = ctx.required(op, 0), ctx.output(op)
    (in_s, _), (out_s, _) = _activation(op, "LEAKY_RELU", inp, out)
    f = np.float32
    ma, sa = prepare.quantize_multiplier(float(f(f(in_s) * f(op.alpha))) / float(f(out_s)))
    mi, si = prepare.quantize_multiplier(float(f(in_s)) / float(f(out_s)))
    params = (
        ("size", inp.size),
        ("input_zero_point", 0),
        ("output_zero_point", 0),
        ("multiplier_alpha", ma),
        ("shift_alpha", sa),
        ("multiplier_identity", mi),
        ("shift_identity", si),
    )
    call = KernelCall(
        "cg_leaky_relu_s16",
        "cg_leaky_relu_s8_params",
        params,
        (("const int16_t *", TensorRef(inp.index)), ("int16_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, DTYPE, (call,), output=out.index)


def _round(x: np.float32) -> np.float32:
    """TfLiteRound on a float: half away from zero (exact in double for these magnitudes)."""
    v = float(x)
    return np.float32(math.copysign(math.floor(abs(v) + 0.5), v))


def gen_lut(func, in_min: float, in_max: float) -> np.ndarray:  # noqa: ANN001
    """TFLM's ``gen_lut<float, int16_t, int16_t>`` with output range [-1, 1]: 512 segments plus the end value,
    each sample corrected by half the midpoint interpolation error; float32 arithmetic throughout."""
    f = np.float32
    lo, hi = f(in_min), f(in_max)
    steps = 512
    step = f((hi - lo) / f(steps))
    half = f(step / f(2))
    inv = f(f(65536) / f(f(1) - f(-1)))
    lut = np.zeros(steps + 1, dtype=np.int16)
    for i in range(steps):
        x = f(lo + f(f(i) * step))
        val, mid, nxt = func(x), func(f(x + half)), func(f(lo + f(f(i + 1) * step)))
        sample = _round(f(val * inv))
        interp = _round(f(f(f(nxt * inv) + sample) / f(2)))
        err = f(interp - _round(f(mid * inv)))
        bias = _round(f(err / f(2)))
        lut[i] = int(min(max(float(f(sample - bias)), INT16_MIN), INT16_MAX))
    lut[steps] = int(min(max(float(_round(f(func(hi) * inv))), INT16_MIN), INT16_MAX))
    return lut


def _expf(x: np.float32) -> np.float32:
    return np.float32(math.exp(float(x)))


def _one_over_one_plus_x(x: np.float32) -> np.float32:
    return np.float32(np.float32(1) / np.float32(np.float32(1) + x))


def softmax(ctx: LowerContext, op: ir.Softmax) -> Layer:
    """int16 SOFTMAX: TFLM's SoftmaxInt16 with its two interpolated tables."""
    inp, out = ctx.required(op, 0), ctx.output(op)
    (in_s, _), (out_s, _) = _activation(op, "SOFTMAX", inp, out)
    require(abs(out_s - 1 / 32768) <= 0.001 / 32768, "int16 SOFTMAX needs output scale 1/32768 (as TFLM)")
    depth = inp.shape[-1] if inp.shape else 1
    rows = inp.size // max(depth, 1)
    f = np.float32
    mult, shift = prepare.quantize_multiplier(float(f(in_s)) * float(f(op.beta)) / (10.0 / 65535.0))
    exp_lut = ConstArray(f"l{op.index}_exp_lut", gen_lut(_expf, -10.0, 0.0), weight=False)
    rec_lut = ConstArray(f"l{op.index}_recip_lut", gen_lut(_one_over_one_plus_x, 0.0, 1.0), weight=False)
    params = (
        ("rows", rows),
        ("depth", depth),
        ("input_multiplier", mult),
        ("input_left_shift", shift),
        ("exp_lut", ConstRef(exp_lut.name)),
        ("one_over_one_plus_x_lut", ConstRef(rec_lut.name)),
    )
    call = KernelCall(
        "cg_softmax_s16",
        "cg_softmax_s16_params",
        params,
        (("const int16_t *", TensorRef(inp.index)), ("int16_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, DTYPE, (call,), (exp_lut, rec_lut), output=out.index)


def sigmoid(ctx: LowerContext, op: ir.Operator, tanh: bool) -> Layer:
    """int16 LOGISTIC / TANH: TFLM's interpolated sigmoid table (``prepare_sigmoid``) and input rescaling."""
    inp, out = ctx.required(op, 0), ctx.output(op)
    (in_s, _), (out_s, _) = _activation(op, op.op, inp, out)
    require(inp.size == out.size, f"{op.op} changes the number of elements")
    out_log2, out_pot = prepare_sigmoid.checked_log2(out_s)
    require(out_pot and out_log2 == -15, f"int16 {op.op} needs output scale 1/32768 (as TFLM), got {out_s:g}")
    mult, shift = prepare_sigmoid.input_rescale(in_s, tanh)
    # TFLM computes input * multiplier + rounding in int32: larger multipliers overflow (input scales above ~5)
    require(1 <= mult <= 65535, f"int16 {op.op} input scale {in_s:g} is outside TFLM's int32 arithmetic range")
    table = ConstArray(f"l{op.index}_sigmoid_table", prepare_sigmoid.sigmoid_table(), weight=False)
    kind = "tanh" if tanh else "logistic"
    call = KernelCall(
        f"cg_{kind}_s16",
        "cg_sigmoid_s16_params",
        (
            ("size", inp.size),
            ("input_multiplier", mult),
            ("input_right_shift", shift),
            ("sigmoid_table", ConstRef(table.name)),
        ),
        (("const int16_t *", TensorRef(inp.index)), ("int16_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, DTYPE, (call,), (table,), output=out.index)


__all__ = [
    "DTYPE", "ConvLike", "add_sub", "concatenation", "conv2d", "conv_like", "depthwise_conv2d", "dequantize",
    "fully_connected", "is_int16", "leaky_relu", "mean", "mul", "pad", "quantize", "sigmoid", "softmax",
]
