"""remove-pruned-channels: zero filters and the input channels that read them disappear from the generated network,
and the network still computes TFLM's integers on the unpruned model (host build vs TFLM, random inputs).

The model has every case the pass distinguishes: a zero filter with zero bias (its constant is the zero point)
through max pooling and a biased depthwise 3x3 SAME convolution into a 1x1 convolution; zero depthwise
filters (their input channels and the filters writing them go too); a zero filter with a
bias (a constant that is not the zero point) read by a 3x3 SAME convolution (must be kept); a fire-style
concatenation; a single zero filter of twelve (kept: whole blocks of four only); zero filters read through a
flatten by a dense layer and zero dense units (constants folded into the readers' biases); the classifier's
zero unit (a graph output: kept).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from codegen import ir
from codegen.backend.native import native_graph
from codegen.frontend.tflite import parse_tflite
from codegen.passes.channels import removed_channels
from codegen.verify import verify

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytestmark = pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")


def _zero(layer, filters: list[int], bias: float | None) -> None:  # noqa: ANN001 - a Keras layer
    w = layer.get_weights()
    kernel = w[0]
    if kernel.ndim == 4 and layer.__class__.__name__ == "DepthwiseConv2D":
        kernel[..., filters, :] = 0
    else:
        kernel[..., filters] = 0
    if bias is not None:
        w[1][filters] = bias
    layer.set_weights(w)


@pytest.fixture(scope="module")
def pruned_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from codegen.train import quantize
    from codegen.train.tfenv import keras, set_seed

    set_seed(0)
    k = keras()
    L = k.layers
    inp = L.Input((10, 10, 3))
    c1 = L.Conv2D(8, 3, padding="same", activation="relu", name="c1")
    x = L.MaxPooling2D(2)(c1(inp))
    dw = L.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")
    x = dw(x)
    c2 = L.Conv2D(6, 1, activation="relu", name="c2")
    s = c2(x)
    e1 = L.Conv2D(4, 1, activation="relu", name="e1")
    e3 = L.Conv2D(12, 3, padding="same", activation="relu", name="e3")
    x = L.Concatenate()([e1(s), e3(s)])
    c3 = L.Conv2D(5, 1, activation="relu", name="c3")
    x = L.Flatten()(c3(x))
    d1 = L.Dense(16, activation="relu", name="d1")
    d2 = L.Dense(4, name="d2")
    model = k.Model(inp, d2(d1(x)))
    _zero(c1, [1, 4], 0.0)  # constant == zero point: through pool and depthwise (biased) into c2 (1x1): folded
    w = dw.get_weights()
    w[1][[1, 4, 6]] = 0.3  # the depthwise turns the zero point into another constant on those channels
    w[0][..., [5, 6], :] = 0  # zero depthwise filters: their input channels (pool, c1) go too
    dw.set_weights(w)
    _zero(c2, [2], 0.7)  # constant != zero point, read by e3 (3x3 SAME): kept
    _zero(e1, [0, 3], 0.4)  # through the concatenation into c3 (1x1): folded
    _zero(e3, [2], 0.0)  # removable, but 1 of 12: kept (whole blocks of four only below a quarter)
    _zero(c3, [1, 3], 0.3)  # through flatten into d1: folded
    _zero(d1, [5, 7, 9, 11], 0.2)  # into d2 (which has no bias: one is made): folded
    _zero(d2, [3], None)  # graph output: kept
    rng = np.random.default_rng(1)
    calib = rng.uniform(0, 1, size=(64, 10, 10, 3)).astype(np.float32)
    path = tmp_path_factory.mktemp("channels") / "pruned.tflite"
    path.write_bytes(quantize.convert(model, "int8", calib))
    return path


def test_zero_filters_and_their_readers_shrink(pruned_model: Path) -> None:
    graph = parse_tflite(pruned_model.read_bytes())
    after = native_graph(graph)
    by_name = {graph.tensors[op.outputs[0]].name: op.op for op in graph.operators}
    removed = removed_channels(graph, after)
    shrunk = {n: v for n, v in removed.items()}
    assert len(after.operators) == len(graph.operators)
    counts = sorted(v for v in shrunk.values())
    # c1 8 -> 4 (two zero filters, two filters feeding zero depthwise filters), c2 keeps its 6 (its zero filter
    # feeds a 3x3 SAME conv with a non-zero-point constant),
    # e1 4 -> 2, e3 keeps 12, c3 5 -> 3, d1 16 -> 12, d2 keeps its output unit
    assert counts == sorted([(8, 4), (4, 2), (5, 3), (16, 12)]), (shrunk, by_name)
    depthwise = [op for op in after.operators if isinstance(op, ir.DepthwiseConv2D)]
    assert after.tensors[depthwise[0].inputs[1]].shape[-1] == 4
    assert sum(op.macs(after) for op in after.operators) < sum(op.macs(graph) for op in graph.operators)


def test_removed_channels_are_exact_against_tflm(pruned_model: Path, tmp_path: Path) -> None:
    report = verify(pruned_model, samples=40, seed=3, tflm_arena=False, cache_dir=tmp_path)
    assert report.quantized
    assert report.exact_matches == report.samples, report.as_dict()


@pytest.fixture(scope="module")
def residual_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two residual stages pruned as groups, ResNet-style: stream 1 (stem + the second convolution of an identity
    block, fused ReLU after the ADD, zero-point constants) read by a 3x3 SAME convolution and a 1x1 stride-2
    shortcut; stream 2 (a second convolution + that shortcut, biased zero filters: constants that are not the zero
    point, a plain ADD) read only through global average pooling and a flatten by the classifier. Channel 2 is
    zero in the stem only (the ADD's other input computes it: kept)."""
    from codegen.train import quantize
    from codegen.train.tfenv import keras, set_seed

    set_seed(0)
    k = keras()
    L = k.layers
    inp = L.Input((8, 8, 3))
    stem = L.Conv2D(8, 3, padding="same", activation="relu", name="stem")
    a1 = L.Conv2D(6, 3, padding="same", activation="relu", name="a1")
    a2 = L.Conv2D(8, 3, padding="same", name="a2")
    x = stem(inp)
    x = L.Activation("relu")(L.Add()([x, a2(a1(x))]))
    b1 = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="b1")
    b2 = L.Conv2D(8, 3, padding="same", name="b2")
    sc = L.Conv2D(8, 1, strides=2, name="shortcut")
    x = L.Add()([sc(x), b2(b1(x))])
    x = L.Flatten()(L.AveragePooling2D(4)(x))
    model = k.Model(inp, L.Dense(4, name="fc")(x))
    for layer in (stem, a2):
        _zero(layer, [1, 4, 5, 6], 0.0)  # stream 1: zero point in both ADD inputs
    _zero(stem, [2], 0.0)  # only in the stem: kept
    _zero(b2, [0, 3, 7], 0.4)
    _zero(sc, [0, 3, 7], -0.25)  # stream 2: other constants, folded into the classifier's bias
    rng = np.random.default_rng(2)
    calib = rng.uniform(0, 1, size=(64, 8, 8, 3)).astype(np.float32)
    path = tmp_path_factory.mktemp("channels") / "residual.tflite"
    path.write_bytes(quantize.convert(model, "int8", calib))
    return path


def test_residual_streams_pruned_as_groups_shrink(residual_model: Path) -> None:
    graph = parse_tflite(residual_model.read_bytes())
    after = native_graph(graph)
    assert [op.op for op in after.operators].count("ADD") == 2
    shrunk = sorted(removed_channels(graph, after).values())
    # stream 1: stem and a2 8 -> 4; stream 2: b2 and the shortcut 8 -> 5; a1, b1 and the classifier keep theirs
    assert shrunk == [(8, 4), (8, 4), (8, 5), (8, 5)], shrunk
    adds = [op for op in after.operators if isinstance(op, ir.Add)]
    assert [after.tensors[op.outputs[0]].shape[-1] for op in adds] == [4, 5]
    fc = after.operators[-1] if isinstance(after.operators[-1], ir.FullyConnected) else after.operators[-2]
    assert after.tensors[fc.inputs[1]].shape[-1] == 5


def test_residual_streams_removed_exactly_against_tflm(residual_model: Path, tmp_path: Path) -> None:
    report = verify(residual_model, samples=40, seed=5, tflm_arena=False, cache_dir=tmp_path)
    assert report.quantized
    assert report.exact_matches == report.samples, report.as_dict()
