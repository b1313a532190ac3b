"""Sparse weight blobs (bitmap of the non-zero elements + their values, issue #16): the C expander
cg_sparse_decode_s8 restores the array exactly and rejects blobs that do not hold exactly the array, without
writing past it; the codec picks the layout for weights with many zeros, and the generated network still
computes TFLM's integers."""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np
import pytest

from codegen import host
from codegen.backend.native import NativeOptions
from codegen.compress.codec import HuffmanCodec, sparse_blob
from codegen.frontend import load_model
from codegen.reference import ReferenceModel
from tests.compress.c_huffman import C_SOURCES, STATUS, gcc
from tests.native.op_models import OpSpec, build

GUARD = 16


@pytest.fixture(scope="module")
def build_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("host")


@pytest.fixture(scope="module")
def expand(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    lib_path = tmp_path_factory.mktemp("sparse") / "libcgsparse.so"
    gcc(["-O2", "-shared", "-fPIC", "-o", str(lib_path), *map(str, C_SOURCES)])
    lib = ctypes.CDLL(str(lib_path))
    fn = lib.cg_sparse_decode_s8
    fn.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_uint32]
    fn.restype = ctypes.c_int

    def run(blob: bytes, n: int) -> tuple[int, np.ndarray]:
        out = (ctypes.c_int8 * (n + GUARD))(*([0x5A] * (n + GUARD)))
        status = fn(blob, len(blob), out, n)
        arr = np.frombuffer(bytes(out), dtype=np.int8)
        assert np.all(arr[n:] == 0x5A), "wrote past the output"
        return status, arr[:n]

    return run


@pytest.mark.parametrize("n", [1, 7, 8, 9, 64, 333])
def test_expander_restores_sparse_arrays(expand, n: int) -> None:  # noqa: ANN001
    rng = np.random.default_rng(n)
    for density in (0.0, 0.3, 1.0):
        values = (rng.integers(-128, 128, n) * (rng.random(n) < density)).astype(np.int8)
        status, out = expand(sparse_blob(values), n)
        assert status == STATUS["CG_OK"]
        np.testing.assert_array_equal(out, values)


def test_expander_rejects_blobs_that_do_not_hold_the_array(expand) -> None:  # noqa: ANN001
    values = np.array([0, 3, 0, -7, 0, 0, 9, 0, 0, 1, 0], dtype=np.int8)
    blob = sparse_blob(values)
    corrupt = STATUS["CG_ERR_CORRUPT"]
    assert expand(blob[:-1], values.size)[0] == corrupt  # a value missing
    assert expand(blob + b"\x01", values.size)[0] == corrupt  # a value too many
    assert expand(blob[:1], values.size)[0] == corrupt  # bitmap cut short
    extra_bit = bytearray(blob)
    extra_bit[1] |= 0x80  # element 15 of an 11-element array
    assert expand(bytes(extra_bit), values.size)[0] == corrupt
    more_bits = bytearray(blob)
    more_bits[0] = 0xFF  # eight non-zero elements, fewer values follow
    assert expand(bytes(more_bits), values.size)[0] == corrupt
    rng = np.random.default_rng(4)
    for _ in range(200):  # random bytes: any status, never a write past the output
        expand(rng.integers(0, 256, int(rng.integers(0, 12))).astype(np.uint8).tobytes(), 11)


def _pruned_kernel(shape, dtype=None):  # noqa: ANN001, ANN202
    import tensorflow as tf

    rng = np.random.default_rng(21)
    w = rng.normal(0.0, 0.3, shape) * (rng.random(shape) < 0.4)
    return tf.constant(w.astype(np.float32), dtype=dtype or tf.float32)


SPEC = OpSpec(
    "conv_sparse_blob",
    ((12, 12, 16),),
    lambda K, x: K.layers.Conv2D(32, 3, padding="same", kernel_initializer=_pruned_kernel)(x[0]),
    key="sparse-blob-v1",
)


@pytest.mark.parametrize("decode", ["layer", "init"])
def test_pruned_convolution_with_sparse_blobs_matches_tflm(decode: str, build_cache) -> None:  # noqa: ANN001
    path = build(SPEC)
    graph = load_model(path)
    # per layer, with RAM to spare: the convolution expands its sparse groups itself (one block)
    ours = host.compile(graph, cache_dir=build_cache,
                        options=NativeOptions(kernels="dsp", codec=HuffmanCodec(), decode=decode, block_budget=1 << 20))
    decoders = {s.blob.decoder for s in ours.sources.constants if s.blob is not None}
    if decode == "init":
        assert decoders == {"cg_sparse_decode_s8"}
    else:  # per layer: the convolution expands its sparse groups itself, per block (tests/native/test_conv_blocks.py)
        assert not decoders and "cg_conv2d_dsp_sparse_s8" in ours.sources.kernels
    ref = ReferenceModel(path)
    rng = np.random.default_rng(2)
    for _ in range(4):
        x = rng.integers(-128, 128, graph.input_tensors[0].shape).astype(np.int8)
        mine = ours.predict([x])[0]
        np.testing.assert_array_equal(mine, np.asarray(ref.predict([x])[0]).reshape(mine.shape))
