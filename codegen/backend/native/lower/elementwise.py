"""ADD, SUB and MUL with broadcasting, and CONCATENATION."""

from __future__ import annotations

import numpy as np

from codegen import ir
from codegen.backend.native import prepare
from codegen.backend.native.kernels import LowerContext, lowering
from codegen.backend.native.layers import CFloat, ConstArray, ConstRef, KernelCall, Layer, ScratchRef, TensorRef
from codegen.backend.native.lower import int16
from codegen.backend.native.lower.common import concatenation_copies, require, same_dtype, scale_zp, size


def broadcast_params(a: tuple[int, ...], b: tuple[int, ...], out: tuple[int, ...]) -> tuple:
    """``cg_broadcast_params`` for inputs ``a`` and ``b`` broadcast to ``out`` (up to 4-D)."""
    require(max(len(a), len(b), len(out)) <= 4, "broadcasting over more than 4 dimensions is not implemented")
    if a == b == out:
        return (
            ("out_dims", (1, 1, 1, 1)),
            ("in1_stride", (0, 0, 0, 0)),
            ("in2_stride", (0, 0, 0, 0)),
            ("broadcast", 0),
            ("size", size(out)),
        )
    o4 = (1,) * (4 - len(out)) + tuple(out)

    def strides(s: tuple[int, ...]) -> tuple[int, ...]:
        s4 = (1,) * (4 - len(s)) + tuple(s)
        st, acc = [0, 0, 0, 0], 1
        for d in range(3, -1, -1):
            require(s4[d] in (1, o4[d]), f"shape {list(s)} does not broadcast to {list(out)}")
            st[d] = acc if s4[d] != 1 else 0
            acc *= s4[d]
        return tuple(st)

    return (
        ("out_dims", o4),
        ("in1_stride", strides(a)),
        ("in2_stride", strides(b)),
        ("broadcast", 1),
        ("size", size(out)),
    )


#: Same threshold as CG_ADD_TABLE_MIN_SIZE in cg_add_s8.c: from this output size on, the int8 ADD kernel
#: tabulates both input rescalings (256 int32 each) in its scratch buffer.
ADD_TABLE_MIN_SIZE = 1024


def add_s8_scratch_bytes(out_size: int) -> int:
    """``cg_add_s8_get_scratch_size`` for an output of ``out_size`` elements."""
    return 2 * 256 * 4 if out_size >= ADD_TABLE_MIN_SIZE else 0


def _binary(ctx: LowerContext, op: ir.Operator, kind: str) -> Layer:
    a, b, out = ctx.required(op, 0), ctx.required(op, 1), ctx.output(op)
    if int16.is_int16(a):
        shape16 = broadcast_params(a.shape, b.shape, out.shape)
        return int16.mul(ctx, op, shape16) if kind == "mul" else int16.add_sub(ctx, op, shape16, kind == "sub")
    dt = same_dtype(op.op, a, b, out)
    act = op.activation  # type: ignore[attr-defined]
    shape = broadcast_params(a.shape, b.shape, out.shape)
    if dt == "f32":
        lo, hi = prepare.activation_range_f32(act)
        params: tuple = (("shape", shape), ("act_min", CFloat(lo)), ("act_max", CFloat(hi)))
        ptype, ctype = "cg_binary_f32_params", "float"
    else:
        (s1, z1), (s2, z2), (so, zo) = scale_zp(a), scale_zp(b), scale_zp(out)
        lo, hi = prepare.activation_range_int8(act, so, zo)
        if kind in ("add", "sub"):
            left_shift = 20
            twice_max = 2 * max(s1, s2)
            m1, sh1 = prepare.quantize_multiplier(s1 / twice_max)
            m2, sh2 = prepare.quantize_multiplier(s2 / twice_max)
            mo, sho = prepare.quantize_multiplier(twice_max / ((1 << left_shift) * so))
            params = (
                ("shape", shape),
                ("input1_offset", -z1),
                ("input2_offset", -z2),
                ("output_offset", zo),
                ("left_shift", left_shift),
                ("input1_multiplier", m1),
                ("input1_shift", sh1),
                ("input2_multiplier", m2),
                ("input2_shift", sh2),
                ("output_multiplier", mo),
                ("output_shift", sho),
                ("act_min", lo),
                ("act_max", hi),
                ("subtract", 1 if kind == "sub" else 0),
            )
            ptype = "cg_add_s8_params"
        else:
            mo, sho = prepare.quantize_multiplier(s1 * s2 / so)
            params = (
                ("shape", shape),
                ("input1_offset", -z1),
                ("input2_offset", -z2),
                ("output_offset", zo),
                ("output_multiplier", mo),
                ("output_shift", sho),
                ("act_min", lo),
                ("act_max", hi),
            )
            ptype = "cg_mul_s8_params"
        ctype = "int8_t"
    add_s8 = kind in ("add", "sub") and dt == "s8"  # int8 SUB runs the ADD kernel with `subtract` set
    if add_s8 and ctx.dsp and a.shape == b.shape == out.shape:
        dsp = _add_dsp(op, params, a, b, out)
        if dsp is not None:
            return dsp
    r = -dict(params).get("output_shift", 0)
    if kind == "mul" and dt == "s8" and ctx.dsp and a.shape == b.shape == out.shape and 1 <= r <= 22:
        # cg_mul_dsp_s8: the SMMULR output stage of cg_add_dsp_s8, h = 2^(r-1) + output_offset * 2^r
        params = (("base", params), ("h", (1 << (r - 1)) + dict(params)["output_offset"] * (1 << r)), ("r", r))
        ptype = "cg_mul_dsp_s8_params"
    scratch = add_s8_scratch_bytes(size(out.shape)) if add_s8 else 0
    consts = []
    operands = []
    for k, t in enumerate((a, b)):
        if t.is_constant:
            c = ConstArray(
                f"l{op.index}_in{k}",
                np.ascontiguousarray(t.data).astype(t.dtype.np).reshape(-1),
                source_tensor=t.index,
            )
            consts.append(c)
            operands.append(ConstRef(c.name))
        else:
            operands.append(TensorRef(t.index))
    args: tuple = (
        (f"const {ctype} *", operands[0]),
        (f"const {ctype} *", operands[1]),
        (f"{ctype} *", TensorRef(out.index)),
    )
    if add_s8:
        args += (("int32_t *", ScratchRef() if scratch else None),)
    name = "cg_add_s8" if add_s8 else "cg_mul_dsp_s8" if ptype == "cg_mul_dsp_s8_params" else f"cg_{kind}_{dt}"
    call = KernelCall(name, ptype, params, args)
    return Layer(op.index, op.op, dt, (call,), tuple(consts), scratch_bytes=scratch, output=out.index)


