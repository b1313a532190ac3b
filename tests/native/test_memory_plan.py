"""Memory planner with in-place layers: live buffers never share bytes except where a kernel's access pattern
allows it, checked on random buffer sets, on the real models, and against simulated kernel access traces.

Exactness of the in-place plans themselves (the generated C on the host against TFLM) is checked by
``test_models.py`` and ``test_op_conformance.py``, whose plans use these overlaps."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.backend.native import access
from codegen.backend.native.layers import Dims
from codegen.backend.native.planner import (
    ALIGN,
    Buffer,
    MemoryPlan,
    Overlap,
    _arena,
    _place,
    plan,
    plan_layers,
    violations,
)
from codegen.backend.native.program import lower_graph, native_graph
from codegen.boards import load_board
from codegen.frontend import load_model
from codegen.reference import tflm_arena_split
from tests.conftest import shared_model

MODELS = [
    "resnet8_cifar10_int8.tflite",
    "vww_mobilenetv1_025_96_int8.tflite",
    "kws_dscnn_int8.tflite",
    "ad01_fc_autoencoder_int8.tflite",
]


def _as_plan(placed: list[Buffer], overlaps: list[Overlap]) -> MemoryPlan:
    return MemoryPlan(_arena(placed), tuple(placed), (), (), (), tuple(overlaps))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 3000), st.integers(0, 12), st.integers(0, 4)), min_size=2, max_size=25),
    st.lists(st.tuples(st.integers(0, 24), st.integers(-4000, 64)), max_size=12),
)
def test_placement_respects_every_clash_and_only_the_allowed_overlaps(raw, pairs) -> None:  # noqa: ANN001
    bufs = [Buffer(f"b{i}", "tensor", (s + 15) // 16 * 16, a, a + n) for i, (s, a, n) in enumerate(raw)]
    overlaps = []
    for k, delta in pairs:  # output k may overlap any buffer that dies when k is born
        out = bufs[k % len(bufs)]
        for inp in bufs:
            if inp.key != out.key and inp.last == out.first:
                overlaps.append(Overlap(inp.key, out.key, delta // ALIGN * ALIGN))
                break
    placed = _place(bufs, overlaps)
    assert violations(_as_plan(placed, overlaps)) == []
    assert violations(_as_plan(_place(bufs), [])) == []


def _kws_plan() -> MemoryPlan:
    return plan(load_model(shared_model("kws_dscnn_int8.tflite")))


def test_violations_reports_an_output_moved_past_its_allowed_overlap() -> None:
    p = _kws_plan()
    assert violations(p) == []
    used = p.in_place[0]
    bufs = {b.key: b for b in p.buffers}
    inp, out = bufs[used.input], bufs[used.output]
    wrong = replace(out, offset=inp.offset + used.max_delta + ALIGN)  # one step too close to the input's unread part
    broken = replace(p, buffers=tuple(wrong if b.key == out.key else b for b in p.buffers))
    assert any(used.input in v and used.output in v for v in violations(broken))


def test_violations_reports_an_overlap_nobody_allowed() -> None:
    p = _kws_plan()
    bufs = {b.key: b for b in p.buffers}
    used = p.in_place[0]
    # the same two buffers, but without the permission: an alias the kernel's access pattern was never asked about
    broken = replace(p, overlaps=tuple(o for o in p.overlaps if o != used))
    assert any(used.input in v and used.output in v for v in violations(broken))
    # a scratch buffer on top of a live tensor
    scratch = next(b for b in p.buffers if b.kind == "scratch")
    live = next(b for b in p.buffers if b.kind == "tensor" and b.first <= scratch.first <= b.last)
    broken = replace(p, buffers=tuple(replace(b, offset=live.offset) if b is scratch else b for b in p.buffers))
    assert violations(broken)
    del bufs


@pytest.mark.parametrize("name", MODELS)
def test_model_plans_are_valid_and_smaller_with_in_place_layers(name: str) -> None:
    graph = native_graph(load_model(shared_model(name)))
    layers = lower_graph(graph).layers
    with_in_place = plan_layers(graph, layers)
    without = plan_layers(graph, layers, in_place=False)
    assert violations(with_in_place) == [] and violations(without) == []
    assert with_in_place.in_place and not without.in_place
    assert with_in_place.arena_bytes < without.arena_bytes
    # every used overlap is an input that dies at the layer writing the output
    bufs = {b.key: b for b in with_in_place.buffers}
    for o in with_in_place.in_place:
        assert bufs[o.input].last == bufs[o.output].first


def test_in_place_covers_conv_depthwise_add_fc_and_softmax_kernels() -> None:
    """The big layers' outputs overlap their dying inputs in the chosen plans; SOFTMAX is allowed to (its few
    bytes at the end of a network overlap or not as the placement search happens to put them)."""
    used, allowed = set(), set()
    for name in MODELS:
        graph = native_graph(load_model(shared_model(name)))
        layers = lower_graph(graph).layers
        p = plan_layers(graph, layers)
        writer = {f"t{layer.output}": layer.kernels[0] for layer in layers if layer.calls}
        used |= {writer[o.output] for o in p.in_place if o.output in writer}
        allowed |= {writer[o.output] for o in p.overlaps if o.output in writer}
    assert {"cg_conv2d_s8", "cg_depthwise_conv2d_s8", "cg_add_s8", "cg_fully_connected_s8"} <= used
    assert "cg_softmax_s8" in allowed


@pytest.mark.parametrize("name", MODELS)
def test_planned_arena_is_not_larger_than_tflm_activations_and_scratch(name: str) -> None:
    """On the emulated STM32F405 (Cortex-M4: the DSP kernels, issue #10's board); AD01's DSP fully connected
    kernel reads its input row in place (no 16-bit scratch copy), so its arena is TFLM's 768 B."""
    path = shared_model(name)
    head, _persistent = tflm_arena_split(path)
    assert plan(load_model(path), core=load_board("emulated_stm32f405").core).arena_bytes <= head


# ---- simulated access traces of the runtime kernels ----------------------------------------------------------
# Each generator yields ("r", first byte, bytes) reads of the input and ("w", first byte, bytes) writes of the
# output in the order of the C loops in runtime/src; the check replays them with the output placed ``delta``
# bytes above the input and fails if a read sees a byte the output already overwrote.


def _conflicts(trace: list[tuple[str, int, int]], in_bytes: int, out_bytes: int, delta: int) -> int:
    base = max(0, -delta)
    written = np.zeros(base + max(in_bytes, delta + out_bytes) + 1, dtype=bool)
    bad = 0
    for kind, start, n in trace:
        if kind == "r":
            bad += int(written[base + start : base + start + n].any())
        else:
            written[base + delta + start : base + delta + start + n] = True
    return bad


def _window_reads(i: Dims, k: tuple[int, int], s: tuple[int, int], pad: tuple[int, int], d: tuple[int, int],
                  b: int, oy: int, ox: int, item: int) -> list[tuple[str, int, int]]:
    out = []
    for ky in range(k[0]):
        iy = oy * s[0] - pad[0] + ky * d[0]
        if not 0 <= iy < i.h:
            continue
        for kx in range(k[1]):
            ix = ox * s[1] - pad[1] + kx * d[1]
            if 0 <= ix < i.w:
                out.append(("r", ((b * i.h + iy) * i.w + ix) * i.c * item, i.c * item))
    return out


def _conv_trace(i: Dims, o: Dims, k, s, pad, d, item: int, group: int) -> list:  # noqa: ANN001
    """cg_conv2d_s8: im2col patches of ``group`` pixels gathered, then all their channels written."""
    trace: list = []
    pixels = [(b, y, x) for b in range(o.n) for y in range(o.h) for x in range(o.w)]
    for g in range(0, len(pixels), group):
        block = pixels[g : g + group]
        for b, y, x in block:
            trace += _window_reads(i, k, s, pad, d, b, y, x, item)
        for b, y, x in block:
            trace.append(("w", ((b * o.h + y) * o.w + x) * o.c * item, o.c * item))
    return trace


def _pool_trace(i: Dims, o: Dims, k, s, pad, item: int) -> list:  # noqa: ANN001
    """cg_avgpool_s8 / cg_maxpool_s8: per pixel, per channel: the window's channel read, then written."""
    trace: list = []
    for b in range(o.n):
        for y in range(o.h):
            for x in range(o.w):
                for c in range(o.c):
                    for kind, start, _n in _window_reads(i, k, s, pad, (1, 1), b, y, x, item):
                        trace.append((kind, start + c * item, item))
                    trace.append(("w", (((b * o.h + y) * o.w + x) * o.c + c) * item, item))
    return trace


def _geometry(h: int, w: int, c: int, oc: int, k: int, stride: int, dil: int, same: bool):  # noqa: ANN202
    span = (k - 1) * dil + 1
    if same:
        oh, ow = -(-h // stride), -(-w // stride)
        pad_h = max((oh - 1) * stride + span - h, 0) // 2
        pad_w = max((ow - 1) * stride + span - w, 0) // 2
    else:
        oh, ow = (h - span) // stride + 1, (w - span) // stride + 1
        pad_h = pad_w = 0
    return Dims(1, h, w, c), Dims(1, oh, ow, oc), (pad_h, pad_w)


def _params(i: Dims, o: Dims, k: int, stride: int, dil: int, pad: tuple[int, int]) -> dict:
    return {
        "input": i, "output": o, "filter": Dims(o.c, k, k, i.c), "stride_h": stride, "stride_w": stride,
        "pad_h": pad[0], "pad_w": pad[1], "dilation_h": dil, "dilation_w": dil,
    }


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 7), st.integers(1, 7), st.integers(1, 5), st.integers(1, 6), st.sampled_from([1, 3]),
    st.integers(1, 2), st.integers(1, 2), st.booleans(), st.sampled_from([1, 4]), st.integers(1, 4),
)
def test_window_overlap_bound_is_safe_for_conv_traces(h, w, c, oc, k, stride, dil, same, item, group) -> None:  # noqa: ANN001
    i, o, pad = _geometry(h, w, c, oc, k, stride, dil, same)
    if o.h < 1 or o.w < 1:
        return
    delta = access._window_delta(_params(i, o, k, stride, dil, pad), item, item)
    assert delta is not None
    trace = _conv_trace(i, o, (k, k), (stride, stride), pad, (dil, dil), item, group)
    assert _conflicts(trace, i.h * i.w * i.c * item, o.h * o.w * o.c * item, delta) == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 4), st.sampled_from([1, 2, 3]), st.integers(1, 2),
       st.booleans())
