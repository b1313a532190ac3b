"""Python side of the Huffman blob codec: round trips, code-length limits, blob layout, choice."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from codegen.compress import huffman
from codegen.compress.huffman import BlobError, choose, decode, encode
from codegen.errors import CodegenError

int8_arrays = hnp.arrays(np.int8, st.integers(0, 600), elements=st.integers(-128, 127))
# Few distinct values with a dominant one: what pruned weights look like.
sparse_arrays = st.builds(
    lambda n, p, seed: np.where(np.random.default_rng(seed).random(n) < p, 0,
                                np.random.default_rng(seed + 1).integers(-128, 128, n)).astype(np.int8),
    st.integers(0, 800), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))


def skewed(n_symbols: int) -> np.ndarray:
    """Fibonacci frequencies: unlimited Huffman codes get as long as n_symbols - 1 bits."""
    fib = [1, 1]
    while len(fib) < n_symbols:
        fib.append(fib[-1] + fib[-2])
    return np.repeat(np.arange(n_symbols, dtype=np.int8) - 10, fib).astype(np.int8)


@settings(max_examples=150, deadline=None)
@given(int8_arrays, st.sampled_from([None, False, True]), st.sampled_from([None, False, True]))
def test_python_decode_inverts_encode_for_any_int8_tensor(values, gaps, signmag):
    blob = encode(values, gaps=gaps, signmag=signmag)
    assert np.array_equal(decode(blob), values.reshape(-1))


@settings(max_examples=100, deadline=None)
@given(sparse_arrays)
def test_python_decode_inverts_encode_for_sparse_tensors(values):
    assert np.array_equal(decode(encode(values)), values)


@settings(max_examples=60, deadline=None)
@given(int8_arrays)
def test_blob_byte_counts_add_up_and_header_matches_spec(values):
    blob = encode(values)
    assert blob.header_bytes + blob.table_bytes + blob.coded_bytes == len(blob.data)
    magic, crc, version, flags, max_len, fill, count, payload, table, reserved = struct.unpack_from(
        "<4sIBBBbIIHH", blob.data)
    assert (magic, version, count, payload, table, reserved) == (b"CGHF", 1, values.size, blob.coded_bytes,
                                                                 blob.table_bytes, 0)
    assert crc == zlib.crc32(blob.data[8:])
    assert max_len <= huffman.MAX_CODE_LEN
    assert blob.raw_bytes == values.size


@pytest.mark.parametrize("n_symbols", [14, 20, 30])
def test_skewed_distribution_is_length_limited_and_still_decodes(n_symbols):
    values = skewed(n_symbols)
    freqs = {int(v): int(c) for v, c in zip(*np.unique(values, return_counts=True), strict=True)}
    unlimited = huffman._huffman_lengths(freqs)
    assert max(unlimited.values()) > huffman.MAX_CODE_LEN  # the case the limit exists for
    limited = huffman.limit_lengths(unlimited, freqs, huffman.MAX_CODE_LEN)
    assert max(limited.values()) <= huffman.MAX_CODE_LEN
    assert sum(2.0 ** -n for n in limited.values()) == 1.0  # a complete prefix code: no wasted code space
    blob = encode(values, gaps=False, signmag=False)
    assert blob.data[10] == huffman.MAX_CODE_LEN
    assert np.array_equal(decode(blob), values)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.integers(0, 287), st.integers(1, 10**6), min_size=2, max_size=288),
       st.integers(9, 15))
def test_limited_lengths_form_a_prefix_code_within_the_limit(freqs, limit):
    lengths = huffman.limit_lengths(huffman._huffman_lengths(freqs), freqs, limit)
    assert set(lengths) == set(freqs)
    assert max(lengths.values()) <= limit
    assert sum(2.0 ** -n for n in lengths.values()) <= 1.0
    codes = huffman.canonical_codes(lengths)
    words = sorted(format(codes[s], f"0{lengths[s]}b") for s in codes)
    assert all(not b.startswith(a) for a, b in zip(words, words[1:], strict=False))


def test_single_repeated_value_is_a_header_only_blob():
    blob = encode(np.full(5000, -7, dtype=np.int8))
    assert (blob.mode, len(blob.data), blob.table_bytes, blob.coded_bytes) == ("const", 24, 0, 0)
    assert np.array_equal(decode(blob), np.full(5000, -7, dtype=np.int8))


@pytest.mark.parametrize("values", [np.zeros(0, np.int8), np.array([-128], np.int8),
                                    np.array([127], np.int8)])
def test_empty_and_one_element_tensors_round_trip(values):
    blob = encode(values)
    assert blob.count == values.size
    assert np.array_equal(decode(blob), values)


def test_all_256_values_round_trip_in_every_layout():
    values = np.random.default_rng(1).permutation(np.arange(-128, 128)).astype(np.int8).repeat(3)
    for gaps in (False, True):
        for signmag in (False, True):
            assert np.array_equal(decode(encode(values, gaps=gaps, signmag=signmag)), values)


def test_gap_layout_beats_the_one_bit_floor_of_plain_huffman():
    rng = np.random.default_rng(2)
    values = np.where(rng.random(20000) < 0.95, 0, rng.integers(-127, 128, 20000)).astype(np.int8)
    plain = encode(values, gaps=False)
    best = encode(values)
    assert plain.coded_bytes >= values.size // 8  # >= 1 bit per element
    assert best.mode == "huffman+gaps"
    assert best.blob_bytes < 0.6 * plain.blob_bytes


def test_bit_flip_makes_python_decoder_raise():
    blob = bytearray(encode(np.arange(-50, 50, dtype=np.int8).repeat(4)).data)
    for bit in range(0, len(blob) * 8, 7):
        damaged = bytearray(blob)
        damaged[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(BlobError):
            decode(bytes(damaged))


def test_non_int8_tensor_is_refused_with_a_hint():
    with pytest.raises(CodegenError, match="int8") as err:
        encode(np.arange(10, dtype=np.int32))
    assert err.value.hint


def test_choice_keeps_bias_tiny_and_incompressible_tensors_raw():
    rng = np.random.default_rng(3)
    assert choose(np.arange(1000, dtype=np.int32)) == "raw"  # biases
    assert choose(np.zeros(100, dtype=np.int8), min_bytes=256) == "raw"  # tiny
    assert choose(rng.integers(-128, 128, 4096).astype(np.int8)) == "raw"  # uniform: blob > raw
    half_zero = np.where(rng.random(4096) < 0.5, 0, rng.integers(-128, 128, 4096)).astype(np.int8)
    assert choose(half_zero) == "huffman"
