"""PRELU, SQUARED_DIFFERENCE, EXP and RSQRT (int8, float32) and BATCH_MATMUL: TFLM's Prepare arithmetic in Python
(int8 EXP: TFLite's lookup table, as TFLM has no int8 EXP)."""

from __future__ import annotations

from typing import cast

import numpy as np

from codegen import ir
from codegen.backend.native import bounds, prepare, prepare_rsqrt
from codegen.backend.native.kernels import LowerContext, Unsupported, lowering
from codegen.backend.native.layers import CFloat, ConstArray, ConstRef, KernelCall, Layer, Operand, TensorRef
from codegen.backend.native.lower.common import require, same_dtype, scale_zp
from codegen.backend.native.lower.elementwise import broadcast_params


def _operands(op: ir.Operator, ts: tuple[ir.Tensor, ...]) -> tuple[list[Operand], tuple[ConstArray, ...]]:
    """Arena references for activations, constant arrays for constant inputs."""
    consts, operands = [], []
    for k, t in enumerate(ts):
        if t.data is not None:
            c = ConstArray(f"l{op.index}_in{k}", np.ascontiguousarray(t.data).astype(t.dtype.np).reshape(-1),
                           source_tensor=t.index)
            consts.append(c)
            operands.append(ConstRef(c.name))
        else:
            operands.append(TensorRef(t.index))
    return operands, tuple(consts)


def _binary_io(ctx: LowerContext, op: ir.Operator) -> tuple[ir.Tensor, ir.Tensor, ir.Tensor, str]:
    a, b, out = ctx.input(op, 0), ctx.input(op, 1), ctx.output(op)
    if a is None or b is None:
        raise Unsupported(f"{op.op} needs two inputs")
    return a, b, out, same_dtype(op.op, a, b, out)


def _binary_call(op: ir.Operator, kernel: str, ptype: str, params: tuple, a: ir.Tensor, b: ir.Tensor,
                 out: ir.Tensor, dt: str) -> Layer:
    ctype = {"f32": "float", "s16": "int16_t"}.get(dt, "int8_t")
    operands, consts = _operands(op, (a, b))
    call = KernelCall(kernel, ptype, params, ((f"const {ctype} *", operands[0]), (f"const {ctype} *", operands[1]),
                                               (f"{ctype} *", TensorRef(out.index))))
    return Layer(op.index, op.op, dt, (call,), consts, output=out.index)


@lowering("PRELU", dtypes=("int8", "float32"), kernels=("cg_prelu_s8", "cg_prelu_f32"))
def prelu(ctx: LowerContext, op: ir.Operator) -> Layer:
    x, alpha, out, dt = _binary_io(ctx, op)
    shape = broadcast_params(x.shape, alpha.shape, out.shape)
    if dt == "f32":
        return _binary_call(op, "cg_prelu_f32", "cg_broadcast_params", shape, x, alpha, out, dt)
    (s_in, z_in), (s_a, z_a), (s_out, z_out) = scale_zp(x), scale_zp(alpha), scale_zp(out)
    m1, sh1 = prepare.quantize_multiplier(s_in / s_out)
    m2, sh2 = prepare.quantize_multiplier(s_in * s_a / s_out)
    params = (("shape", shape), ("input_offset", -z_in), ("alpha_offset", -z_a), ("output_offset", z_out),
              ("multiplier_1", m1), ("shift_1", sh1), ("multiplier_2", m2), ("shift_2", sh2))
    return _binary_call(op, "cg_prelu_s8", "cg_prelu_s8_params", params, x, alpha, out, dt)


@lowering("SQUARED_DIFFERENCE", dtypes=("int8", "float32", "int16x8"),
          kernels=("cg_squared_difference_s8", "cg_squared_difference_f32", "cg_squared_difference_s16"))