def test_window_overlap_bound_is_safe_for_pool_traces(h, w, c, k, stride, same) -> None:  # noqa: ANN001
    i, o, pad = _geometry(h, w, c, c, k, stride, 1, same)
    if o.h < 1 or o.w < 1:
        return
    params = {**_params(i, o, k, stride, 1, pad), "filter_h": k, "filter_w": k}
    del params["filter"]
    delta = access._window_delta(params, 1, 1)
    assert delta is not None
    trace = _pool_trace(i, o, (k, k), (stride, stride), pad, 1)
    assert _conflicts(trace, i.h * i.w * i.c, o.h * o.w * o.c, delta) == 0


def test_trace_check_catches_a_3x3_convolution_run_fully_in_place() -> None:
    i, o, pad = _geometry(6, 5, 4, 4, 3, 1, 1, True)
    trace = _conv_trace(i, o, (3, 3), (1, 1), pad, (1, 1), 1, 2)
    delta = access._window_delta(_params(i, o, 3, 1, 1, pad), 1, 1)
    assert delta is not None and delta < 0
    assert _conflicts(trace, 120, 120, 0) > 0  # same offset: row y overwrites what row y + 1 still reads
    # the bound is not loose by more than the pixel group: PIXEL_GROUP + W + 1 pixels of 4 channels
    assert delta >= -(access.PIXEL_GROUP + i.w + 1) * i.c


