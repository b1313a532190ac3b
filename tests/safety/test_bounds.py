"""The generation-time bounds proof refuses any kernel call that could leave its buffers; the CG_CHECK_BOUNDS
build catches, at run time, an access outside a layer's own arena buffers that stays inside the arena."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import bounds, generate
from codegen.backend.native.emitter import emit
from codegen.backend.native.layers import Dims, KernelCall
from codegen.backend.native.program import lower_graph, native_graph
from codegen.errors import CodegenError
from codegen.frontend.tflite import parse_tflite
from tests.safety import cases as C
from tests.safety.cases import VALID

#: inconsistent models whose output is smaller than what the operator computes (the dangerous direction)
UNVALIDATED = {
    "pad": lambda: C.pad(out=(1, 2, 2, 2)),
    "mean": lambda: C.mean(out=(1, 3)),
    "concat": lambda: C.concat(out=(1, 3, 3, 3)),
    "add": lambda: C.binary(out=(1, 2, 2, 3)),
    "softmax": lambda: C.unary("SOFTMAX", out=(1, 5)),
    "conv": lambda: C.conv(out=(1, 2, 2, 4)),
    "depthwise": lambda: C.depthwise(out=(1, 1, 1, 8)),
    "fc": lambda: C.fc(out=(1, 2)),
    "pool": lambda: C.pool(out=(1, 2, 2, 3)),
    "reshape": lambda: C.reshape(out=(1, 3), shape=(1, 3)),
    "conv_batch": lambda: C.conv(inp=(2, 6, 6, 3), out=(1, 6, 6, 4)),
}


@pytest.mark.parametrize("name", sorted(UNVALIDATED))
def test_unvalidated_inconsistent_model_is_never_emitted_unsafely(name: str) -> None:
    """Even past the validation pass (validate=False), the lowering or the bounds proof refuses the model, or
    the emitted calls provably stay inside their buffers."""
    graph = parse_tflite(UNVALIDATED[name](), validate=False)
    try:
        sources = generate(graph)
    except CodegenError:
        return
    program = lower_graph(native_graph(graph))
    bounds.prove(program.graph, program.layers, sources.plan)  # the same proof the emitter ran


def _program(op: str):  # noqa: ANN202
    return lower_graph(native_graph(parse_tflite(VALID[op]())))


def _tamper(program, **changes):  # noqa: ANN001, ANN003, ANN202
    """The program with the first kernel call's parameters changed."""
    layer = program.layers[0]
    call = layer.calls[0]
    params = tuple((k, changes.get(k, v)) for k, v in call.params)
    return replace(program, layers=(replace(layer, calls=(replace(call, params=params), *layer.calls[1:])),
                                    *program.layers[1:]))


@pytest.mark.parametrize("op,changes,words", [
    ("MEAN", {"input": Dims(1, 4, 4, 7)}, "argument 0"),
    ("PAD", {"after": (0, 1, 2, 0)}, "argument 2"),
    ("CONV_2D", {"output": Dims(1, 7, 6, 4)}, "argument 3"),
    ("CONV_2D", {"filter": Dims(5, 3, 3, 3)}, "argument 1"),
    ("FULLY_CONNECTED", {"out_depth": 6}, "argument 1"),
    ("SOFTMAX", {"rows": 2}, "argument 0"),
    ("CONCATENATION", {"out_offset": 6}, "argument 1"),
    ("AVERAGE_POOL_2D", {"input": Dims(2, 8, 8, 3)}, "argument 0"),
])
def test_tampered_kernel_parameters_are_refused_before_anything_is_written(op: str, changes: dict,
                                                                            words: str) -> None:
    program = _tamper(_program(op), **changes)
    with pytest.raises(bounds.BoundsError, match=words):
        emit(program)


def test_tampered_requantization_array_is_refused() -> None:
    program = _program("CONV_2D")
    layer = program.layers[0]
    short = tuple(replace(c, values=c.values[:2]) if c.name.endswith("_mult") else c for c in layer.consts)
    program = replace(program, layers=(replace(layer, consts=short),))
    with pytest.raises(bounds.BoundsError, match="multiplier"):
        emit(program)


