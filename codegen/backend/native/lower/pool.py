"""AVERAGE_POOL_2D, MAX_POOL_2D and MEAN (global average pooling over H and W)."""

from __future__ import annotations

from codegen import ir
from codegen.backend.native import prepare
from codegen.backend.native.kernels import LowerContext, lowering
from codegen.backend.native.layers import CFloat, KernelCall, Layer, TensorRef
from codegen.backend.native.lower import int16
from codegen.backend.native.lower.common import nhwc, require, same_dtype, scale_zp

AVG_DSP_MAX_WIDTH = 255  # CG_AVG_SPILL of cg_avgpool_dsp_s8.c


def _pool(ctx: LowerContext, op: ir.Operator, kind: str) -> Layer:
    op = ctx.expect(op, ir.Pool2D)
    inp, out = ctx.required(op, 0), ctx.output(op)
    dt = same_dtype(op.op, inp, out)
    i, o = nhwc(inp.shape, "input"), nhwc(out.shape, "output")
    require(i.c == o.c and i.n == o.n, "pooling changes the batch or channel count")
    pad_h = prepare.padding_before(op.padding, i.h, op.filter_h, op.stride_h, 1, o.h)
    pad_w = prepare.padding_before(op.padding, i.w, op.filter_w, op.stride_w, 1, o.w)
    require(
        op.activation
        in (ir.Activation.NONE, ir.Activation.RELU, ir.Activation.RELU6, ir.Activation.RELU_N1_TO_1),
        f"fused activation {op.activation.value} is not implemented",
    )
    geo = (
        ("input", i),
        ("output", o),
        ("filter_h", op.filter_h),
        ("filter_w", op.filter_w),
        ("stride_h", op.stride_h),
        ("stride_w", op.stride_w),
        ("pad_h", pad_h),
        ("pad_w", pad_w),
    )
    if dt == "f32":
        lo, hi = prepare.activation_range_f32(op.activation)
        params = (*geo, ("act_min", CFloat(lo)), ("act_max", CFloat(hi)))
        ptype, ctype = "cg_pool_f32_params", "float"
    else:
        in_q, out_q = scale_zp(inp), scale_zp(out)
        require(in_q == out_q, f"{op.op} with different input and output quantization is not implemented")
        lo, hi = prepare.activation_range_int8(op.activation, *out_q)
        params = (*geo, ("act_min", lo), ("act_max", hi))
        ptype, ctype = "cg_pool_s8_params", "int8_t"
    # DSP variants: four channels per word (the average's 16-bit sums take at most 255 values per window row)
    dsp = dt == "s8" and ctx.dsp and (kind == "maxpool" or op.filter_w <= AVG_DSP_MAX_WIDTH)
    call = KernelCall(
        f"cg_{kind}_dsp_s8" if dsp else f"cg_{kind}_{dt}",
        ptype,
        params,
        ((f"const {ctype} *", TensorRef(inp.index)), (f"{ctype} *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, dt, (call,), output=out.index)


@lowering(
    "AVERAGE_POOL_2D", dtypes=("int8", "float32"), kernels=("cg_avgpool_s8", "cg_avgpool_dsp_s8", "cg_avgpool_f32")
)
def average_pool(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _pool(ctx, op, "avgpool")


@lowering(
    "MAX_POOL_2D", dtypes=("int8", "float32"), kernels=("cg_maxpool_s8", "cg_maxpool_dsp_s8", "cg_maxpool_f32")
)
def max_pool(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _pool(ctx, op, "maxpool")


#: Largest H*W whose int8 sum (|x| <= 128 each) fits the kernel's int32 accumulator.
MEAN_MAX_COUNT = (2**31 - 1) // 256


@lowering("MEAN", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_mean_s8", "cg_mean_f32", "cg_mean_s16"))
def mean(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, axes_t, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    dt = "int16" if int16.is_int16(inp) else same_dtype("MEAN", inp, out)
    require(axes_t is not None and axes_t.is_constant, "MEAN needs constant axes")
    rank = len(inp.shape)
    axes = sorted({int(a) % rank for a in axes_t.data.reshape(-1)})
    require(
        (rank == 4 and axes == [1, 2]) or (rank == 3 and axes == [1]),
        f"MEAN over axes {axes} of a rank-{rank} tensor is not implemented "
        "(only global average pooling over H and W, or over the steps of a sequence)",
    )
    # a sequence [N, T, C] averaged over T is the NHWC [N, T, 1, C] averaged over H and W
    i = nhwc(inp.shape if rank == 4 else (inp.shape[0], inp.shape[1], 1, inp.shape[2]), "input")
    if dt == "int16":
        return int16.mean(ctx, op, i)
    if dt == "f32":
        call = KernelCall(
            "cg_mean_f32",
            "cg_mean_f32_params",
            (("input", i),),
            (("const float *", TensorRef(inp.index)), ("float *", TensorRef(out.index))),
        )
        return Layer(op.index, op.op, dt, (call,), output=out.index)
    require(i.h * i.w <= MEAN_MAX_COUNT, f"MEAN over {i.h * i.w} values overflows the int32 sum")
    (in_s, in_zp), (out_s, out_zp) = scale_zp(inp), scale_zp(out)
    # TFLM rescales with input_scale / output_scale in every case (equal quantization included: it rounds)
    mult, shift = prepare.mean_multiplier(in_s / out_s, i.h * i.w)
    params = (
        ("input", i),
        ("input_zero_point", in_zp),
        ("output_zero_point", out_zp),
        ("multiplier", mult),
        ("shift", shift),
    )
    call = KernelCall(
        "cg_mean_s8",
        "cg_mean_s8_params",
        params,
        (("const int8_t *", TensorRef(inp.index)), ("int8_t *", TensorRef(out.index))),
    )
    return Layer(op.index, op.op, dt, (call,), output=out.index)
