"""Memory planner, emitter contract and quantization math."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen import ir
from codegen.backend.native import generate, plan, prepare
from codegen.backend.native.planner import Buffer, _place
from codegen.errors import CodegenError, UnsupportedModelError
from codegen.frontend import load_model
from tests.conftest import shared_model


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5000), st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=30)
)
def test_placed_buffers_never_overlap_while_both_alive_and_are_aligned(raw) -> None:  # noqa: ANN001
    bufs = [
        Buffer(f"b{i}", "tensor", (s + 15) // 16 * 16, min(a, b), max(a, b))
        for i, (s, a, b) in enumerate(raw)
    ]
    placed = _place(bufs)
    assert len(placed) == len(bufs)
    for b in placed:
        assert b.offset % 16 == 0
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            if a.first <= b.last and b.first <= a.last:
                assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset


def test_plan_is_deterministic_and_reshape_aliases_its_input() -> None:
    graph = load_model(shared_model("resnet8_cifar10_int8.tflite"))
    p1, p2 = plan(graph), plan(graph)
    assert p1 == p2
    reshape = next(op for op in graph.operators if op.op == "RESHAPE")
    assert p1.tensor_offset(reshape.inputs[0]) == p1.tensor_offset(reshape.outputs[0])
    assert p1.arena_bytes % 16 == 0


def test_generated_sources_are_byte_identical_and_prefixed() -> None:
    graph = load_model(shared_model("kws_dscnn_int8.tflite"))
    a = generate(graph, prefix="kws_net")
    b = generate(load_model(shared_model("kws_dscnn_int8.tflite")), prefix="kws_net")
    assert a.files == b.files
    assert set(a.files) >= {"kws_net.h", "kws_net.c", "kws_net_weights.c", "cg_types.h", "cg_status.h"}
    for name in ("kws_net.h", "kws_net.c", "kws_net_weights.c"):
        text = a.files[name].decode()
        assert text.startswith("/* ")
        assert graph.sha256 in text.split("*/")[0]
        # every global symbol the generated files define starts with the prefix
        for sym in re.findall(
            r"^(?:static )?(?:const )?[a-z_0-9]+ \*?([A-Za-z_][A-Za-z_0-9]*)\s*[\[=(]", text, re.M
        ):
            assert sym.startswith("kws_net"), sym
    weights = a.files["kws_net_weights.c"].decode()
    assert "CG_ALIGN(16)" in weights and "const int8_t kws_net_l0_filter" in weights
    header = a.files["kws_net.h"].decode()
    assert f'#define KWS_NET_MODEL_SHA256 "{graph.sha256}"' in header
    assert f"#define KWS_NET_ARENA_SIZE {a.arena_bytes}" in header
    # only the kernels the model uses are copied
    assert "cg_add_s8.c" not in a.files and "cg_depthwise_conv2d_s8.c" in a.files


def test_invalid_prefix_is_refused() -> None:
    graph = load_model(shared_model("kws_dscnn_int8.tflite"))
    with pytest.raises(CodegenError, match="not a valid C identifier"):
        generate(graph, prefix="9net")


def test_unsupported_operators_are_listed_with_index_op_and_dtype() -> None:
    graph = load_model(shared_model("kws_dscnn_int8.tflite"))
    ops = list(graph.operators)
    ops[2] = ir.UnknownOp(builtin="CUSTOM:Foo", index=2, inputs=ops[2].inputs, outputs=ops[2].outputs)
    ops[4] = ir.Tanh(index=4, inputs=ops[4].inputs[:1], outputs=ops[4].outputs)
    bad = ir.Graph(
        name="bad",
        tensors=graph.tensors,
        operators=tuple(ops),
        inputs=graph.inputs,
        outputs=graph.outputs,
        sha256=graph.sha256,
    )
    with pytest.raises(UnsupportedModelError) as err:
        generate(bad)
    msg = str(err.value)
    assert "#2 CUSTOM:Foo (int8)" in msg and "#4 TANH (int8)" in msg
    assert err.value.hint


@pytest.mark.parametrize(
    ("real", "expected"),
    [
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.25, (1 << 30, -1)),
        (0.0, (0, 0)),
        (0.0002, (1759218604, -12)),
    ],
)
def test_quantize_multiplier_matches_tflite(real: float, expected: tuple[int, int]) -> None:
    assert prepare.quantize_multiplier(real) == expected


def test_multiply_by_quantized_multiplier_reproduces_tflite_tie_rounding() -> None:
    m, s = prepare.quantize_multiplier(0.5)
    assert prepare.multiply_by_quantized_multiplier(3, m, s) == 2  # 1.5 -> 2
    assert prepare.multiply_by_quantized_multiplier(-3, m, s) == -1  # -1.5 -> -1 (doubling high mul nudge)
    m, s = prepare.quantize_multiplier(0.25)
    assert (
        prepare.multiply_by_quantized_multiplier(-6, m, s) == -2
    )  # -1.5 -> -2 (rounding shift, away from 0)
    assert prepare.multiply_by_quantized_multiplier(6, m, s) == 2


def test_relu6_activation_range_uses_float32_division() -> None:
    assert prepare.activation_range_int8(ir.Activation.RELU6, 0.0235294122, -128) == (-128, 127)
    assert prepare.activation_range_int8(ir.Activation.RELU, 0.1, 5) == (5, 127)
