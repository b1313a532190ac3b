"""Convolutions whose pruned weights stay compressed and are expanded per block of output channels inside the layer
(cg_conv2d_dsp_sparse_s8, issue #16): TFLM's integers for every block size, the arena never more than the budget
over the dense network, and a damaged weight array is refused (never read past)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.emitter import emit
from codegen.backend.native.lower import conv_blocks
from codegen.backend.native.program import Program, lower_graph, native_graph
from codegen.compress.codec import HuffmanCodec
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build


def _pruned_kernel(shape, dtype=None):  # noqa: ANN001, ANN202
    import tensorflow as tf

    rng = np.random.default_rng(5)
    w = rng.normal(0.0, 0.3, shape) * (rng.random(shape) < 0.45)
    return tf.constant(w.astype(np.float32), dtype=dtype or tf.float32)


SPECS = {
    # 30 channels: the last group of 4 is padded; ReLU6: the clamped output stage
    "k3": OpSpec(
        "conv_blocks_k3",
        ((9, 11, 12),),
        lambda K, x: K.layers.Conv2D(30, 3, padding="same", activation="relu6", kernel_initializer=_pruned_kernel)(
            x[0]),
        key="conv-blocks-k3-v1",
    ),
    # 1x1, stride 1: the pixels are widened straight from the input; an odd pixel count (the last pixel alone)
    "k1": OpSpec(
        "conv_blocks_k1",
        ((5, 7, 16),),
        lambda K, x: K.layers.Conv2D(20, 1, kernel_initializer=_pruned_kernel)(x[0]),
        key="conv-blocks-k1-v1",
    ),
}
OPTIONS = NativeOptions(kernels="dsp", codec=HuffmanCodec(), decode="layer")


def _forced(path: Path, block_groups: int, prefix: str = "cg_net"):  # noqa: ANN202
    """The generated network with every blocked convolution in blocks of ``block_groups`` groups."""
    graph = native_graph(load_model(path))
    program = lower_graph(graph, True, True, False, OPTIONS.codec, True)
    layers = []
    for layer in program.layers:
        if layer.raw is not None:
            _, groups, _ = conv_blocks.groups_of(layer)
            layer = dataclasses.replace(conv_blocks.with_block_groups(layer, min(block_groups, groups)), raw=None)
        layers.append(layer)
    return emit(Program(graph, tuple(layers)), prefix, options=OPTIONS)


def _check(sources, path: Path, cache: Path, seed: int = 3) -> None:  # noqa: ANN001
    ours = host.HostModel(sources, host.build(sources, cache_dir=cache), False)
    ref = ReferenceModel(path)
    graph = load_model(path)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        x = rng.integers(-128, 128, graph.input_tensors[0].shape).astype(np.int8)
        mine = ours.predict([x])[0]
        np.testing.assert_array_equal(mine, np.asarray(ref.predict([x])[0]).reshape(mine.shape))


@pytest.mark.parametrize("name", sorted(SPECS))
@pytest.mark.parametrize("block_groups", [1, 3, 64])
def test_every_block_size_matches_tflm(name: str, block_groups: int, build_cache: Path) -> None:
    path = build(SPECS[name])
    sources = _forced(path, block_groups)
    assert "cg_conv2d_dsp_sparse_s8" in sources.kernels
    assert not any(s.blob for s in sources.constants), "the sparse groups are plain bytes, not a codec blob"
    if block_groups < 8:  # several passes over the pixels: the output never overlaps the input
        assert sources.plan is not None and not sources.plan.in_place
    _check(sources, path, build_cache)


def test_blocks_never_grow_the_arena_beyond_the_budget(build_cache: Path) -> None:
    path = build(SPECS["k3"])
    graph = load_model(path)
    dense = generate(graph, options=NativeOptions(kernels="dsp"))
    seen = set()
    for budget in (0, 3000, 6000, 1 << 20):
        sources = generate(graph, options=dataclasses.replace(OPTIONS, block_budget=budget))
        assert sources.arena_bytes <= dense.arena_bytes + budget
        call = re.search(r"cg_conv2d_dsp_sparse_s8\(.*, (\d+)\);", sources.files["cg_net.c"].decode())
        seen.add(int(call.group(1)) if call else 0)  # 0: dense weights
        _check(sources, path, build_cache)
    assert seen == {0, 1, 2, 8} or len(seen) >= 3, seen  # dense, several blocks, one block


def test_a_damaged_weight_array_is_refused(build_cache: Path) -> None:
    path = build(SPECS["k3"])
    sources = _forced(path, 3)
    net = sources.files["cg_net.c"].decode()
    size = int(re.search(r"cg_net_l\d+_filter, (\d+)u", net).group(1))
    cut = dataclasses.replace(sources, files={**sources.files,
                                               "cg_net.c": net.replace(f"{size}u", f"{size - 1}u").encode()})
    model = host.HostModel(cut, host.build(cut, cache_dir=build_cache), False)
    x = np.zeros(load_model(path).input_tensors[0].shape, dtype=np.int8)
    with pytest.raises(RuntimeError, match="status"):
        model.predict([x])
    # every bitmap bit set: the values run out; under AddressSanitizer, never a read past the array
    weights = sources.files["cg_net_weights.c"].decode()
    head, body = weights.split("cg_net_l0_filter[", 1)
    count, rest = body.split("= {", 1)
    values, tail = rest.split("}", 1)
    nums = [int(v) for v in values.replace("\n", " ").split(",") if v.strip()]
    nums[: len(nums) // 4] = [255] * (len(nums) // 4)
    damaged = f"{head}cg_net_l0_filter[{count}= {{{', '.join(map(str, nums))}}}{tail}"
    bad = dataclasses.replace(sources, files={**sources.files, "cg_net_weights.c": damaged.encode()})
    sanitized = host.HostModel(bad, host.build(bad, sanitize=True, cache_dir=build_cache), True)
    with pytest.raises(RuntimeError) as err:
        sanitized.predict([x])
    assert "run failed: corrupt" in str(err.value) and "Sanitizer" not in str(err.value)


def test_decode_auto_reads_sparse_weights_in_place_on_a_dsp_board() -> None:
    """Every compressed weight read in place (no decoder, no decoded copy): --decode auto decodes per layer."""
    from codegen.boards import load_board
    from codegen.compress.codec import resolve

    graph = load_model(build(SPECS["k1"]))
    choice = resolve(graph, "auto", "auto", load_board("emulated_stm32f405"))
    assert (choice.compress, choice.decode) == ("huffman", "layer") and "read in place" in choice.reason
    assert resolve(graph, "huffman", "init", load_board("emulated_stm32f405")).decode == "init"


def test_the_generator_proves_the_layout_stays_inside_the_array() -> None:
    """bounds.prove walks the bitmaps: the generated layout passes, one with a bitmap byte changed is refused."""
    from codegen.backend.native import bounds
    from codegen.backend.native.planner import plan_layers

    graph = native_graph(load_model(build(SPECS["k1"])))
    layer = next(x for x in lower_graph(graph, True, True, False, OPTIONS.codec, True).layers if x.raw is not None)
    layer = dataclasses.replace(layer, raw=None)
    plan = plan_layers(graph, [layer])
    bounds.prove(graph, [layer], plan)
    filt = next(c for c in layer.consts if c.name.endswith("_filter"))
    for byte in (0x00, 0xFF):
        values = filt.values.copy()
        values[0] = byte if values[0] != byte else byte ^ 0x01
        bad = dataclasses.replace(layer, consts=tuple(dataclasses.replace(c, values=values) if c is filt else c
                                                      for c in layer.consts))
        with pytest.raises(bounds.BoundsError, match="would read"):
            bounds.prove(graph, [bad], plan)