def squared_difference(ctx: LowerContext, op: ir.Operator) -> Layer:
    s16 = all(t is not None and t.dtype is ir.DType.INT16 for t in (ctx.input(op, 0), ctx.input(op, 1), ctx.output(op)))
    if s16:  # 16x8: the int8 arithmetic with no left shift (the squared int16 difference fills 31 bits)
        a, b, out, dt = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op), "s16"
    else:
        a, b, out, dt = _binary_io(ctx, op)
    shape = broadcast_params(a.shape, b.shape, out.shape)
    if dt == "f32":
        return _binary_call(op, "cg_squared_difference_f32", "cg_broadcast_params", shape, a, b, out, dt)
    (s1, z1), (s2, z2), (so, zo) = scale_zp(a), scale_zp(b), scale_zp(out)
    if s16:
        require(z1 == z2 == zo == 0, "int16 SQUARED_DIFFERENCE needs zero points of 0 (TFLite's 16x8 scheme)")
    left_shift = 0 if s16 else 7
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = prepare.quantize_multiplier(s1 / twice_max)
    m2, sh2 = prepare.quantize_multiplier(s2 / twice_max)
    # TFLM: (1 << 14) * output_scale is computed in float32 (exact: a power of two)
    mo, sho = prepare.quantize_multiplier(twice_max * twice_max / float(np.float32((1 << 2 * left_shift) * so)))
    params = (("shape", shape), ("input1_offset", -z1), ("input2_offset", -z2), ("output_offset", zo),
              ("left_shift", left_shift), ("input1_multiplier", m1), ("input1_shift", sh1),
              ("input2_multiplier", m2), ("input2_shift", sh2), ("output_multiplier", mo), ("output_shift", sho))
    return _binary_call(op, f"cg_squared_difference_{dt}", "cg_squared_difference_s8_params", params, a, b, out, dt)


def _unary_f32(ctx: LowerContext, op: ir.Operator, kind: str) -> Layer:
    inp, out = ctx.input(op, 0), ctx.output(op)
    if inp is None:
        raise Unsupported(f"{op.op} has no input")
    dt = same_dtype(op.op, inp, out)
    require(dt == "f32", f"int8 {op.op} is not implemented (float32 only)")
    require(inp.size == out.size, f"{op.op} changes the number of elements")
    call = KernelCall(f"cg_{kind}_f32", "cg_unary_f32_params", (("size", inp.size), ("alpha", CFloat(0.0))),
                      (("const float *", TensorRef(inp.index)), ("float *", TensorRef(out.index))))
    return Layer(op.index, op.op, dt, (call,), output=out.index)


def exp_table(s_in: float, z_in: int, s_out: float, z_out: int) -> np.ndarray:
    """int8 EXP for every input code, as TFLite's ``LUTPopulate<int8_t>`` with ``std::exp``: float32 arithmetic
    (input_scale * (q - zero_point), expf, * (1 / output_scale), round half away from zero, + zero point), then
    clamped to int8. Values beyond int32 saturate to 127 (the reference's float-to-int conversion is undefined
    there)."""
    f = np.float32
    codes = np.arange(-128, 128)
    x = f(s_in) * (codes - z_in).astype(np.float32)
    with np.errstate(over="ignore"):
        y = np.exp(x.astype(np.float64)).astype(np.float32)  # expf, correctly rounded
        scaled = y * (f(1) / f(s_out))
    wide = scaled.astype(np.float64)  # std::round: exact in double for float32 values
    rounded = (np.sign(wide) * np.floor(np.abs(wide) + 0.5)).astype(np.float32)
    q = np.clip((rounded + f(z_out)).astype(np.float64), -128, 127)
    return q.astype(np.int8)


