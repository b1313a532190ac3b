"""Read a TFLite flatbuffer into the IR with the schema binding that ships with tflite-micro.

Accepts what TFLM accepts: e.g. per-tensor quantization that carries ``quantized_dimension`` != 0 (TFLM's
person_detect model), which the full TFLite runtime rejects.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from codegen import ir
from codegen.errors import ModelError
from codegen.frontend.shapes import resolve_dynamic_shapes
from codegen.frontend.tflite_ops import build_operator

log = logging.getLogger(__name__)

_IDENTIFIER = b"TFL3"
_SCHEMA_VERSION = 3

# TFLite TensorType -> IR dtype (schema.fbs enum values)
_DTYPES = {
    0: ir.DType.FLOAT32, 1: ir.DType.FLOAT16, 2: ir.DType.INT32, 3: ir.DType.UINT8, 4: ir.DType.INT64,
    6: ir.DType.BOOL, 7: ir.DType.INT16, 9: ir.DType.INT8, 17: ir.DType.INT4,
}
_DTYPE_NAMES = {5: "STRING", 8: "COMPLEX64", 10: "FLOAT64", 11: "COMPLEX128", 12: "UINT64", 13: "RESOURCE",
                14: "VARIANT", 15: "UINT32", 16: "UINT16"}

_KNOWN_MAGIC = {
    b"\x89HDF": "a Keras/HDF5 file",
    b"PK\x03\x04": "a zip archive (a .keras model or a SavedModel archive?)",
    b"\x7fELF": "an ELF binary",
    b"\x08\x01\x12": "a protobuf",
}


def _schema() -> Any:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


def _builtin_names() -> dict[int, str]:
    s = _schema()
    return {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}


def read_tflite(path: Path) -> ir.Graph:
    """Parse ``path`` into a :class:`codegen.ir.Graph`; raise :class:`ModelError` with a fix for bad files."""
    if not path.exists():
        raise ModelError(f"model file {path} does not exist", hint="check the path given to --model")
    if not path.is_file():
        raise ModelError(f"model path {path} is not a file", hint="give the path of a .tflite file")
    data = path.read_bytes()
    return parse_tflite(data, name=path.stem, source=str(path))


def parse_tflite(data: bytes, name: str = "model", source: str = "<bytes>", *, validate: bool = True) -> ir.Graph:
    """Parse TFLite flatbuffer bytes into the IR, then (unless ``validate`` is false) run the validation pass
    (:func:`codegen.validation.validate_graph`): indices, kinds, quantization and every output shape recomputed."""
    _check_container(data, source)
    s = _schema()
    try:
        model = s.ModelT.InitFromPackedBuf(data, 0)
    except Exception as exc:  # the generated parser raises IndexError, struct.error, ... on bad offsets
        raise ModelError(
            f"{source} is truncated or corrupted: the flatbuffer cannot be parsed ({type(exc).__name__})",
            hint="re-export the model or copy the file again",
        ) from exc
    try:
        graph = _to_graph(model, data, name, source)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"{source} is truncated or corrupted: {type(exc).__name__}: {exc}".splitlines()[0],
            hint="re-export the model or copy the file again",
        ) from exc
    if validate:
        from codegen.validation import validate_graph

        validate_graph(graph)
    return graph


def _check_container(data: bytes, source: str) -> None:
    if len(data) == 0:
        raise ModelError(f"model file {source} is empty", hint="re-export the model; the file has 0 bytes")
    for magic, what in _KNOWN_MAGIC.items():
        if data.startswith(magic):
            raise ModelError(f"{source} is {what}, not a TFLite flatbuffer",
                             hint="give a .tflite file (convert Keras models with `codegen train` or TFLiteConverter)")
    if len(data) < 8:
        raise ModelError(f"{source} is truncated: {len(data)} bytes is too short for a TFLite flatbuffer",
                         hint="re-export the model or copy the file again")
    ident = data[4:8]
    if ident == _IDENTIFIER:
        root = int.from_bytes(data[0:4], "little")
        if root >= len(data):
            raise ModelError(f"{source} is truncated: its root table lies beyond the end of the file",
                             hint="re-export the model or copy the file again")
        return
    if all(0x20 < b < 0x7F for b in ident):
        raise ModelError(
            f"{source} is a flatbuffer of another kind (file identifier {ident.decode()!r}, expected 'TFL3')",
            hint="give a TensorFlow Lite model (.tflite)",
        )
    raise ModelError(f"{source} is not a TFLite flatbuffer (no 'TFL3' file identifier)",
                     hint="give a TensorFlow Lite model (.tflite)")


def _to_graph(model: Any, data: bytes, name: str, source: str) -> ir.Graph:
    if model.version != _SCHEMA_VERSION:
        raise ModelError(f"{source} has TFLite schema version {model.version}, expected {_SCHEMA_VERSION}",
                         hint="re-export the model with a current TensorFlow")
    if not model.subgraphs:
        raise ModelError(f"{source} has no subgraph", hint="re-export the model; the file holds no graph")
    if len(model.subgraphs) > 1:
        log.warning("%s has %d subgraphs; only the main subgraph is read", source, len(model.subgraphs))
    names = _builtin_names()
    buffers = model.buffers or []
    sg = model.subgraphs[0]

    tensors = tuple(_tensor(i, t, buffers, data, source) for i, t in enumerate(sg.tensors or []))
    ops = []
    codes = model.operatorCodes or []
    for i, op in enumerate(sg.operators or []):
        if not 0 <= op.opcodeIndex < len(codes):
            raise ModelError(f"{source}: operator {i} has operator code {op.opcodeIndex}, but the model lists "
                             f"{len(codes)}", hint="the file is corrupted; re-export it")
        code = codes[op.opcodeIndex]
        builtin = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        opname = names.get(builtin, f"BUILTIN_{builtin}")
        if opname == "CUSTOM":
            opname = f"CUSTOM:{(code.customCode or b'').decode(errors='replace')}"
        common = {
            "index": i,
            "version": int(code.version or 1),
            "inputs": tuple(int(x) for x in (op.inputs if op.inputs is not None else [])),
            "outputs": tuple(int(x) for x in (op.outputs if op.outputs is not None else [])),
        }
        for t in common["inputs"] + common["outputs"]:
            if not -1 <= t < len(tensors):
                raise ModelError(f"{source}: operator {i} ({opname}) refers to tensor {t}, "
                                 f"but the graph has {len(tensors)}", hint="the file is corrupted; re-export it")
        ops.append(build_operator(opname, op.builtinOptions, common, source))

    description = model.description.decode(errors="replace") if isinstance(model.description, bytes) else ""
    graph = ir.Graph(
        name=name,
        tensors=tensors,
        operators=tuple(ops),
        inputs=tuple(int(x) for x in (sg.inputs if sg.inputs is not None else [])),
        outputs=tuple(int(x) for x in (sg.outputs if sg.outputs is not None else [])),
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        description=description,
    )
    # tensors whose shape the converter left to run time (-1 in the signature) hold placeholder shapes
    signatures = {i: tuple(int(d) for d in t.shapeSignature) for i, t in enumerate(sg.tensors or [])
                  if t.shapeSignature is not None and -1 in t.shapeSignature}
    return resolve_dynamic_shapes(graph, signatures)


def _tensor(index: int, t: Any, buffers: list[Any], data: bytes, source: str) -> ir.Tensor:
    tname = t.name.decode(errors="replace") if isinstance(t.name, bytes) else str(t.name or f"t{index}")
    if t.type not in _DTYPES:
        raise ModelError(
            f"{source}: tensor {index} ({tname}) has type {_DTYPE_NAMES.get(t.type, t.type)}, "
            "which microcontroller runtimes do not support",
            hint="quantize the model to int8 or keep it float32",
        )
    dtype = _DTYPES[t.type]
    shape = tuple(int(d) for d in t.shape) if t.shape is not None else ()
    array = None
    if not 0 <= t.buffer < max(len(buffers), 1):
        raise ModelError(f"{source}: tensor {index} ({tname}) refers to buffer {t.buffer}, but the model has "
                         f"{len(buffers)}", hint="the file is corrupted; re-export it")
    if 0 < t.buffer < len(buffers) and not t.isVariable:  # TFLM clears variable tensors: a buffer is ignored
        array = _buffer_bytes(buffers[t.buffer], data, source, index)
    if array is not None:
        count = 1
        for d in shape:
            count *= d if d >= 0 else -1
        if count < 0:
            raise ModelError(f"{source}: tensor {index} ({tname}) has shape {list(shape)} with a negative dimension",
                             hint="the file is corrupted; re-export it")
        if dtype is ir.DType.INT4:
            if len(array) != (count + 1) // 2:
                raise ModelError(
                    f"{source}: tensor {index} ({tname}) holds {len(array)} bytes, "
                    f"its int4 shape {list(shape)} needs {(count + 1) // 2}",
                    hint="the file is corrupted; re-export it",
                )
            packed = np.frombuffer(array, np.uint8)
            low = (packed & 0x0F).astype(np.int8)
            high = (packed >> 4).astype(np.int8)
            vals = np.stack([low, high], axis=-1).reshape(-1)[:count]
            array = np.where(vals > 7, vals - 16, vals).astype(np.int8).reshape(shape)
        else:
            if len(array) != count * dtype.itemsize:
                raise ModelError(
                    f"{source}: tensor {index} ({tname}) holds {len(array)} bytes, "
                    f"its shape {shape} needs {count * dtype.itemsize}",
                    hint="the file is corrupted; re-export it",
                )
            array = np.frombuffer(bytes(array), dtype=dtype.np.newbyteorder("<")).astype(dtype.np).reshape(shape)
        array.setflags(write=False)
    return ir.Tensor(index=index, name=tname, shape=shape, dtype=dtype, data=array,
                     quant=_quant(t.quantization, f"{source}: tensor {index} ({tname})"),
                     is_variable=bool(t.isVariable))


def _buffer_bytes(buf: Any, data: bytes, source: str, index: int) -> bytes | None:
    if buf.offset and buf.offset > 1:  # models over 2 GB keep buffers after the flatbuffer
        end = buf.offset + buf.size
        if end > len(data):
            raise ModelError(f"{source}: tensor {index}'s data lies beyond the end of the file",
                             hint="the file is truncated; copy it again")
        return data[buf.offset:end]
    if buf.data is None or len(buf.data) == 0:
        return None
    return np.asarray(buf.data, dtype=np.uint8).tobytes()


def _quant(q: Any, label: str) -> ir.QuantParams | None:
    if q is None or q.scale is None or len(q.scale) == 0:
        return None
    scales = tuple(float(s) for s in q.scale)
    zps = tuple(int(z) for z in q.zeroPoint) if q.zeroPoint is not None and len(q.zeroPoint) else (0,)
    if len(zps) not in (1, len(scales)) and len(set(zps)) == 1:
        zps = zps[:1]  # one zero point repeated: what some converters write for per-tensor parameters
    if len(zps) not in (1, len(scales)):
        raise ModelError(f"{label} has {len(scales)} quantization scales but {len(zps)} zero points",
                         hint="the file is corrupted; re-export it")
    return ir.QuantParams(scale=scales, zero_point=zps, axis=int(q.quantizedDimension or 0))
