"""Frames of the codegen serial protocol (docs/protocol.md): encoding, incremental decoding, CRCs, payloads.

Frame::

    A5 5A | cmd u8 | seq u8 | len u32 LE | hcrc u8 | payload[len] | crc u32 LE

``hcrc`` is CRC-8 (polynomial 0x07, init 0) over cmd..len; ``crc`` is CRC-32 (zlib.crc32) over cmd..payload
(so it covers hcrc too). Every reply payload starts with a status byte.
"""

from __future__ import annotations

import enum
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

SYNC = b"\xa5\x5a"
HEADER_BYTES = 9
TRAILER_BYTES = 4
PROTOCOL_VERSION = 1
REPLY = 0x80
READY_PREFIX = b"READY codegen"


class Command(enum.IntEnum):
    PING = 0x01
    INFO = 0x02
    INFER = 0x03
    PROFILE = 0x04
    DUMP = 0x05
    ERROR = 0xFF  # device -> host only: frame-level errors (bad header, bad CRC, timeout)


class Status(enum.IntEnum):
    OK = 0
    BAD_HEADER = 1
    BAD_CRC = 2
    BAD_LENGTH = 3
    UNKNOWN_COMMAND = 4
    TIMEOUT = 5
    NET_ERROR = 6
    BAD_ARGUMENT = 7


class DType(enum.IntEnum):
    """cg_dtype of runtime/include/cg_types.h."""

    INT8 = 0
    UINT8 = 1
    INT16 = 2
    INT32 = 3
    FLOAT32 = 4
    INT64 = 5

    @property
    def numpy_name(self) -> str:
        return self.name.lower()


def crc8(data: bytes, crc: int = 0) -> int:
    """CRC-8, polynomial 0x07, initial value 0, no reflection."""
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def encode_frame(cmd: int, seq: int, payload: bytes = b"") -> bytes:
    """One complete frame."""
    head = struct.pack("<BBI", cmd & 0xFF, seq & 0xFF, len(payload))
    body = head + bytes([crc8(head)]) + payload
    return SYNC + body + struct.pack("<I", crc32(body))


@dataclass(frozen=True)
class Frame:
    cmd: int
    seq: int
    payload: bytes

    @property
    def status(self) -> Status | int:
        if not self.payload:
            return Status.BAD_LENGTH
        try:
            return Status(self.payload[0])
        except ValueError:
            return self.payload[0]

    @property
    def error_text(self) -> str:
        return self.payload[2:].decode("ascii", "replace") if len(self.payload) > 2 else ""

    @property
    def error_detail(self) -> int:
        return self.payload[1] if len(self.payload) > 1 else 0


@dataclass(frozen=True)
class CorruptFrame:
    """A frame whose header or CRC-32 did not check out (the decoder resynchronised after it)."""

    reason: str
    seq: int | None = None


class FrameDecoder:
    """Incremental decoder: feed bytes, get frames; skips anything that is not a frame (text, e.g. READY,
    is collected in :attr:`text`), reports corrupt frames and resynchronises on the next sync bytes."""

    def __init__(self, max_payload: int = 1 << 24) -> None:
        self._buf = bytearray()
        self.max_payload = max_payload
        self.text = bytearray()

    def feed(self, data: bytes) -> Iterator[Frame | CorruptFrame]:
        self._buf += data
        while True:
            i = self._buf.find(SYNC)
            if i < 0:
                keep = 1 if self._buf.endswith(SYNC[:1]) else 0
                self.text += self._buf[: len(self._buf) - keep]
                del self._buf[: len(self._buf) - keep]
                return
            if i:
                self.text += self._buf[:i]
                del self._buf[:i]
            if len(self._buf) < HEADER_BYTES:
                return
            head = bytes(self._buf[2:8])
            if crc8(head) != self._buf[8]:
                del self._buf[:1]  # resync: look for the next sync after this one
                yield CorruptFrame("bad header check byte")
                continue
            cmd, seq, length = struct.unpack("<BBI", head)
            if length > self.max_payload:
                del self._buf[:1]
                yield CorruptFrame(f"length {length} exceeds {self.max_payload}", seq)
                continue
            total = HEADER_BYTES + length + TRAILER_BYTES
            if len(self._buf) < total:
                return
            body = bytes(self._buf[2 : HEADER_BYTES + length])
            (want,) = struct.unpack("<I", self._buf[HEADER_BYTES + length : total])
            if crc32(body) != want:
                del self._buf[:1]
                yield CorruptFrame("frame CRC-32 mismatch", seq)
                continue
            del self._buf[:total]
            yield Frame(cmd=cmd, seq=seq, payload=body[7:])

    @property
    def in_frame(self) -> bool:
        """True while the start of a frame (sync bytes) is buffered, waiting for the rest."""
        return self._buf.startswith(SYNC)

    def flush_partial(self, reason: str = "truncated frame") -> list[Frame | CorruptFrame]:
        """Give up on a frame whose rest never came (a byte lost on the link, or a corrupted length that passed
        the header check): report it as corrupt and decode whatever follows its sync bytes."""
        if not self._buf:
            return []
        if not self._buf.startswith(SYNC):  # a lone trailing first sync byte: it was text after all
            self.text += self._buf
            self._buf.clear()
            return []
        seq = self._buf[3] if len(self._buf) >= HEADER_BYTES else None
        del self._buf[:1]
        return [CorruptFrame(reason, seq), *self.feed(b"")]

    def take_text(self) -> bytes:
        out = bytes(self.text)
        self.text.clear()
        return out

    def reset(self) -> None:
        self._buf.clear()
        self.text.clear()


