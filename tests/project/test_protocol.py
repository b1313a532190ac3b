"""Frame encoding/decoding on the host, and agreement of the firmware's C checksums with the Python ones."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.hil.protocol import Command, CorruptFrame, Frame, FrameDecoder, crc8, encode_frame, parse_dump
from codegen.resources import resource_path


@given(
    cmd=st.integers(0, 255),
    seq=st.integers(0, 255),
    payload=st.binary(max_size=600),
    noise=st.binary(max_size=40).filter(lambda b: b"\xa5" not in b),
)
@settings(max_examples=200, deadline=None)
def test_frames_round_trip_through_the_decoder_after_noise(
    cmd: int, seq: int, payload: bytes, noise: bytes
) -> None:
    dec = FrameDecoder()
    events = list(dec.feed(noise + encode_frame(cmd, seq, payload)))
    assert events == [Frame(cmd, seq, payload)]
    assert dec.take_text() == noise


@given(split=st.integers(1, 40))
def test_decoder_reassembles_frames_split_across_reads(split: int) -> None:
    raw = encode_frame(Command.INFER, 3, bytes(range(40)))
    dec = FrameDecoder()
    events = list(dec.feed(raw[:split])) + list(dec.feed(raw[split:]))
    assert events == [Frame(Command.INFER, 3, bytes(range(40)))]


def test_corrupted_frame_is_reported_and_the_next_one_decoded() -> None:
    bad = bytearray(encode_frame(Command.INFO, 1, b"abcdef"))
    bad[12] ^= 0x01  # payload bit flip
    dec = FrameDecoder()
    events = list(dec.feed(bytes(bad) + encode_frame(Command.PING, 2, b"ok")))
    assert isinstance(events[0], CorruptFrame) and "CRC" in events[0].reason
    assert events[-1] == Frame(Command.PING, 2, b"ok")


def test_frame_layout_matches_the_specification() -> None:
    raw = encode_frame(0x03, 0x07, b"\x01\x02")
    assert raw[:2] == b"\xa5\x5a" and raw[2] == 0x03 and raw[3] == 0x07
    assert raw[4:8] == (2).to_bytes(4, "little") and raw[8] == crc8(raw[2:8])
    assert raw[-4:] == zlib.crc32(raw[2:-4]).to_bytes(4, "little")
    assert crc8(b"123456789") == 0xF4  # CRC-8/SMBUS check value


def test_dump_final_frame_carries_cycles() -> None:
    assert parse_dump(b"\x00\xff\xff\x0d\x00" + (1234).to_bytes(4, "little")) == (13, 1234)


@pytest.fixture(scope="module")
def c_crc(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no host gcc")
    lib = tmp_path_factory.mktemp("crc") / "libcgcrc.so"
    src = resource_path("firmware") / "app" / "cg_crc.c"
    subprocess.run(
        [gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC", "-o", str(lib), str(src)],
        check=True,
    )
    dll = ctypes.CDLL(str(lib))
    dll.cg_crc8_update.restype = ctypes.c_uint8
    dll.cg_crc8_update.argtypes = [ctypes.c_uint8, ctypes.c_uint8]
    dll.cg_crc32_update.restype = ctypes.c_uint32
    dll.cg_crc32_update.argtypes = [ctypes.c_uint32, ctypes.c_char_p, ctypes.c_uint32]
    return dll


@given(data=st.binary(max_size=300))
@settings(max_examples=100, deadline=None)
def test_firmware_checksums_equal_the_host_checksums(c_crc: ctypes.CDLL, data: bytes) -> None:
    c8 = 0
    for b in data:
        c8 = c_crc.cg_crc8_update(c8, b)
    assert c8 == crc8(data)
    assert c_crc.cg_crc32_update(0xFFFFFFFF, data, len(data)) ^ 0xFFFFFFFF == zlib.crc32(data)


def test_firmware_sources_exist_for_the_emulated_port() -> None:
    port = resource_path("firmware") / "port" / "emulated"
    assert {p.name for p in port.iterdir()} >= {"port_emulated.c", "startup_stm32f405.c", "stm32f405_qemu.ld"}
    assert Path(resource_path("platform") / "platform.json").is_file()
