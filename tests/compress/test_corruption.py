"""Damaged blobs give CG_ERR_CORRUPT, never a crash or an out-of-bounds access (checked under ASan/UBSan)."""

from __future__ import annotations

import numpy as np
import pytest

from codegen.compress import huffman
from codegen.compress.huffman import encode
from tests.compress.c_huffman import STATUS, fnv1a
from tests.compress.test_c_decoder import recrc

OK, CORRUPT = STATUS["CG_OK"], STATUS["CG_ERR_CORRUPT"]


def _samples() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    sparse = np.where(rng.random(700) < 0.75, 0, rng.integers(-128, 128, 700)).astype(np.int8)
    return {
        "dense": np.clip(rng.normal(0, 25, 600), -128, 127).astype(np.int8),
        "sparse-gaps": sparse,
        "const": np.full(50, 9, np.int8),
        "empty": np.zeros(0, np.int8),
    }


@pytest.mark.parametrize("name", list(_samples()))
def test_every_single_bit_flip_is_reported_as_corrupt(chuff, name):
    values = _samples()[name]
    blob = encode(values).data
    for bit in range(len(blob) * 8):
        damaged = bytearray(blob)
        damaged[bit // 8] ^= 1 << (bit % 8)
        assert chuff.check(bytes(damaged))[0] == CORRUPT, bit
        assert chuff.decode(bytes(damaged), values.size)[0] == CORRUPT, bit
        with pytest.raises(huffman.BlobError):
            huffman.decode(bytes(damaged))


@pytest.mark.parametrize("name", list(_samples()))
def test_every_truncation_is_reported_as_corrupt(chuff, name):
    values = _samples()[name]
    blob = encode(values).data
    for n in range(len(blob)):
        assert chuff.check(blob[:n])[0] == CORRUPT, n
        assert chuff.decode(blob[:n], values.size)[0] == CORRUPT, n
        assert chuff.decode(blob[:n], values.size, crc=False)[0] != OK, n


def test_sanitized_decoder_survives_adversarial_blobs(sanitized_decode):
    """Valid blobs, bit flips, truncations, appended bytes and random damage with a recomputed CRC, through
    the decoder built with -fsanitize=address,undefined and exactly-sized heap buffers."""
    rng = np.random.default_rng(11)
    cases: list[tuple[bytes, int]] = []
    expected: list[tuple[int, int, int, int] | None] = []  # None: must not be OK
    for values in [*_samples().values(), np.arange(-128, 128).astype(np.int8)]:
        blob = encode(values).data
        cases.append((blob, values.size))
        h = fnv1a(values)
        expected.append((OK, OK, OK, h))
        for bit in rng.choice(len(blob) * 8, size=min(60, len(blob) * 8), replace=False):
            damaged = bytearray(blob)
            damaged[bit // 8] ^= 1 << (bit % 8)
            cases.append((bytes(damaged), values.size))
            expected.append(None)
        for n in range(0, len(blob), max(1, len(blob) // 20)):
            cases.append((blob[:n], values.size))
            expected.append(None)
        cases.append((recrc(blob + b"\x00"), values.size))  # trailing garbage with a valid CRC
        expected.append(None)
    # random damage behind a valid CRC: structural checks only; compare with the Python reference
    structural: list[tuple[bytes, int, np.ndarray | None]] = []
    for i in range(400):
        values = np.where(rng.random(300) < rng.random(), 0, rng.integers(-128, 128, 300)).astype(np.int8)
        blob = bytearray(encode(values).data)
        for _ in range(1 + i % 3):
            blob[rng.integers(8, len(blob))] = rng.integers(0, 256)
        damaged = recrc(blob)
        try:
            ref = huffman.decode(damaged)
        except huffman.BlobError:
            ref = None
        structural.append((damaged, values.size, ref))
    rows = sanitized_decode(cases + [(b, n) for b, n, _ in structural])
    for (blob, n), want, got in zip(cases, expected, rows, strict=False):
        if want is None:
            assert got[1] == CORRUPT, (blob.hex(), n, got)
        else:
            assert got == want
    for (_blob, n, ref), got in zip(structural, rows[len(cases):], strict=True):
        if ref is None or ref.size != n:
            assert got[1] != OK and got[2] != OK
        else:
            assert got[1:] == (OK, OK, fnv1a(ref))
