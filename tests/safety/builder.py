"""Build small .tflite flatbuffers directly with the schema binding the reader uses (no TensorFlow needed).

``single_op(...)`` makes a one-operator model; ``Model`` holds the object API tree (``ModelT``) so that tests and
the fuzzer can change shapes, indices, options and quantization and re-pack it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

TYPES = {"float32": 0, "int32": 2, "int8": 9, "int64": 4, "int16": 7, "uint8": 3}
NP = {"float32": np.float32, "int32": np.int32, "int8": np.int8, "int64": np.int64, "int16": np.int16,
      "uint8": np.uint8}

#: op name -> (options class, BuiltinOptions union member) for the ops the tests build
OPTIONS = {
    "CONV_2D": ("Conv2DOptionsT", "Conv2DOptions"),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptionsT", "DepthwiseConv2DOptions"),
    "FULLY_CONNECTED": ("FullyConnectedOptionsT", "FullyConnectedOptions"),
    "AVERAGE_POOL_2D": ("Pool2DOptionsT", "Pool2DOptions"),
    "MAX_POOL_2D": ("Pool2DOptionsT", "Pool2DOptions"),
    "MEAN": ("ReducerOptionsT", "ReducerOptions"),
    "ADD": ("AddOptionsT", "AddOptions"),
    "SUB": ("SubOptionsT", "SubOptions"),
    "MUL": ("MulOptionsT", "MulOptions"),
    "CONCATENATION": ("ConcatenationOptionsT", "ConcatenationOptions"),
    "SOFTMAX": ("SoftmaxOptionsT", "SoftmaxOptions"),
    "RESHAPE": ("ReshapeOptionsT", "ReshapeOptions"),
    "SQUEEZE": ("SqueezeOptionsT", "SqueezeOptions"),
    "PAD": ("PadOptionsT", "PadOptions"),
    "LEAKY_RELU": ("LeakyReluOptionsT", "LeakyReluOptions"),
    "TRANSPOSE": ("TransposeOptionsT", "TransposeOptions"),
    "SLICE": ("SliceOptionsT", "SliceOptions"),
    "STRIDED_SLICE": ("StridedSliceOptionsT", "StridedSliceOptions"),
    "SPLIT": ("SplitOptionsT", "SplitOptions"),
    "SPLIT_V": ("SplitVOptionsT", "SplitVOptions"),
    "PACK": ("PackOptionsT", "PackOptions"),
    "UNPACK": ("UnpackOptionsT", "UnpackOptions"),
    "DEPTH_TO_SPACE": ("DepthToSpaceOptionsT", "DepthToSpaceOptions"),
    "SPACE_TO_DEPTH": ("SpaceToDepthOptionsT", "SpaceToDepthOptions"),
    "RESIZE_NEAREST_NEIGHBOR": ("ResizeNearestNeighborOptionsT", "ResizeNearestNeighborOptions"),
    "MAXIMUM": ("MaximumMinimumOptionsT", "MaximumMinimumOptions"),
    "MINIMUM": ("MaximumMinimumOptionsT", "MaximumMinimumOptions"),
    "SQUARED_DIFFERENCE": ("SquaredDifferenceOptionsT", "SquaredDifferenceOptions"),
    "EXP": ("ExpOptionsT", "ExpOptions"),
}


@dataclass
class TensorSpec:
    shape: tuple[int, ...]
    dtype: str = "int8"
    scale: float | list[float] | None = None
    zero_point: int | list[int] = 0
    data: Any = None  # constant values (array-like) or None
    axis: int = 0
    name: str = ""


@dataclass
class OpSpec:
    op: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)


def build(tensors: list[TensorSpec], ops: list[OpSpec], inputs: list[int], outputs: list[int]) -> bytes:
    """Pack a model with one subgraph."""
    return pack(model_tree(tensors, ops, inputs, outputs))


def model_tree(tensors: list[TensorSpec], ops: list[OpSpec], inputs: list[int], outputs: list[int]) -> Any:
    m = s.ModelT()
    m.version = 3
    m.description = b"tests/safety builder"
    m.buffers = [s.BufferT()]
    sg = s.SubGraphT()
    sg.tensors = []
    for i, spec in enumerate(tensors):
        t = s.TensorT()
        t.shape = [int(d) for d in spec.shape]
        t.type = TYPES[spec.dtype]
        t.name = (spec.name or f"t{i}").encode()
        t.buffer = 0
        if spec.data is not None:
            arr = np.asarray(spec.data, dtype=NP[spec.dtype])
            b = s.BufferT()
            b.data = list(arr.tobytes())
            m.buffers.append(b)
            t.buffer = len(m.buffers) - 1
        if spec.scale is not None:
            q = s.QuantizationParametersT()
            q.scale = list(spec.scale) if isinstance(spec.scale, (list, tuple)) else [float(spec.scale)]
            zp = spec.zero_point
            q.zeroPoint = list(zp) if isinstance(zp, (list, tuple)) else [int(zp)]
            q.quantizedDimension = spec.axis
            t.quantization = q
        sg.tensors.append(t)
    codes: list[str] = []
    sg.operators = []
    for spec in ops:
        if spec.op not in codes:
            codes.append(spec.op)
        o = s.OperatorT()
        o.opcodeIndex = codes.index(spec.op)
        o.inputs = list(spec.inputs)
        o.outputs = list(spec.outputs)
        if spec.op in OPTIONS:
            cls, member = OPTIONS[spec.op]
            opts = getattr(s, cls)()
            for k, v in spec.options.items():
                setattr(opts, k, v)
            o.builtinOptions = opts
            o.builtinOptionsType = getattr(s.BuiltinOptions, member)
        sg.operators.append(o)
    sg.inputs = list(inputs)
    sg.outputs = list(outputs)
    m.subgraphs = [sg]
    m.operatorCodes = []
    for name in codes:
        c = s.OperatorCodeT()
        code = getattr(s.BuiltinOperator, name)
        c.builtinCode = code
        c.deprecatedBuiltinCode = min(code, 127)
        c.version = 1
        m.operatorCodes.append(c)
    return m


def pack(model: Any) -> bytes:
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def unpack(data: bytes) -> Any:
    return s.ModelT.InitFromPackedBuf(data, 0)


def q8(shape: tuple[int, ...], scale: float = 0.05, zp: int = 0, data: Any = None) -> TensorSpec:
    return TensorSpec(tuple(shape), "int8", scale, zp, data)


def single_op(op: str, ins: list[TensorSpec], out: TensorSpec | list[TensorSpec], **options: Any) -> bytes:
    """A model with one operator: non-constant inputs become graph inputs."""
    outs = out if isinstance(out, list) else [out]
    tensors = [*ins, *outs]
    n_in = len(ins)
    graph_inputs = [i for i, t in enumerate(ins) if t.data is None]
    return build(tensors, [OpSpec(op, list(range(n_in)), list(range(n_in, n_in + len(outs))), options)],
                 graph_inputs, list(range(n_in, n_in + len(outs))))
