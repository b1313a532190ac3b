"""Structured-sparse weights under a weight codec (issue #16, ``--huffman``): the layers whose weights a structured
kernel takes without a codec (column-sparse, tile-wise 2:4 convolutions and fully connected layers) keep that
kernel and its stream, stored raw; the codec codes the other weights as before. Bit-exact with TFLM on the host C
build, in both decode modes."""

from __future__ import annotations

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions, generate
from codegen.backend.native.lower import columns, sparse24
from codegen.compress.codec import HuffmanCodec
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build
from tests.native.test_conv_columns import _conv_cols
from tests.native.test_op_conformance import _inputs
from tests.native.test_sparse24 import _conv24, _fc24

STRUCTURED = {columns.KERNEL, sparse24.KERNEL, sparse24.RUNS_KERNEL, sparse24.FC_KERNEL}


def _unstructured(K, x, filters: int, seed: int):  # noqa: ANN001, ANN202, N803
    # a 1x1 convolution with half its weights zeroed at random: what the codec codes
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 0.3, (1, 1, x.shape[-1], filters)).astype(np.float32)
    w *= rng.random(w.shape) >= 0.5
    return K.layers.Conv2D(filters, 1, activation="relu",
                           kernel_initializer=K.initializers.Constant(w))(x)


def _tile_model(K, x):  # noqa: ANN001, ANN202, N803
    # 2:4-tile convolution and fully connected layer around an unstructured-pruned convolution and a dense classifier
    y = _conv24(16, 3, 8, 41, act="relu")(K, x)
    y = _unstructured(K, y, 16, 42)
    y = _fc24(24, 16, 43, act="relu")(K, [K.layers.GlobalAveragePooling2D()(y)])
    return K.layers.Dense(32)(y)


def _layer_model(K, x):  # noqa: ANN001, ANN202, N803
    # 2:4-layer (column-sparse) convolutions, the first on one channel, then an unstructured-pruned one and a
    # 2:4-tile fully connected layer
    y = _conv_cols(8, 5, 1, 51, pad="valid", act="relu")(K, x)
    y = _conv_cols(16, 3, 8, 52, act="relu")(K, [y])
    y = _unstructured(K, y, 16, 53)
    return _fc24(12, 16, 54)(K, [K.layers.GlobalAveragePooling2D()(y)])


MODELS = {
    "2:4-tile": OpSpec("codec_tile24", ((8, 8, 8),), _tile_model, key="hs-t2"),
    "2:4-layer": OpSpec("codec_layer24", ((12, 12, 1),), _layer_model, key="hs-l2"),
}


@pytest.mark.parametrize("decode", ["layer", "init"])
@pytest.mark.parametrize("structure", list(MODELS))
def test_structured_layers_keep_their_kernels_and_raw_streams_under_a_codec(
    structure: str, decode: str, build_cache, monkeypatch  # noqa: ANN001
) -> None:
    monkeypatch.setattr(columns, "CODE_BYTES", 0)  # the column kernel pays for its code in this small model
    path = build(MODELS[structure])
    graph = load_model(path)
    raw = generate(graph, options=NativeOptions(kernels="dsp"))
    structured = STRUCTURED & set(raw.kernels)
    assert structured == ({columns.KERNEL, sparse24.FC_KERNEL} if structure == "2:4-layer"
                          else {sparse24.KERNEL, sparse24.FC_KERNEL})
    options = NativeOptions(kernels="dsp", codec=HuffmanCodec(), decode=decode)
    coded = generate(graph, options=options)
    assert STRUCTURED & set(coded.kernels) == structured
    streams = {s.const.name: s.const.values for s in raw.constants if s.const.values.dtype == np.int32
               and s.const.name.endswith("_filter")}
    assert len(streams) == {"2:4-tile": 2, "2:4-layer": 3}[structure]  # one per structured layer
    stored = {s.const.name: s for s in coded.constants}
    for name, values in streams.items():  # the same stream, stored raw: no blob, no decode buffer
        assert stored[name].blob is None
        np.testing.assert_array_equal(stored[name].const.values, values)
    # the unstructured convolution is left to the codec: expanded per block inside the layer, or a blob
    # decoded at init for the int8-weight kernel
    codec_kernel = "cg_conv2d_dsp_sparse_s8" if decode == "layer" else "cg_conv2d_dsp_w8_s8"
    assert codec_kernel in coded.kernels
    assert coded.weight_bytes < raw.weight_bytes
    if decode == "layer":
        assert coded.arena_bytes <= raw.arena_bytes + options.block_budget
    else:
        assert any(s.blob is not None for s in coded.constants)
        assert coded.arena_bytes == raw.arena_bytes
    ours = host.compile(graph, cache_dir=build_cache, options=options)
    ref = ReferenceModel(path)
    rng = np.random.default_rng(16)
    for _ in range(6):
        xs = _inputs(graph, OpSpec("x", (), None), rng)
        for mine, theirs in zip(ours.predict(xs), ref.predict(xs), strict=True):
            np.testing.assert_array_equal(mine, np.asarray(theirs).reshape(mine.shape))
