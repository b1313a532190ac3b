"""Edit converted single-op TFLite models for the conformance tests: set quantization parameters that a
converter would only produce for odd data, and fan one operator out into several with different outputs."""

from __future__ import annotations

import copy

import flatbuffers


def _schema():  # noqa: ANN202
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s

    return s


def _set_quant(tensor, scale: float, zero_point: int) -> None:  # noqa: ANN001
    s = _schema()
    q = tensor.quantization or s.QuantizationParametersT()
    q.scale, q.zeroPoint, q.min, q.max = [float(scale)], [int(zero_point)], None, None
    tensor.quantization = q


def fan_out(data: bytes, input_q: tuple[float, int], output_qs: list[tuple[float, int]]) -> bytes:
    """The model's single operator applied once per entry of ``output_qs`` to the (re-quantized) graph input,
    each copy writing its own graph output with that output quantization."""
    s = _schema()
    model = s.ModelT.InitFromPackedBuf(data, 0)
    sg = model.subgraphs[0]
    (op,) = sg.operators
    _set_quant(sg.tensors[op.inputs[0]], *input_q)
    out_t = sg.tensors[op.outputs[0]]
    ops, outs = [], []
    for k, (scale, zp) in enumerate(output_qs):
        t = copy.deepcopy(out_t)
        t.name = f"{out_t.name.decode() if isinstance(out_t.name, bytes) else out_t.name}_{k}".encode()
        _set_quant(t, scale, zp)
        sg.tensors.append(t)
        o = copy.deepcopy(op)
        o.outputs = [len(sg.tensors) - 1]
        ops.append(o)
        outs.append(len(sg.tensors) - 1)
    sg.operators = ops
    sg.outputs = outs
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