#: Smallest output for cg_add_dsp_s8: below it the 2 KiB of tables in flash are not worth their speed.
ADD_DSP_MIN_SIZE = 64


def add_dsp_tables(params: dict) -> np.ndarray:
    """The two input rescalings of TFLite's int8 ADD (``MultiplyByQuantizedMultiplier((x + offset) << 20, m,
    shift)``) for every int8 x, doubled (and the second negated for SUB), as ``cg_add_dsp_s8`` reads them."""
    xs = range(-128, 128)

    def table(k: int) -> list[int]:
        off, m, sh = params[f"input{k}_offset"], params[f"input{k}_multiplier"], params[f"input{k}_shift"]
        return [prepare.multiply_by_quantized_multiplier((x + off) << params["left_shift"], m, sh) for x in xs]

    sign = -1 if params["subtract"] else 1
    return 2 * np.array(table(1) + [sign * v for v in table(2)], dtype=np.int64)


def _add_dsp(op: ir.Operator, params: tuple, a: ir.Tensor, b: ir.Tensor, out: ir.Tensor) -> Layer | None:
    """ADD/SUB of same-shape int8 tensors with the tabulated DSP kernel, or None where it does not apply: small
    outputs, an output shift outside [-22, -1], or sums that could overflow its 32-bit output stage."""
    p = dict(params)
    n, r, zo = size(out.shape), -p["output_shift"], p["output_offset"]
    if n < ADD_DSP_MIN_SIZE or not 1 <= r <= 22:
        return None
    tables = add_dsp_tables(p)
    s2 = int(np.abs(tables[:256]).max() + np.abs(tables[256:]).max())  # |2 * (t1 + t2)|
    h = (1 << (r - 1)) + zo * (1 << r)
    if s2 >= 1 << 31 or s2 // 2 + 1 + abs(h) >= 1 << 31:  # SMMULR(s2, m) is at most |s2| / 2 + 1
        return None
    consts, operands = [], []
    for k, t in enumerate((a, b)):
        if t.is_constant:
            c = ConstArray(f"l{op.index}_in{k}", np.ascontiguousarray(t.data).astype(np.int8).reshape(-1),
                           source_tensor=t.index)
            consts.append(c)
            operands.append(ConstRef(c.name))
        else:
            operands.append(TensorRef(t.index))
    consts.append(ConstArray(f"l{op.index}_tables", tables.astype(np.int32)))
    call = KernelCall(
        "cg_add_dsp_s8",
        "cg_add_dsp_s8_params",
        (("base", params), ("h", h), ("r", r)),
        (
            ("const int8_t *", operands[0]),
            ("const int8_t *", operands[1]),
            ("const int32_t *", ConstRef(f"l{op.index}_tables")),
            ("int8_t *", TensorRef(out.index)),
        ),
    )
    return Layer(op.index, op.op, "s8", (call,), tuple(consts), output=out.index)


@lowering(
    "ADD", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_add_s8", "cg_add_dsp_s8", "cg_add_f32", "cg_add_s16")
)
def add(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _binary(ctx, op, "add")


@lowering(
    "SUB", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_add_s8", "cg_add_dsp_s8", "cg_sub_f32", "cg_add_s16")
)
def sub(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _binary(ctx, op, "sub")


@lowering(
    "MUL", dtypes=("int8", "float32", int16.DTYPE), kernels=("cg_mul_s8", "cg_mul_dsp_s8", "cg_mul_f32", "cg_mul_s16")
)
def mul(ctx: LowerContext, op: ir.Operator) -> Layer:
    return _binary(ctx, op, "mul")


@lowering(
    "CONCATENATION",
    dtypes=("int8", "float32", int16.DTYPE),
    kernels=("cg_concatenation_s8", "cg_concatenation_f32", "cg_concatenation_s16"),
)
def concatenation(ctx: LowerContext, op: ir.Operator) -> Layer:
    op = ctx.expect(op, ir.Concatenation)
    if int16.is_int16(ctx.input(op, 0)):
        return int16.concatenation(ctx, op)
    out = ctx.output(op)
    ins = [ctx.required(op, k) for k in range(len(op.inputs))]
    dt = same_dtype("CONCATENATION", *ins, out)
    calls = concatenation_copies(op, ins, out, dt, "float" if dt == "f32" else "int8_t")
    return Layer(op.index, op.op, dt, calls, output=out.index)
