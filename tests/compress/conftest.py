"""Fixtures for the Huffman codec tests: the C decoder as a ctypes library and as a sanitized driver."""

from __future__ import annotations

import struct
import subprocess

import pytest

from tests.compress.c_huffman import C_SOURCES, DRIVER, CHuffman, Record, SanitizedRun, gcc


@pytest.fixture(scope="session")
def chuff(tmp_path_factory: pytest.TempPathFactory) -> CHuffman:
    lib = tmp_path_factory.mktemp("huffman") / "libcghuffman.so"
    gcc(["-O2", "-shared", "-fPIC", "-o", str(lib), *map(str, C_SOURCES)])
    return CHuffman(lib)


@pytest.fixture(scope="session")
def sanitized_decode(tmp_path_factory: pytest.TempPathFactory) -> SanitizedRun:
    """Run (blob, out_len) cases through the decoder built with -fsanitize=address,undefined; returns
    (check, decode, decode_nocrc, fnv1a hash of the output) per case. Any sanitizer report fails the test."""
    exe = tmp_path_factory.mktemp("huffman_asan") / "huffman_driver"
    gcc(["-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-o", str(exe),
         str(DRIVER), *map(str, C_SOURCES)])

    def run(cases: list[tuple[bytes, int]]) -> list[Record]:
        stdin = b"".join(struct.pack("<I", len(b)) + b + struct.pack("<I", n) for b, n in cases)
        proc = subprocess.run([str(exe)], input=stdin, capture_output=True, timeout=120)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
        assert not proc.stderr, proc.stderr.decode(errors="replace")[-3000:]
        rows = [tuple(int(x) for x in line.split()) for line in proc.stdout.decode().splitlines()]
        assert len(rows) == len(cases)
        return rows  # type: ignore[return-value]

    return run
