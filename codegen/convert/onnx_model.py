"""Read and check an ONNX file: a valid model, one input and one output, static shapes, ops the converter knows.

Bad input is a :class:`codegen.errors.ModelError` (not ONNX, truncated, fails the ONNX checker, several inputs)
or an :class:`codegen.errors.UnsupportedModelError` (an op the converter cannot handle, a dynamic shape that
``--input-shape`` must fix), each naming the op, node or shape.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.errors import ModelError, UnsupportedModelError

log = logging.getLogger(__name__)

ONNX_DOMAINS = ("", "ai.onnx")
# ONNX element types we accept at the model input (float32 only: integer inputs are not images)
_FLOAT = 1


@dataclass(frozen=True)
class OnnxModel:
    """A checked ONNX model with static input and output shapes."""

    path: Path
    proto: Any  # onnx.ModelProto with the input shape fixed
    input_name: str
    input_shape: tuple[int, ...]
    output_name: str
    output_shape: tuple[int, ...]
    opset: int
    op_types: tuple[str, ...]
    batch_fixed: bool  # the input had a dynamic batch dimension that was set to 1


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,3,32,32"`` (or ``1x3x32x32``) -> (1, 3, 32, 32)."""
    parts = text.replace("x", ",").split(",")
    try:
        dims = tuple(int(p) for p in parts if p.strip())
    except ValueError:
        dims = ()
    if not dims or min(dims) < 1:
        raise ModelError(f"bad --input-shape {text!r}", hint="give positive sizes in ONNX order, e.g. 1,3,32,32")
    return dims


def _dims(value_info: Any) -> list[int | str]:
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return []
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?") for d in t.shape.dim]


def _shape_text(dims: list[int | str]) -> str:
    return "[" + ", ".join(str(d) for d in dims) + "]"


def converter_knows(op_type: str) -> bool:
    """True when onnx2tf has a converter for this (default-domain) ONNX op (looked up without importing it)."""
    spec = importlib.util.find_spec("onnx2tf")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the ONNX converter onnx2tf is not installed",
                         hint="reinstall codegen with its dependencies (bash run.sh test installs them)")
    return any((Path(d) / "ops" / f"{op_type}.py").is_file() for d in spec.submodule_search_locations)