@pytest.mark.parametrize(("in_item", "out_item"), [(1, 1), (4, 1), (1, 4), (4, 4)])
def test_elementwise_overlap_bound_is_safe_and_tight(in_item: int, out_item: int) -> None:
    n = 37
    delta = access._elementwise_delta(n * in_item, n * out_item, n)
    trace = [x for e in range(n) for x in (("r", e * in_item, in_item), ("w", e * out_item, out_item))]
    assert _conflicts(trace, n * in_item, n * out_item, delta) == 0
    assert _conflicts(trace, n * in_item, n * out_item, delta + 1) > 0


def test_buffered_rows_overlap_bound_is_safe_and_tight() -> None:
    rows, depth, units = 3, 10, 6
    delta = access._rows_buffered_delta({"batches": rows, "in_depth": depth, "out_depth": units}, 1, 1)
    assert delta is not None
    trace = [x for r in range(rows) for x in (("r", r * depth, depth), ("w", r * units, units))]
    assert _conflicts(trace, rows * depth, rows * units, delta) == 0
    assert _conflicts(trace, rows * depth, rows * units, delta + 1) > 0


def test_mean_overlap_bound_is_safe() -> None:
    i = Dims(2, 3, 2, 5)
    delta = access._channels_delta({"input": i}, 1, 1, i.n * i.c)
    assert delta is not None
    trace = []
    for b in range(i.n):
        for c in range(i.c):
            trace += [("r", (b * i.h * i.w + p) * i.c + c, 1) for p in range(i.h * i.w)]
            trace.append(("w", b * i.c + c, 1))
    assert _conflicts(trace, i.n * i.h * i.w * i.c, i.n * i.c, delta) == 0
    assert _conflicts(trace, i.n * i.h * i.w * i.c, i.n * i.c, delta + 1) > 0


def test_kernels_run_in_place_exist_and_keep_input_and_output_free_of_restrict() -> None:
    import re

    from codegen.backend.native import kernels as kreg

    for name in access.KERNEL_ACCESS:
        text = kreg.kernel_source(name).read_text()
        sig = re.search(rf"cg_status\s+{name}\s*\(([^)]*)\)", text)
        assert sig is not None, name
        assert "restrict" not in sig.group(1), name


@pytest.mark.parametrize("kernels", ["portable", "dsp"])
def test_in_place_plan_of_kws_is_bit_exact_with_tflm_for_both_kernel_sets(kernels: str, build_cache) -> None:  # noqa: ANN001
    from codegen import host
    from codegen.backend.native.emitter import NativeOptions
    from codegen.reference import ReferenceModel
    from codegen.verify import random_input

    path = shared_model("kws_dscnn_int8.tflite")
    graph = load_model(path)
    ours = host.compile(graph, cache_dir=build_cache, options=NativeOptions(kernels=kernels))
    assert ours.sources.plan is not None and len(ours.sources.plan.in_place) >= 5
    ref = ReferenceModel(path)
    rng = np.random.default_rng(11)
    spec = graph.input_tensors[0]
    for _ in range(20):
        x = random_input(spec.shape, spec.dtype, rng)
        np.testing.assert_array_equal(ours.predict(x)[0], np.asarray(ref.predict(x)[0]).reshape(ours.outputs[0].shape))