@lowering("EXP", dtypes=("int8", "float32"), kernels=("cg_lut_s8", "cg_exp_f32"))
def exp(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out = ctx.input(op, 0), ctx.output(op)
    if inp is None or inp.dtype is not ir.DType.INT8:
        return _unary_f32(ctx, op, "exp")
    require(same_dtype(op.op, inp, out) == "s8" and inp.size == out.size, "int8 EXP changes type or size")
    (s_in, z_in), (s_out, z_out) = scale_zp(inp), scale_zp(out)
    table = ConstArray(f"l{op.index}_table", exp_table(s_in, z_in, s_out, z_out), weight=False)
    call = KernelCall("cg_lut_s8", "cg_lut_s8_params", (("size", inp.size), ("table", ConstRef(table.name))),
                      (("const int8_t *", TensorRef(inp.index)), ("int8_t *", TensorRef(out.index))))
    return Layer(op.index, op.op, "s8", (call,), (table,), output=out.index)


@lowering("RSQRT", dtypes=("int8", "float32"), kernels=("cg_lut_s8", "cg_rsqrt_f32"))
def rsqrt(ctx: LowerContext, op: ir.Operator) -> Layer:
    inp, out = ctx.input(op, 0), ctx.output(op)
    if inp is None or inp.dtype is not ir.DType.INT8:
        return _unary_f32(ctx, op, "rsqrt")
    require(same_dtype(op.op, inp, out) == "s8" and inp.size == out.size, "int8 RSQRT changes type or size")
    (s_in, z_in), (s_out, z_out) = scale_zp(inp), scale_zp(out)
    table = ConstArray(f"l{op.index}_table", prepare_rsqrt.rsqrt_table(s_in, z_in, s_out, z_out), weight=False)
    call = KernelCall("cg_lut_s8", "cg_lut_s8_params", (("size", inp.size), ("table", ConstRef(table.name))),
                      (("const int8_t *", TensorRef(inp.index)), ("int8_t *", TensorRef(out.index))))
    return Layer(op.index, op.op, "s8", (call,), (table,), output=out.index)


@bounds.extent("cg_lut_s8_params")
def _lut_extent(p: bounds.Params) -> bounds.Extents:
    return bounds.Extents((p["size"], p["size"]), {"table": 256})


@bounds.extent("cg_prelu_s8_params", "cg_squared_difference_s8_params")
def _extent(p: bounds.Params) -> bounds.Extents:
    return bounds.Extents(bounds._broadcast_extents(p["shape"]))


def _matmul_views(op: ir.BatchMatMul, a: ir.Tensor, b: ir.Tensor, out: ir.Tensor) -> tuple:
    """Batch broadcast and the strides of lhs (i, k) and rhs (k, j), as ``cg_batch_matmul_params`` fields."""
    require(2 <= len(a.shape) <= 5 and 2 <= len(b.shape) <= 5, "BATCH_MATMUL needs rank 2 to 5 operands")
    la, lb = (1,) * (5 - len(a.shape)) + tuple(a.shape), (1,) * (5 - len(b.shape)) + tuple(b.shape)
    rows, depth = (la[4], la[3]) if op.adj_x else (la[3], la[4])
    depth_b, cols = (lb[4], lb[3]) if op.adj_y else (lb[3], lb[4])
    require(depth == depth_b, f"BATCH_MATMUL depths {depth} and {depth_b} differ")
    batches, sa, sb = [], [], []
    mat_a, mat_b = la[3] * la[4], lb[3] * lb[4]
    acc_a, acc_b = mat_a, mat_b
    strides_a, strides_b = [0, 0, 0], [0, 0, 0]
    for d in (2, 1, 0):
        require(la[d] == lb[d] or 1 in (la[d], lb[d]), "BATCH_MATMUL batch dimensions do not broadcast")
        strides_a[d] = acc_a if la[d] != 1 else 0
        strides_b[d] = acc_b if lb[d] != 1 else 0
        acc_a *= la[d]
        acc_b *= lb[d]
    batches = [max(la[d], lb[d]) for d in range(3)]
    sa, sb = strides_a, strides_b
    require(int(np.prod(batches)) * rows * cols == out.size, "BATCH_MATMUL output size differs")
    lhs = (la[4], 1) if not op.adj_x else (1, la[4])  # (row stride, depth stride)
    rhs = (lb[4], 1) if not op.adj_y else (1, lb[4])  # (depth stride, col stride)
    return (("batches", tuple(batches)), ("lhs_batch_stride", tuple(sa)), ("rhs_batch_stride", tuple(sb)),
            ("rows", rows), ("cols", cols), ("depth", depth), ("lhs_row_stride", lhs[0]),
            ("lhs_depth_stride", lhs[1]), ("rhs_depth_stride", rhs[0]), ("rhs_col_stride", rhs[1]))


def _batch_matmul_s16(ctx: LowerContext, op: ir.BatchMatMul) -> Layer:
    """16x8 BATCH_MATMUL: int64 accumulator, multiplier reduced to Q15 (TFLM's int16 path)."""
    a, b, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    require(all(t.dtype is ir.DType.INT16 for t in (a, b, out)), "BATCH_MATMUL mixes int16 with other types")
    (s_a, z_a), (s_b, z_b), (s_o, z_o) = scale_zp(a), scale_zp(b), scale_zp(out)
    require(z_a == z_b == z_o == 0, "int16 BATCH_MATMUL needs zero points of 0 (TFLite's 16x8 scheme)")
    m, sh = prepare.quantize_multiplier(s_a * s_b / s_o)
    require(-31 <= sh <= 7, "int16 BATCH_MATMUL rescale factor is outside TFLM's 16x8 range")
    quant = (("lhs_offset", 0), ("rhs_offset", 0), ("output_offset", 0), ("multiplier", m), ("shift", sh))
    operands, consts = _operands(op, (a, b))
    call = KernelCall("cg_batch_matmul_s16", "cg_batch_matmul_params", (*_matmul_views(op, a, b, out), *quant),
                      (("const int16_t *", operands[0]), ("const int16_t *", operands[1]),
                       ("int16_t *", TensorRef(out.index))))
    return Layer(op.index, op.op, "int16x8", (call,), consts, output=out.index)


@lowering("BATCH_MATMUL", dtypes=("int8", "float32", "int16x8"),
          kernels=("cg_batch_matmul_s8", "cg_batch_matmul_f32", "cg_batch_matmul_s16"))
def batch_matmul(ctx: LowerContext, op: ir.Operator) -> Layer:
    mm = cast(ir.BatchMatMul, op)
    if ctx.required(op, 0).dtype is ir.DType.INT16:
        return _batch_matmul_s16(ctx, mm)
    a, b, out, dt = _binary_io(ctx, op)
    views = _matmul_views(mm, a, b, out)
    if dt == "f32":
        quant: tuple = (("lhs_offset", 0), ("rhs_offset", 0), ("output_offset", 0), ("multiplier", 0), ("shift", 0))
    else:
        (s_a, z_a), (s_b, z_b), (s_o, z_o) = scale_zp(a), scale_zp(b), scale_zp(out)
        m, sh = prepare.quantize_multiplier(s_a * s_b / s_o)
        quant = (("lhs_offset", -z_a), ("rhs_offset", -z_b), ("output_offset", z_o), ("multiplier", m), ("shift", sh))
    return _binary_call(op, f"cg_batch_matmul_{dt}", "cg_batch_matmul_params", (*views, *quant), a, b, out, dt)


@bounds.extent("cg_batch_matmul_params")
def _matmul_extent(p: bounds.Params) -> bounds.Extents:
    n = p["batches"][0] * p["batches"][1] * p["batches"][2] * p["rows"] * p["cols"]
    if n == 0:
        return bounds.Extents((0, 0, 0))

    def reach(strides: tuple, i_stride: int, k_stride: int, i_n: int) -> int:
        return 1 + sum((p["batches"][d] - 1) * strides[d] for d in range(3)) + (i_n - 1) * i_stride + (
            p["depth"] - 1) * k_stride

    a = reach(p["lhs_batch_stride"], p["lhs_row_stride"], p["lhs_depth_stride"], p["rows"])
    b = reach(p["rhs_batch_stride"], p["rhs_col_stride"], p["rhs_depth_stride"], p["cols"])
    return bounds.Extents((a, b, n))