def load_onnx(path: str | Path, input_shape: tuple[int, ...] | None = None) -> OnnxModel:
    """Read ``path``, check it, fix the input shape (``input_shape``, or a dynamic batch dimension -> 1)."""
    import onnx
    from google.protobuf.message import DecodeError

    p = Path(path)
    if not p.exists():
        raise ModelError(f"model file {p} does not exist", hint="give the path of an .onnx file")
    if not p.is_file():
        raise ModelError(f"model path {p} is not a file", hint="give the path of an .onnx file")
    if p.stat().st_size == 0:
        raise ModelError(f"model file {p} is empty", hint="export the ONNX model again")
    try:
        proto = onnx.load(str(p))
    except (DecodeError, ValueError, OSError, RuntimeError) as exc:
        raise ModelError(f"{p} is not an ONNX model ({type(exc).__name__}: {exc})",
                         hint="give a .onnx file exported with torch.onnx.export or similar") from exc
    # protobuf parses many foreign files without complaint: an ONNX model has an IR version, an opset and a graph
    if proto.ir_version <= 0 or not proto.opset_import or not proto.graph.node:
        raise ModelError(f"{p} is not an ONNX model (no IR version, opset or graph nodes)",
                         hint="give a .onnx file exported with torch.onnx.export or similar")
    opset = max((o.version for o in proto.opset_import if o.domain in ONNX_DOMAINS), default=0)
    for node in proto.graph.node:
        where = f"node {node.name!r}" if node.name else f"a node with output {list(node.output)[:1]}"
        if node.domain not in ONNX_DOMAINS:
            raise UnsupportedModelError(
                f"ONNX op {node.domain}.{node.op_type} ({where}) is outside the standard ONNX domain",
                hint="export with standard ONNX ops only, without custom or contrib ops",
            )
        if not converter_knows(node.op_type):
            raise UnsupportedModelError(
                f"ONNX op {node.op_type} ({where}) is not supported by the converter (onnx2tf)",
                hint="replace the op in the exported model, e.g. with another layer or an older opset",
            )
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{p} fails the ONNX checker: {first}", hint="export the model again") from exc

    initializers = {i.name for i in proto.graph.initializer}
    inputs = [i for i in proto.graph.input if i.name not in initializers]
    if len(inputs) != 1 or len(proto.graph.output) != 1:
        raise ModelError(
            f"{p} has {len(inputs)} inputs and {len(proto.graph.output)} outputs; codegen handles one of each",
            hint="export a model with one input tensor and one output tensor",
        )
    inp, out = inputs[0], proto.graph.output[0]
    if inp.type.tensor_type.elem_type != _FLOAT:
        raise UnsupportedModelError(
            f"input {inp.name!r} has ONNX element type {inp.type.tensor_type.elem_type}, not float32",
            hint="export the model with a float32 input",
        )
    dims = _dims(inp)
    batch_fixed = False
    if input_shape is not None:
        if dims and len(input_shape) != len(dims):
            raise ModelError(
                f"--input-shape {','.join(map(str, input_shape))} has {len(input_shape)} dimensions but input "
                f"{inp.name!r} has shape {_shape_text(dims)}",
                hint=f"give {len(dims)} sizes in ONNX order",
            )
        for i, (want, have) in enumerate(zip(input_shape, dims, strict=False)):
            if isinstance(have, int) and have != want:
                raise ModelError(
                    f"--input-shape sets dimension {i} of {inp.name!r} to {want}, but the model fixes it to {have}",
                    hint=f"keep the static sizes of {_shape_text(dims)}",
                )
        shape = tuple(input_shape)
    else:
        if not dims:
            raise UnsupportedModelError(f"input {inp.name!r} has no shape",
                                        hint="give --input-shape in ONNX order, e.g. 1,3,32,32")
        if not isinstance(dims[0], int) and all(isinstance(d, int) for d in dims[1:]):
            dims = [1, *dims[1:]]
            batch_fixed = True
        if not all(isinstance(d, int) for d in dims):
            raise UnsupportedModelError(
                f"input {inp.name!r} has dynamic shape {_shape_text(dims)}",
                hint="give --input-shape in ONNX order with every size fixed, e.g. 1,3,32,32",
            )
        shape = tuple(int(d) for d in dims)
    if shape[0] != 1:
        raise UnsupportedModelError(f"input {inp.name!r} has batch size {shape[0]}",
                                    hint="export with batch size 1 or give --input-shape 1,...")

    proto = _with_input_shape(proto, inp.name, shape)
    out_dims = _output_dims(proto, p)
    return OnnxModel(
        path=p, proto=proto, input_name=inp.name, input_shape=shape, output_name=out.name,
        output_shape=out_dims, opset=opset, op_types=tuple(sorted({n.op_type for n in proto.graph.node})),
        batch_fixed=batch_fixed,
    )


def _with_input_shape(proto: Any, name: str, shape: tuple[int, ...]) -> Any:
    import onnx

    fixed = onnx.ModelProto()
    fixed.CopyFrom(proto)
    for vi in fixed.graph.input:
        if vi.name == name:
            dims = vi.type.tensor_type.shape.dim
            del dims[:]
            for d in shape:
                dims.add().dim_value = d
    # a dynamic output / value_info shape is recomputed by shape inference below
    for vi in fixed.graph.output:
        for d in vi.type.tensor_type.shape.dim:
            if not d.HasField("dim_value"):
                d.Clear()
    return fixed


def _output_dims(proto: Any, path: Path) -> tuple[int, ...]:
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsupportedModelError(f"ONNX shape inference fails on {path}: {first}",
                                    hint="check --input-shape: ONNX order, e.g. 1,3,32,32") from exc
    dims = _dims(inferred.graph.output[0])
    if not dims or not all(isinstance(d, int) for d in dims):
        raise UnsupportedModelError(
            f"output {inferred.graph.output[0].name!r} has dynamic shape {_shape_text(dims)} for a fixed input",
            hint="export the model with static shapes, e.g. torch.onnx.export without dynamic_axes",
        )
    return tuple(int(d) for d in dims)


def inferred_shapes(proto: Any) -> dict[str, tuple[int, ...]]:
    """Static shapes of every value (inputs, intermediate tensors, outputs) from ONNX shape inference."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(proto, data_prop=True)  # data_prop: Shape -> Concat -> Reshape
    shapes: dict[str, tuple[int, ...]] = {}
    g = inferred.graph
    for vi in [*g.input, *g.value_info, *g.output]:
        dims = _dims(vi)
        if dims and all(isinstance(d, int) for d in dims):
            shapes[vi.name] = tuple(int(d) for d in dims)
    for init in g.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes
