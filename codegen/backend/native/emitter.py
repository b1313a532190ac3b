"""Render a lowered, planned graph as C: ``<prefix>.h``, ``<prefix>.c``, ``<prefix>_weights.c`` plus the runtime
headers and the kernels the model uses, copied verbatim. Same input, same bytes."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

import codegen
from codegen import ir
from codegen.backend.native import bounds
from codegen.backend.native import kernels as kreg
from codegen.backend.native.blocking import BLOCK_BUDGET_BYTES, choose_blocks
from codegen.backend.native.layers import (
    ConstRef,
    KernelCall,
    Layer,
    Literal,
    ScratchRef,
    TensorRef,
    c_float,
    c_value,
)
from codegen.backend.native.planner import MemoryPlan, align, plan_layers
from codegen.backend.native.program import Program, lower_graph, native_graph
from codegen.backend.native.weights import ConstantCodec, StoredConstant, format_values, store_constants
from codegen.errors import CodegenError
from codegen.resources import resource_path

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_C_KEYWORDS = {
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
}
_DTYPE_ENUM = {
    ir.DType.INT8: "CG_DTYPE_INT8",
    ir.DType.UINT8: "CG_DTYPE_UINT8",
    ir.DType.INT16: "CG_DTYPE_INT16",
    ir.DType.INT32: "CG_DTYPE_INT32",
    ir.DType.FLOAT32: "CG_DTYPE_FLOAT32",
    ir.DType.INT64: "CG_DTYPE_INT64",
}


DECODE_MODES = ("layer", "init")


@dataclass(frozen=True)
class NativeOptions:
    """Generation options. ``codec`` stores weight arrays compressed (see :mod:`.weights`); ``decode`` says
    where they are decoded: ``"layer"`` (into the arena right before each layer) or ``"init"`` (once, in
    ``P_init``, into a static RAM buffer)."""

    codec: ConstantCodec | None = None
    decode: str = "layer"
    kernels: str = "auto"  # "auto" (from ``core``), "portable" or "dsp": see kernels.use_dsp
    core: str | None = None  # the board's CPU core (boards/*.json "core"); None: host build, portable kernels
    block_budget: int = BLOCK_BUDGET_BYTES  # bytes per-block weight expansion may add to the arena (blocking.py)

    @property
    def dsp(self) -> bool:
        return kreg.use_dsp(self.kernels, self.core)


@dataclass(frozen=True)
class IOSpec:
    """A network input or output as the host and firmware see it."""

    tensor: int
    name: str
    shape: tuple[int, ...]
    dtype: ir.DType
    scale: float
    zero_point: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NativeSources:
    prefix: str
    files: dict[str, bytes] = field(compare=False)
    arena_bytes: int
    weight_bytes: int
    num_layers: int
    inputs: tuple[IOSpec, ...] = ()
    outputs: tuple[IOSpec, ...] = ()
    kernels: tuple[str, ...] = ()
    plan: MemoryPlan | None = field(default=None, compare=False)
    constants: tuple[StoredConstant, ...] = field(default=(), compare=False)
    decode: str = "none"  # "none" (no encoded constant), "layer" or "init"
    decoded_bytes: int = 0  # static RAM of the decoded weights ("init" mode), outside the arena
    state_bytes: int = 0  # static RAM of the variable (state) tensors, outside the arena (P_reset clears it)
    const_ops: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # (constant, op reading it)

    def write(self, out_dir: Path) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in sorted(self.files.items()):
            p = out_dir / name
            p.write_bytes(data)
            written.append(p)
        return written


def check_prefix(prefix: str) -> str:
    if not _IDENT.match(prefix) or prefix in _C_KEYWORDS or keyword.iskeyword(prefix) and False:
        raise CodegenError(
            f"C prefix {prefix!r} is not a valid C identifier",
            hint="use letters, digits and underscores, not starting with a digit, e.g. cg_net",
        )
    if prefix.startswith("cg_") and prefix[3:] in {"nn", "types", "status", "nn_support", "status_str"}:
        raise CodegenError(
            f"C prefix {prefix!r} collides with a runtime file name", hint="choose another prefix"
        )
    return prefix


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_path("templates") / "native")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _banner(graph: ir.Graph, what: str) -> str:
    model = Path(graph.source).name if graph.source else graph.name
    model = model.replace("*/", "* /")
    return (
        f"/* {what}\n"
        f" * Generated by codegen {codegen.__version__} (native backend). Do not edit.\n"
        f" * model: {model}\n"
        f" * model sha256: {graph.sha256}\n"
        f" */"
    )


def _io(graph: ir.Graph, plan: MemoryPlan, t: int) -> IOSpec:
    tensor = graph.tensors[t]
    scale, zp = (float(tensor.quant.scale[0]), int(tensor.quant.zero_point[0])) if tensor.quant else (0.0, 0)
    return IOSpec(
        t, tensor.name, tuple(tensor.shape), tensor.dtype, scale, zp, plan.tensor_offset(t), tensor.nbytes
    )


def _info(spec: IOSpec) -> str:
    dims = list(spec.shape[:6]) + [0] * (6 - min(len(spec.shape), 6))
    return (
        f"{{{_DTYPE_ENUM[spec.dtype]}, {len(spec.shape)}, {{{', '.join(str(d) for d in dims)}}}, "
        f"{c_float(spec.scale)}, {spec.zero_point}, {spec.nbytes}u}}"
    )


def _safe_comment(text: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text).replace("*/", "* /")[:80]


class _Render:
    def __init__(
        self,
        prefix: str,
        graph: ir.Graph,
        plan: MemoryPlan,
        stored: dict[str, StoredConstant],
        ram_offsets: dict[str, int] | None = None,
    ) -> None:
        self.prefix = prefix
        self.graph = graph
        self.plan = plan
        self.stored = stored
        self.ram_offsets = ram_offsets or {}
        self.symbols = {name: s.symbol for name, s in stored.items()}

    def arena(self, offset: int, ctype: str) -> str:
        return f"({ctype})({self.prefix}_arena + {offset}u)"

    def const_expr(self, name: str, ctype: str) -> str:
        s = self.stored[name]
        if s.blob is not None and name in self.ram_offsets:
            return f"({ctype})({self.prefix}_decoded + {self.ram_offsets[name]}u)"
        if s.blob is not None:
            return self.arena(self.plan.decode_offset(name), ctype)
        return self.symbols[name]

    def decode_call(self, s: StoredConstant, dst: str, scratch: str) -> str:
        if s.blob is None:
            raise ValueError(f"constant {s.const.name} is stored raw: it has nothing to decode")
        args = f"{s.symbol}, {len(s.blob.data)}u, {dst}, {s.const.nbytes}u"
        if s.blob.scratch_bytes > 0:
            args += f", {scratch}, {s.blob.scratch_bytes}u"
        return f"{s.blob.decoder}({args})"

    def operand(self, ctype: str, op: Any, layer: Layer) -> str:
        if op is None:
            return "NULL"
        if isinstance(op, TensorRef):
            if self.plan.is_state(op.tensor):
                return f"({ctype})({self.prefix}_state + {self.plan.state_offset(op.tensor)}u)"
            return self.arena(self.plan.tensor_offset(op.tensor), ctype)
        if isinstance(op, ConstRef) and op.blob:
            s = self.stored[op.name]
            if s.blob is None:
                raise ValueError(f"constant {op.name} is read as a blob but stored raw")
            return f"{s.symbol}, {len(s.blob.data)}u"
        if isinstance(op, ConstRef):
            return self.const_expr(op.name, ctype)
        if isinstance(op, ScratchRef):
            return self.arena(self.plan.scratch_offset(layer.index), ctype)
        if isinstance(op, Literal):
            return op.text
        raise TypeError(f"unknown operand {op!r}")

    def call(self, call: KernelCall, struct_symbol: str, layer: Layer) -> str:
        args = ", ".join(self.operand(ctype, op, layer) for ctype, op in call.args)
        return f"{call.kernel}(&{struct_symbol}, {args})"

    def struct_init(self, call: KernelCall) -> str:
        fields = ",\n".join(f"    .{k} = {c_value(v, self.symbols)}" for k, v in call.params)
        return "{\n" + fields + ",\n}"


def generate(graph: ir.Graph, prefix: str = "cg_net", options: NativeOptions | None = None) -> NativeSources:
    """Generate the C sources of ``graph``; raises :class:`UnsupportedModelError` listing offending operators.

    The native pass pipeline runs first, so layer numbers count the operators after the passes
    (:func:`codegen.backend.native.program.layer_names`)."""
    options = options or NativeOptions()
    coded = options.codec is not None
    # kernels that decode their weights as they read them: per-layer decoding, unless the codec keeps some weights
    # raw (--decode auto keeps fully connected weights raw rather than decode them on every inference)
    stream = coded and options.decode == "layer" and not getattr(options.codec, "exclude", None)
    # convolutions that expand their sparse weights per block of channels inside the layer (blocking.py)
    blocks = coded and options.decode == "layer"
    return emit(lower_graph(native_graph(graph), options.dsp, coded, stream, options.codec, blocks), prefix, options)


def choose_roomy(
    graph: ir.Graph,
    layers: tuple[Layer, ...],
    plan: MemoryPlan,
    decoded: dict[int, list[tuple[str, int]]],
    init_only: list[tuple[str, int]],
) -> tuple[tuple[Layer, ...], MemoryPlan]:
    """``layers`` with each layer's ``roomy`` variant (more scratch, e.g. int8 2:4 weights with the patch
    extension: less flash) taken where the arena stays as small as with ``plan``, in graph order; and their plan."""
    chosen = list(layers)
    for pos, layer in enumerate(layers):
        if layer.roomy is None:
            continue
        trial = [*chosen[:pos], layer.roomy, *chosen[pos + 1 :]]
        tried = plan_layers(graph, trial, decoded, init_only)
        if tried.arena_bytes <= plan.arena_bytes:
            chosen, plan = trial, tried
    return tuple(chosen), plan


def emit(program: Program, prefix: str = "cg_net", options: NativeOptions | None = None) -> NativeSources:
    check_prefix(prefix)
    options = options or NativeOptions()
    graph, layers = program.graph, program.layers
    consts = [c for layer in layers for c in layer.consts]
    names = [c.name for c in consts]
    if len(set(names)) != len(names):
        raise RuntimeError("duplicate constant names in lowered layers")
    if options.decode not in DECODE_MODES:
        raise CodegenError(f"decode mode {options.decode!r} is unknown", hint="use 'layer' or 'init'")
    streamed = _streamed(layers)
    if streamed and options.codec is None:
        raise ValueError("layers that decode their weights need a codec")
    stored_list = store_constants(consts, prefix, options.codec, streamed)
    stored = {s.const.name: s for s in stored_list}
    blobs = [s for s in stored_list if s.blob is not None]
    at_init = options.decode == "init"
    decoded, init_only, ram_offsets = _decode_buffers(layers, stored, at_init, streamed)
    decoded_bytes = sum(align(stored[n].const.nbytes) for n in ram_offsets)
    if any(layer.raw is not None for layer in layers):  # block sizes from the arena's free space (blocking.py)
        chosen, plan = choose_blocks(graph, list(layers), decoded, init_only, options.block_budget)
        layers = tuple(chosen)
        final = {c.name: c for layer in layers for c in layer.consts}
        stored_list = [s if final[s.const.name] is s.const else store_constants([final[s.const.name]], prefix,
                                                                                   options.codec, streamed)[0]
                       for s in stored_list]
        stored = {s.const.name: s for s in stored_list}
    else:
        plan = plan_layers(graph, layers, decoded, init_only)
    if any(layer.roomy is not None for layer in layers):  # variants taken where the arena has room for them
        layers, plan = choose_roomy(graph, layers, plan, decoded, init_only)
        final = {c.name: c for layer in layers for c in layer.consts}
        stored_list = [s if final[s.const.name] is s.const else store_constants([final[s.const.name]], prefix,
                                                                                   options.codec, streamed)[0]
                       for s in stored_list]
        stored = {s.const.name: s for s in stored_list}
    bounds.prove(graph, layers, plan)
    r = _Render(prefix, graph, plan, stored, ram_offsets)
    init_steps = [f"{s.blob.check}({s.symbol}, {len(s.blob.data)}u, NULL)" for s in blobs if s.blob and s.blob.check]
    if at_init:
        scratch = r.arena(plan.decode_offset(_INIT_SCRATCH), "void *") if init_only else "NULL"
        init_steps += [
            r.decode_call(s, f"(void *)({prefix}_decoded + {ram_offsets[s.const.name]}u)", scratch) for s in blobs
        ]

    weights = [s for s in stored_list if s.const.weight]
    params_consts = [
        {
            "ctype": s.const.ctype,
            "symbol": s.symbol,
            "count": max(s.const.values.size, 1),
            "body": format_values(s.const.values),
        }
        for s in stored_list
        if not s.const.weight
    ]
    structs, layer_ctx = [], []
    for position, layer in enumerate(layers):
        steps = []
        for c in layer.consts:
            s = stored[c.name]
            if s.blob is not None and not at_init and c.name not in streamed:
                dst = r.arena(plan.decode_offset(c.name), "void *")
                scratch = (
                    r.arena(plan.decode_offset(_layer_scratch(layer.index)), "void *")
                    if s.blob.scratch_bytes
                    else "NULL"
                )
                steps.append(r.decode_call(s, dst, scratch))
        for k, call in enumerate(layer.calls):
            sym = f"{prefix}_l{layer.index}_p{k}"
            structs.append({"type": call.params_type, "symbol": sym, "init": r.struct_init(call)})
            steps.append(r.call(call, sym, layer))
        out = graph.tensors[layer.output]
        comment = f" -> tensor {out.index} '{_safe_comment(out.name)}'"
        layer_ctx.append(
            {
                "index": layer.index,
                "op": layer.op,
                "steps": steps,
                "comment": comment,
                "out_offset": plan.tensor_offset(layer.output),
                "out_bytes": out.nbytes,
                "guard": [f"{{{off}u, {size}u}}" for off, size in bounds.arena_regions(graph, layer, position, plan)],
            }
        )

    inputs = [_io(graph, plan, t) for t in graph.inputs]
    outputs = [_io(graph, plan, t) for t in graph.outputs]
    weight_bytes = sum(s.stored_bytes for s in weights)
    kernel_names = sorted({k for layer in layers for k in layer.kernels})
    weights_ctx = [
        {"declaration": s.declaration, "body": s.body, "comment": _weight_comment(graph, s)} for s in weights
    ]
    extra_headers = sorted({h.name for s in stored_list if s.blob for h in s.blob.headers})

    ctx = {
        "prefix": prefix,
        "P": prefix.upper(),
        "guard": f"{prefix.upper()}_H",
        "inputs": [{"info": _info(s), "offset": f"{s.offset}u"} for s in inputs],
        "outputs": [{"info": _info(s), "offset": f"{s.offset}u"} for s in outputs],
        "layers": layer_ctx,
        "arena_bytes": plan.arena_bytes,
        "arena_alloc": max(plan.arena_bytes, 16),
        "weight_bytes": weight_bytes,
        "sha256": graph.sha256,
        "tool_version": f"codegen {codegen.__version__}",
        "weights": weights,
        "params_consts": params_consts,
        "structs": structs,
        "extra_headers": extra_headers,
        "init_steps": init_steps,
        "decoded_bytes": decoded_bytes,
        "decode_mode": options.decode if blobs else "none",
        "state_bytes": plan.state_bytes,
        "state": _state_ctx(graph, plan),
    }
    env = _env()
    files: dict[str, bytes] = {}
    ctx_h = {**ctx, "banner": _banner(graph, f"{prefix}.h: network API")}
    files[f"{prefix}.h"] = env.get_template("network.h.j2").render(ctx_h).encode()
    files[f"{prefix}.c"] = (
        env.get_template("network.c.j2")
        .render({**ctx, "banner": _banner(graph, f"{prefix}.c: parameters, execution plan and arena")})
        .encode()
    )
    files[f"{prefix}_weights.c"] = (
        env.get_template("weights.c.j2")
        .render(
            {
                **ctx,
                "weights": weights_ctx,
                "banner": _banner(graph, f"{prefix}_weights.c: constant tensors (const, 16-byte aligned)"),
            }
        )
        .encode()
    )

    rt = kreg.runtime_dir()
    for h in kreg.runtime_headers(kernel_names):
        files[h] = (rt / "include" / h).read_bytes()
    for name in (*kreg.COMMON_SOURCES, *kernel_names):
        files[f"{name}.c"] = kreg.kernel_source(name).read_bytes()
    for s in stored_list:
        if s.blob:
            for p in (*s.blob.sources, *s.blob.headers):
                files[p.name] = p.read_bytes()
    return NativeSources(
        prefix=prefix,
        files=dict(sorted(files.items())),
        arena_bytes=plan.arena_bytes,
        weight_bytes=weight_bytes,
        num_layers=len(layers),
        inputs=tuple(inputs),
        outputs=tuple(outputs),
        kernels=tuple(kernel_names),
        plan=plan,
        constants=tuple(stored_list),
        const_ops=tuple((c.name, layer.op) for layer in layers for c in layer.consts),
        decode=options.decode if blobs else "none",
        decoded_bytes=decoded_bytes,
        state_bytes=plan.state_bytes,
    )


def _state_ctx(graph: ir.Graph, plan: MemoryPlan) -> list[dict[str, Any]]:
    """What ``P_reset`` writes into each variable tensor: TFLM's ResetVariableTensors value (the zero point
    byte for int8 tensors, 0 otherwise) over the tensor's bytes."""
    out = []
    for t, offset in plan.state_offsets:
        tensor = graph.tensors[t]
        value = 0
        if tensor.dtype is ir.DType.INT8 and tensor.quant is not None:
            value = int(tensor.quant.zero_point[0])
        out.append({"offset": offset, "nbytes": tensor.nbytes, "value": value & 0xFF if value else 0,
                    "comment": f"tensor {t} '{_safe_comment(tensor.name)}', {tensor.dtype.value}"
                               + (f", zero point {value}" if value else "")})
    return out


_INIT_SCRATCH = "#codec_scratch_init"


def _streamed(layers: tuple[Layer, ...] | list[Layer]) -> frozenset[str]:
    """Constants a kernel reads as the blob itself (it decodes them as it consumes them)."""
    return frozenset(
        op.name
        for layer in layers
        for call in layer.calls
        for _, op in call.args
        if isinstance(op, ConstRef) and op.blob
    )


def _decode_buffers(
    layers: tuple[Layer, ...] | list[Layer],
    stored: dict[str, StoredConstant],
    at_init: bool,
    streamed: frozenset[str] = frozenset(),
) -> tuple[dict[int, list[tuple[str, int]]], list[tuple[str, int]], dict[str, int]]:
    """Where encoded constants are decoded: per layer, (arena buffers per layer index: decoded constants and
    the decoder scratch); at init, (init-only arena buffer for the decoder scratch, offsets of the decoded
    constants in the static ``P_decoded`` buffer)."""
    decoded: dict[int, list[tuple[str, int]]] = {}
    init_only: list[tuple[str, int]] = []
    ram_offsets: dict[str, int] = {}
    blobs = [s for s in stored.values() if s.blob is not None and s.const.name not in streamed]
    if at_init:
        offset = 0
        for s in blobs:
            ram_offsets[s.const.name] = offset
            offset += align(s.const.nbytes)
        scratch = max(s.blob.scratch_bytes for s in blobs if s.blob) if blobs else 0
        if scratch:
            init_only.append((_INIT_SCRATCH, scratch))
        return decoded, init_only, ram_offsets
    for layer in layers:
        need = [stored[c.name] for c in layer.consts if stored[c.name].blob is not None and c.name not in streamed]
        for s in need:
            decoded.setdefault(layer.index, []).append((s.const.name, s.const.nbytes))
        scratch = max(s.blob.scratch_bytes for s in need if s.blob) if need else 0
        if scratch:
            decoded[layer.index].append((_layer_scratch(layer.index), scratch))
    return decoded, init_only, ram_offsets


def _layer_scratch(layer: int) -> str:
    return f"#codec_scratch_l{layer}"


def _weight_comment(graph: ir.Graph, s: StoredConstant) -> str:
    c = s.const
    src = (
        f"tensor {c.source_tensor} '{_safe_comment(graph.tensors[c.source_tensor].name)}'"
        if c.source_tensor >= 0
        else "derived at generation time"
    )
    enc = f", stored encoded ({len(s.blob.data)} bytes)" if s.blob else ""
    return f"{c.name}: {c.ctype}[{c.values.size}], {src}{enc}"