# ---- payloads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorInfo:
    dtype: DType
    shape: tuple[int, ...]
    scale: float
    zero_point: int
    nbytes: int


@dataclass(frozen=True)
class DeviceInfo:
    protocol_version: int
    num_inputs: int
    num_outputs: int
    num_layers: int
    net_ok: bool
    arena_bytes: int
    clock_hz: int
    counter_hz: int
    max_payload: int
    model_sha256: str
    tool_version: str
    firmware_version: str
    board: str
    model_name: str
    counter_kind: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]

    @property
    def input_bytes(self) -> int:
        return sum(t.nbytes for t in self.inputs)


@dataclass(frozen=True)
class LayerProfile:
    index: int
    name: str
    cycles: int


@dataclass(frozen=True)
class LayerOutput:
    index: int
    name: str
    data: bytes


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ValueError(f"payload too short: need {self.pos + size} bytes, have {len(self.data)}")
        out = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return out

    def string(self) -> str:
        (n,) = self.take("<B")
        (raw,) = self.take(f"<{n}s")
        return raw.decode("utf-8", "replace")

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out


def _tensor(r: _Reader) -> TensorInfo:
    dtype, rank = r.take("<BB")
    dims = r.take(f"<{rank}i") if rank else ()
    scale, zp, nbytes = r.take("<fiI")
    return TensorInfo(dtype=DType(dtype), shape=tuple(dims), scale=scale, zero_point=zp, nbytes=nbytes)


def parse_info(payload: bytes) -> DeviceInfo:
    r = _Reader(payload)
    status, version, n_in, n_out, n_layers, flags = r.take("<BBBBHH")
    arena, clock, counter_hz, max_payload = r.take("<IIII")
    strings = [r.string() for _ in range(6)]
    inputs = tuple(_tensor(r) for _ in range(n_in))
    outputs = tuple(_tensor(r) for _ in range(n_out))
    return DeviceInfo(
        protocol_version=version,
        num_inputs=n_in,
        num_outputs=n_out,
        num_layers=n_layers,
        net_ok=flags == 0,
        arena_bytes=arena,
        clock_hz=clock,
        counter_hz=counter_hz,
        max_payload=max_payload,
        model_sha256=strings[0],
        tool_version=strings[1],
        firmware_version=strings[2],
        board=strings[3],
        model_name=strings[4],
        counter_kind=strings[5],
        inputs=inputs,
        outputs=outputs,
    )


def parse_infer(payload: bytes, outputs: tuple[TensorInfo, ...]) -> tuple[int, tuple[bytes, ...]]:
    r = _Reader(payload)
    _status, cycles = r.take("<BI")
    data = r.rest()
    want = sum(t.nbytes for t in outputs)
    if len(data) != want:
        raise ValueError(f"INFER reply carries {len(data)} output bytes, INFO announced {want}")
    out, pos = [], 0
    for t in outputs:
        out.append(data[pos : pos + t.nbytes])
        pos += t.nbytes
    return cycles, tuple(out)


def parse_profile(payload: bytes) -> tuple[LayerProfile, ...]:
    r = _Reader(payload)
    _status, n = r.take("<BH")
    layers = []
    for i in range(n):
        (cycles,) = r.take("<I")
        layers.append(LayerProfile(index=i, name=r.string(), cycles=cycles))
    return tuple(layers)


def parse_dump(payload: bytes) -> LayerOutput | tuple[int, int]:
    """One DUMP reply frame: a layer's output, or (num_layers, total cycles) for the final frame."""
    r = _Reader(payload)
    _status, layer, n_layers = r.take("<BHH")
    if layer == 0xFFFF:
        (cycles,) = r.take("<I")
        return n_layers, cycles
    name = r.string()
    return LayerOutput(index=layer, name=name, data=r.rest())