def test_kernel_without_extent_rule_is_refused() -> None:
    program = _program("RELU")
    layer = program.layers[0]
    call = KernelCall("cg_mystery_s8", "cg_mystery_params", (), layer.calls[0].args)
    program = replace(program, layers=(replace(layer, calls=(call,)),))
    with pytest.raises(bounds.BoundsError, match="no extent rule"):
        emit(program)


@pytest.mark.parametrize("op", sorted(VALID))
def test_every_kernel_of_every_supported_operator_has_an_extent_rule(op: str) -> None:
    program = _program(op)
    for layer in program.layers:
        for call in layer.calls:
            assert bounds.rule_for(call) is not None, call.kernel


def test_runtime_guard_catches_a_write_past_a_tensor_inside_the_arena(build_cache, tmp_path) -> None:  # noqa: ANN001
    """A PAD whose emitted parameters write 14 bytes more than its output holds: the bytes stay inside the arena
    (plain ASan sees nothing); the CG_CHECK_BOUNDS build reports them."""
    graph = parse_tflite(C.pad())
    sources = generate(graph)
    c_file = f"{sources.prefix}.c"
    text = sources.files[c_file].decode()
    patched, n = re.subn(r"\.after = \{0, 2, 0, 0\}", ".after = {0, 2, 1, 0}", text)
    assert n == 1, "PAD parameters not found in the generated C"
    broken = replace(sources, files={**sources.files, c_file: patched.encode()})
    x = np.zeros(graph.input_tensors[0].shape, np.int8)
    plain = host.HostModel(broken, host.build(broken, sanitize=True, opt="-O1", cache_dir=build_cache,
                                               extra_cflags=("-UCG_CHECK_BOUNDS",)), True)
    plain.predict(x)  # inside the arena: AddressSanitizer alone does not see it
    guarded = host.HostModel(broken, host.build(broken, sanitize=True, opt="-O1", cache_dir=build_cache), True)
    with pytest.raises(RuntimeError, match="use-after-poison"):
        guarded.predict(x)


def test_runtime_guard_is_quiet_on_a_valid_model(build_cache) -> None:  # noqa: ANN001
    graph = parse_tflite(C.pad())
    model = host.compile(graph, sanitize=True, opt="-O1", cache_dir=build_cache)
    x = np.arange(32, dtype=np.int8).reshape(graph.input_tensors[0].shape)
    (y,) = model.predict(x)
    want = np.pad(x.astype(np.int16), ((0, 0), (1, 2), (2, 0), (0, 0)), constant_values=3)
    np.testing.assert_array_equal(y, want.astype(np.int8))



@pytest.mark.parametrize(("in_c", "kernel"), [(4, "cg_conv2d_dsp_s8"), (3, "cg_conv2d_dsp_c1_s8")])
def test_dsp_convolution_is_proven_with_its_own_extents(in_c: int, kernel: str) -> None:
    """cg_conv2d_dsp_s8 reads padded int16 weights (cg_conv2d_dsp_c1_s8 the taps packed, 28 steps for 3x3 on 3
    channels): its rule, not the portable one, must apply."""
    from codegen.backend.native.emitter import NativeOptions

    graph = parse_tflite(C.conv(inp=(1, 6, 6, in_c), filt=(5, 3, 3, in_c), out=(1, 6, 6, 5)))
    sources = generate(graph, options=NativeOptions(kernels="dsp"))
    assert kernel in sources.kernels
    program = lower_graph(native_graph(graph), True)
    call = program.layers[0].calls[0]
    assert bounds.rule_for(call) is bounds.EXTENTS[kernel]
    filt = next(c for c in program.layers[0].consts if c.name.endswith("_filter"))
    assert bounds.rule_for(call)(dict(call.params)).args[1] * 2 == filt.nbytes  # all packed weights, no more
