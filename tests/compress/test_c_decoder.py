"""The C decoder (runtime/src/huffman) decodes what the Python encoder writes and agrees with it on errors."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from codegen.compress import huffman
from codegen.compress.huffman import encode
from tests.compress.c_huffman import HUFFMAN_SOURCES, RUNTIME, STATUS
from tests.compress.test_huffman_codec import skewed, sparse_arrays

OK, CORRUPT = STATUS["CG_OK"], STATUS["CG_ERR_CORRUPT"]


def recrc(blob: bytes | bytearray) -> bytes:
    """The blob with its CRC field recomputed (so that only the structural checks can catch damage)."""
    return bytes(blob[:4]) + struct.pack("<I", zlib.crc32(bytes(blob[8:]))) + bytes(blob[8:])


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.int8, st.integers(0, 700), elements=st.integers(-128, 127)),
       st.sampled_from([None, False, True]), st.sampled_from([None, False, True]))
def test_c_decoder_returns_the_encoded_tensor(chuff, values, gaps, signmag):
    blob = encode(values, gaps=gaps, signmag=signmag).data
    assert chuff.check(blob) == (OK, values.size)
    for crc in (True, False):
        status, out = chuff.decode(blob, values.size, crc=crc)
        assert status == OK
        assert np.array_equal(out, values)


@settings(max_examples=150, deadline=None)
@given(sparse_arrays)
def test_c_decoder_returns_sparse_tensors(chuff, values):
    status, out = chuff.decode(encode(values).data, values.size)
    assert status == OK
    assert np.array_equal(out, values)


def _long_runs() -> np.ndarray:
    v = np.zeros(3000, dtype=np.int8)
    v[[40, 41, 500, 1777]] = [5, -128, 127, -1]
    return v  # leading, inner and trailing runs longer than any escape


@pytest.mark.parametrize("values", [
    pytest.param(np.full(1000, 42, np.int8), id="single-repeated-value"),
    pytest.param(np.arange(-128, 128).astype(np.int8), id="all-256-values"),
    pytest.param(skewed(25), id="skewed-hits-length-limit"),
    pytest.param(np.zeros(0, np.int8), id="empty"),
    pytest.param(np.array([-128], np.int8), id="one-element"),
    pytest.param(np.array([3, -3], np.int8), id="two-elements"),
    pytest.param(_long_runs(), id="long-runs"),
    pytest.param(np.tile(np.array([-128, 0, 0, 127], np.int8), 300), id="extremes-sign-magnitude"),
])
@pytest.mark.parametrize("layout", [{}, {"gaps": False, "signmag": False}, {"gaps": True, "signmag": True},
                                    {"gaps": True, "signmag": False}, {"gaps": False, "signmag": True}])
def test_c_decoder_handles_edge_case_tensors(chuff, values, layout):
    blob = encode(values, **layout)
    status, out = chuff.decode(blob.data, values.size)
    assert status == OK
    assert np.array_equal(out, values)


def test_c_and_python_share_scratch_size_and_crc(chuff):
    assert chuff.scratch_size == huffman.SCRATCH_BYTES
    assert chuff.crc32(b"123456789") == 0xCBF43926 == huffman.crc32(b"123456789")
    data = np.random.default_rng(0).integers(0, 256, 5000).astype(np.uint8).tobytes()
    assert chuff.crc32(data) == huffman.crc32(data)


def test_wrong_output_length_scratch_and_null_are_reported(chuff):
    values = np.arange(-100, 100, dtype=np.int8)
    blob = encode(values).data
    assert chuff.decode(blob, values.size - 1)[0] == STATUS["CG_ERR_SHAPE"]
    fn = chuff.lib.cg_huffman_decode_s8
    out = np.zeros(values.size, np.int8)
    scratch = np.zeros(huffman.SCRATCH_BYTES // 4, np.uint32)
    assert fn(blob, len(blob), out.ctypes.data, values.size, scratch.ctypes.data,
              huffman.SCRATCH_BYTES - 1) == STATUS["CG_ERR_SCRATCH"]
    assert fn(blob, len(blob), out.ctypes.data, values.size, scratch.ctypes.data + 1,
              huffman.SCRATCH_BYTES) == STATUS["CG_ERR_SCRATCH"]
    assert fn(None, len(blob), out.ctypes.data, values.size, scratch.ctypes.data,
              huffman.SCRATCH_BYTES) == STATUS["CG_ERR_ARG"]


def test_intact_blob_of_a_newer_version_is_unsupported(chuff):
    blob = bytearray(encode(np.arange(-100, 100, dtype=np.int8)).data)
    blob[8] = 2
    assert chuff.check(recrc(blob))[0] == STATUS["CG_ERR_UNSUPPORTED"]
    with pytest.raises(huffman.BlobError, match="version"):
        huffman.decode(recrc(blob))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_c_and_python_agree_on_blobs_with_valid_crc_but_damaged_content(chuff, data):
    """Damage the header, table or bitstream and fix the CRC: only structural checks remain. The C decoder
    must then accept exactly what the Python reference accepts, with the same output."""
    values = data.draw(st.one_of(sparse_arrays, hnp.arrays(np.int8, st.integers(1, 300))))
    blob = bytearray(encode(values).data)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(8, len(blob) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    damaged = recrc(blob)
    count = struct.unpack_from("<I", damaged, 12)[0]
    if count > 100_000:
        count = values.size  # the C decoder refuses the size mismatch; do not allocate gigabytes
    try:
        expected = huffman.decode(damaged)
    except huffman.BlobError:
        expected = None
    status, out = chuff.decode(damaged, count)
    if expected is None or expected.size != count:
        assert status != OK
    else:
        assert status == OK
        assert np.array_equal(out, expected)


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_decoder_compiles_clean_for_cortex_m4(tmp_path):
    for src in HUFFMAN_SOURCES:
        subprocess.run(["arm-none-eabi-gcc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2",
                        "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
                        "-I", str(RUNTIME / "include"), "-c", str(src), "-o", str(tmp_path / "x.o")],
                       check=True, capture_output=True)
