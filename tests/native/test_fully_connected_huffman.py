"""Fully connected layers that read compressed weights as they consume them (issue #16), with ``--huffman
--decode layer``: cg_fully_connected_sparse_s8 (bitmap + non-zero weights) for mostly-zero weights, else
cg_fully_connected_huffman_s8, which decodes its Huffman blob inside the multiply-accumulate loop. The generated
network must compute TFLM's integers for the sparse layout (an all-zero unit, a depth that is no multiple of 8)
and every blob layout the Huffman kernel parses: gap codes over zeros (runs longer than a row, whole zero rows,
escapes), a non-zero fill value, plain literals, a CONST blob. Each case checks that it reaches the kernel and
layout it is about."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions
from codegen.backend.native.lower import stream as streamed
from codegen.compress import huffman
from codegen.compress.codec import HuffmanCodec
from codegen.frontend.tflite import parse_tflite
from codegen.reference import ReferenceModel
from tests.native.op_models import OpSpec, build

DEPTH, UNITS = 150, 12


def _sparse() -> np.ndarray:
    """[DEPTH, UNITS]: 80 % zeros, one all-zero unit."""
    rng = np.random.default_rng(11)
    w = rng.normal(0.0, 0.5, (DEPTH, UNITS)) * (rng.random((DEPTH, UNITS)) < 0.2)
    w[:, 3] = 0.0
    w[0, :] = 1.0
    w[0, 3] = 0.0
    return w


def _gaps() -> np.ndarray:
    """The sparse weights with zero runs across unit boundaries, Huffman-coded (the sparse layout is turned off
    for this case)."""
    w = _sparse()
    w[DEPTH // 2 :, 4] = 0.0
    w[: DEPTH // 3, 5] = 0.0
    return w


def _fill() -> np.ndarray:
    """Most weights equal one non-zero value: the gap codes count that value (fill != 0)."""
    rng = np.random.default_rng(12)
    w = np.full((DEPTH, UNITS), 0.5)
    mask = rng.random((DEPTH, UNITS)) < 0.15
    w[mask] = rng.uniform(-1.0, 1.0, mask.sum())
    w[0, :] = 1.0
    return w


def _skewed() -> np.ndarray:
    """No runs, a narrow distribution: plain literals (no gap codes)."""
    rng = np.random.default_rng(13)
    w = np.clip(rng.normal(0.0, 0.08, (DEPTH, UNITS)), -1.0, 1.0)
    w[0, :] = 1.0
    return w


def _const() -> np.ndarray:
    return np.full((DEPTH, UNITS), 0.75)


CASES = {"sparse": _sparse, "gaps": _gaps, "fill": _fill, "plain": _skewed, "const": _const}


def _spec(name: str) -> OpSpec:
    def init(shape, dtype=None):  # noqa: ANN001, ANN202
        import tensorflow as tf

        return tf.constant(CASES[name]().astype(np.float32), dtype=dtype or tf.float32)

    return OpSpec(
        f"fc_huffman_{name}",
        ((DEPTH,),),
        lambda K, x: K.layers.Dense(UNITS, kernel_initializer=init, bias_initializer="glorot_uniform")(x[0]),
        key=f"fc-huffman-{name}-v3",
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_streamed_fully_connected_matches_tflm(
    case: str, tmp_path: Path, build_cache, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    if case == "gaps":
        monkeypatch.setattr(streamed, "SPARSE_MAX_SHARE", 0.0)
        monkeypatch.setattr(streamed, "SPARSE_OVER_HUFFMAN", 0.0)
    path = build(_spec(case))
    graph = parse_tflite(path.read_bytes(), name="fc", source=str(path))
    options = NativeOptions(codec=HuffmanCodec(), decode="layer", kernels="dsp")
    ours = host.compile(graph, cache_dir=build_cache, options=options)
    if case == "sparse":
        assert "cg_fully_connected_sparse_s8" in ours.sources.kernels
        assert all(s.blob is None for s in ours.sources.constants)
    else:
        assert "cg_fully_connected_huffman_s8" in ours.sources.kernels
        blob = next(s.blob.data for s in ours.sources.constants if s.blob is not None)
        flags, fill = blob[9], np.int8(blob[11])
        expected = {"gaps": huffman.FLAG_GAPS, "fill": huffman.FLAG_GAPS, "plain": 0, "const": huffman.FLAG_CONST}
        assert flags & (huffman.FLAG_GAPS | huffman.FLAG_CONST) == expected[case]
        if case == "gaps":
            assert fill == 0
        if case == "fill":
            assert fill != 0
    assert ours.sources.decoded_bytes == 0
    assert all(b.kind != "decode" for b in ours.sources.plan.buffers)  # no decoded copy in the arena
    ref = ReferenceModel(path)
    rng = np.random.default_rng(7)
    xs = [np.full(DEPTH, -128), np.full(DEPTH, 127), *rng.integers(-128, 128, size=(6, DEPTH))]
    for x in xs:
        x = x.astype(np.int8).reshape(graph.input_tensors[0].shape)
        mine, theirs = ours.predict([x]), ref.predict([x])
        np.testing.assert_array_equal(mine[0], np.asarray(theirs[0]).reshape(mine[0].shape))
