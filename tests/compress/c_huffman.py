"""The C Huffman decoder seen from Python: a ctypes wrapper, build helpers, status codes."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from codegen.resources import resource_path

RUNTIME = resource_path("runtime")
HUFFMAN_SOURCES = sorted((RUNTIME / "src" / "huffman").glob("*.c"))
C_SOURCES = [*HUFFMAN_SOURCES, RUNTIME / "src" / "common" / "cg_status_str.c"]
DRIVER = Path(__file__).parent / "c" / "huffman_driver.c"
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"]

STATUS = {
    m.group(1): int(m.group(2))
    for m in re.finditer(r"X\((CG_\w+), (\d+),", (RUNTIME / "include" / "cg_status.h").read_text())
}


def gcc(args: list[str]) -> None:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    subprocess.run(["gcc", *WARN, "-I", str(RUNTIME / "include"), *args], check=True, capture_output=True)


class CHuffman:
    """ctypes view of the C decoder."""

    def __init__(self, path: Path) -> None:
        lib = ctypes.CDLL(str(path))
        u8p, u32 = ctypes.c_char_p, ctypes.c_uint32
        lib.cg_huffman_check.argtypes = [u8p, u32, ctypes.POINTER(u32)]
        lib.cg_huffman_check.restype = ctypes.c_int
        for name in ("cg_huffman_decode_s8", "cg_huffman_decode_nocrc_s8"):
            fn = getattr(lib, name)
            fn.argtypes = [u8p, u32, ctypes.c_void_p, u32, ctypes.c_void_p, u32]
            fn.restype = ctypes.c_int
        lib.cg_huffman_crc32.argtypes = [u32, u8p, u32]
        lib.cg_huffman_crc32.restype = u32
        lib.cg_huffman_get_scratch_size.restype = u32
        self.lib = lib
        self.scratch_size = int(lib.cg_huffman_get_scratch_size())
        self._scratch = np.zeros((self.scratch_size + 3) // 4, dtype=np.uint32)

    def check(self, blob: bytes) -> tuple[int, int]:
        count = ctypes.c_uint32(0xDEADBEEF)
        status = self.lib.cg_huffman_check(blob, len(blob), ctypes.byref(count))
        return status, count.value

    def decode(self, blob: bytes, count: int, crc: bool = True) -> tuple[int, np.ndarray]:
        out = np.zeros(max(count, 1), dtype=np.int8)
        fn = self.lib.cg_huffman_decode_s8 if crc else self.lib.cg_huffman_decode_nocrc_s8
        status = fn(blob, len(blob), out.ctypes.data, count, self._scratch.ctypes.data, self.scratch_size)
        return status, out[:count]

    def crc32(self, data: bytes) -> int:
        return int(self.lib.cg_huffman_crc32(0, data, len(data)))


Record = tuple[int, int, int, int]
SanitizedRun = Callable[[list[tuple[bytes, int]]], list[Record]]


def fnv1a(values: np.ndarray) -> int:
    h = 2166136261
    for b in values.astype(np.uint8).tobytes():
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h
