"""SVDF conformance models, written directly as TFLite flatbuffers (TensorFlow's converter does not emit SVDF
from Keras): a chain of SVDF layers, quantized as TFLite quantizes SVDF (int8 input, feature weights and output,
int16 time weights and state with zero point 0, int32 bias at state scale x time scale) or float32."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SvdfLayer:
    units: int
    rank: int = 1
    memory: int = 8
    bias: bool = True
    relu: bool = False


@dataclass(frozen=True)
class SvdfSpec:
    name: str
    features: int
    layers: tuple[SvdfLayer, ...]
    quant: str = "int16"  # "int16" (int16 state and time weights), "int8" (int8 state) or "float32"
    batch: int = 1
    seed: int = 0
    state_zero_point: int = 0  # TFLite's quantizer writes 0; TFLM accepts any (and clears int16 state to 0)
    classes: int = 0  # > 0: a FULLY_CONNECTED + SOFTMAX classifier head after the SVDF layers (micro speech)


def build(spec: SvdfSpec) -> bytes:
    """The ``.tflite`` bytes of ``spec``: input [batch, features] -> SVDF -> ... -> output [batch, units]."""
    import flatbuffers
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    rng = np.random.default_rng(spec.seed)
    buffers = [s.BufferT()]
    tensors: list = []
    floating = spec.quant == "float32"
    state8 = spec.quant == "int8"

    def quant(scale: float, zp: int = 0):  # noqa: ANN202
        q = s.QuantizationParametersT()
        q.scale, q.zeroPoint = [float(scale)], [int(zp)]
        return q

    def tensor(name: str, shape: tuple[int, ...], ttype: int, data: np.ndarray | None = None,
               q=None, variable: bool = False) -> int:  # noqa: ANN001
        t = s.TensorT()
        t.name, t.shape, t.type, t.isVariable = name.encode(), list(shape), ttype, variable
        t.quantization = None if floating else q
        t.buffer = 0
        if data is not None:
            b = s.BufferT()
            b.data = list(np.ascontiguousarray(data).tobytes())
            buffers.append(b)
            t.buffer = len(buffers) - 1
        tensors.append(t)
        return len(tensors) - 1

    f32, i8, i16, i32 = s.TensorType.FLOAT32, s.TensorType.INT8, s.TensorType.INT16, s.TensorType.INT32
    act_scale, act_zp = 1.0 / 64, -3
    x = tensor("input", (spec.batch, spec.features), f32 if floating else i8, q=quant(act_scale, act_zp))
    graph_in = x
    ops = []
    depth = spec.features
    in_scale = act_scale
    for k, layer in enumerate(spec.layers):
        filters = layer.units * layer.rank
        # scales chosen so that codes spread over their types without saturating much (std in codes: the
        # state about 4000 (int16) or 30 (int8), the output about 40)
        wf_scale = 0.01
        st_code, wt_code = (30.0, 73.0) if state8 else (4000.0, 6900.0)
        st_scale = in_scale * wf_scale * 5400.0 * float(np.sqrt(depth)) / st_code
        wt_scale = 1.0 / 256 if state8 else 1.0 / 8192
        out_scale = float(np.sqrt(layer.memory * layer.rank)) * wt_code * st_code * st_scale * wt_scale / 40.0
        out_zp = 5 if k % 2 == 0 else -7
        wf_q = rng.integers(-127, 128, size=(filters, depth))
        wt_q = rng.integers(-127, 128, size=(filters, layer.memory)) if state8 else \
            rng.integers(-12000, 12001, size=(filters, layer.memory))
        b_q = rng.integers(-4000, 4001, size=(layer.units,))
        if floating:
            wf = tensor(f"svdf{k}/weights_feature", (filters, depth), f32, (wf_q * wf_scale).astype(np.float32))
            wt = tensor(f"svdf{k}/weights_time", (filters, layer.memory), f32, (wt_q * wt_scale).astype(np.float32))
            b = tensor(f"svdf{k}/bias", (layer.units,), f32, (b_q * st_scale * wt_scale).astype(np.float32)) \
                if layer.bias else -1
            st = tensor(f"svdf{k}/state", (spec.batch, layer.memory * filters), f32, variable=True)
            y = tensor(f"svdf{k}/output", (spec.batch, layer.units), f32)
        else:
            wf = tensor(f"svdf{k}/weights_feature", (filters, depth), i8, wf_q.astype(np.int8), quant(wf_scale))
            st_type, st_np = (i8, np.int8) if state8 else (i16, np.int16)
            wt = tensor(f"svdf{k}/weights_time", (filters, layer.memory), st_type, wt_q.astype(st_np), quant(wt_scale))
            b = tensor(f"svdf{k}/bias", (layer.units,), i32, b_q.astype(np.int32), quant(st_scale * wt_scale)) \
                if layer.bias else -1
            st = tensor(f"svdf{k}/state", (spec.batch, layer.memory * filters), st_type,
                        q=quant(st_scale, spec.state_zero_point), variable=True)
            y = tensor(f"svdf{k}/output", (spec.batch, layer.units), i8, q=quant(out_scale, out_zp))
        op = s.OperatorT()
        op.opcodeIndex = 0
        op.inputs, op.outputs = [x, wf, wt, b, st], [y]
        op.builtinOptionsType = s.BuiltinOptions.SVDFOptions
        opts = s.SVDFOptionsT()
        opts.rank = layer.rank
        opts.fusedActivationFunction = s.ActivationFunctionType.RELU if layer.relu else s.ActivationFunctionType.NONE
        op.builtinOptions = opts
        ops.append(op)
        x, depth, in_scale = y, layer.units, out_scale

    codes = [s.BuiltinOperator.SVDF]
    if spec.classes:
        x = _head(s, spec, rng, tensor, quant, ops, x, depth, in_scale, floating)
        codes += [s.BuiltinOperator.FULLY_CONNECTED, s.BuiltinOperator.SOFTMAX]
    code_list = []
    for builtin in codes:
        code = s.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = builtin
        code.version = 1
        code_list.append(code)
    sg = s.SubGraphT()
    sg.tensors, sg.operators, sg.inputs, sg.outputs = tensors, ops, [graph_in], [x]
    sg.name = b"main"
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs, model.buffers = 3, code_list, [sg], buffers
    model.description = f"codegen SVDF conformance model {spec.name}".encode()
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _head(s, spec: SvdfSpec, rng: np.random.Generator, tensor, quant, ops: list, x: int, depth: int,  # noqa: ANN001
          in_scale: float, floating: bool) -> int:
    """FULLY_CONNECTED (depth -> classes, per-tensor int8 weights) + SOFTMAX, as micro speech ends."""
    f32, i8, i32 = s.TensorType.FLOAT32, s.TensorType.INT8, s.TensorType.INT32
    # logits spread about +-2 (codes about +-40 at scale 0.05): the softmax is not one-hot
    logit_scale = 0.05
    w_scale = logit_scale / (73.0 * float(np.sqrt(depth)) * in_scale)
    w_q = rng.integers(-127, 128, size=(spec.classes, depth))
    b_q = rng.integers(-2000, 2001, size=(spec.classes,))
    if floating:
        w = tensor("head/weights", (spec.classes, depth), f32, (w_q * w_scale).astype(np.float32))
        b = tensor("head/bias", (spec.classes,), f32, (b_q * in_scale * w_scale).astype(np.float32))
        logits = tensor("head/logits", (spec.batch, spec.classes), f32)
        probs = tensor("head/probabilities", (spec.batch, spec.classes), f32)
    else:
        w = tensor("head/weights", (spec.classes, depth), i8, w_q.astype(np.int8), quant(w_scale))
        b = tensor("head/bias", (spec.classes,), i32, b_q.astype(np.int32), quant(in_scale * w_scale))
        logits = tensor("head/logits", (spec.batch, spec.classes), i8, q=quant(logit_scale, 2))
        probs = tensor("head/probabilities", (spec.batch, spec.classes), i8, q=quant(1.0 / 256, -128))
    fc = s.OperatorT()
    fc.opcodeIndex, fc.inputs, fc.outputs = 1, [x, w, b], [logits]
    fc.builtinOptionsType = s.BuiltinOptions.FullyConnectedOptions
    fc.builtinOptions = s.FullyConnectedOptionsT()
    sm = s.OperatorT()
    sm.opcodeIndex, sm.inputs, sm.outputs = 2, [logits], [probs]
    sm.builtinOptionsType = s.BuiltinOptions.SoftmaxOptions
    sm.builtinOptions = s.SoftmaxOptionsT()
    sm.builtinOptions.beta = 1.0
    ops += [fc, sm]
    return probs


def inputs(spec: SvdfSpec, frames: int, seed: int = 1) -> list[np.ndarray]:
    """``frames`` random input frames (int8 codes over the whole range, or floats in [-2, 2])."""
    rng = np.random.default_rng(seed)
    shape = (spec.batch, spec.features)
    if spec.quant == "float32":
        return [rng.uniform(-2.0, 2.0, size=shape).astype(np.float32) for _ in range(frames)]
    return [rng.integers(-128, 128, size=shape).astype(np.int8) for _ in range(frames)]
