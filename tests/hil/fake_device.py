"""A fake board on a local TCP port that speaks the serial protocol (docs/protocol.md, firmware/app/cg_app.c).

Written from the firmware's framing independently of codegen.hil.protocol, so that it also checks the client.
It runs a host function as "the network" and can inject faults: say nothing at all, reset in the middle of an
inference, answer too late.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

SYNC = b"\xa5\x5a"
PING, INFO, INFER, PROFILE, DUMP = 0x01, 0x02, 0x03, 0x04, 0x05
REPLY, ERROR = 0x80, 0xFF
ST_OK, ST_BAD_HEADER, ST_BAD_CRC, ST_BAD_LENGTH, ST_UNKNOWN = 0, 1, 2, 3, 4


def crc8(data: bytes) -> int:
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def frame(cmd: int, seq: int, payload: bytes) -> bytes:
    head = bytes([cmd, seq]) + struct.pack("<I", len(payload))
    head += bytes([crc8(head)])
    return SYNC + head + payload + struct.pack("<I", zlib.crc32(head + payload) & 0xFFFFFFFF)


def _s(text: str) -> bytes:
    raw = text.encode()[:255]
    return bytes([len(raw)]) + raw


def _tensor(dims: tuple[int, ...], nbytes: int, scale: float = 0.5, zp: int = 0) -> bytes:
    return (bytes([0, len(dims)]) + b"".join(struct.pack("<I", d) for d in dims)
            + struct.pack("<fiI", scale, zp, nbytes))


@dataclass
class FakeBoard:
    """What the fake firmware runs and how it misbehaves."""

    fn: Callable[[bytes], bytes]
    input_bytes: int
    output_bytes: int
    sha256: str
    tool_version: str
    layer_names: tuple[str, ...] = ("CONV_2D", "FULLY_CONNECTED", "SOFTMAX")
    layer_fn: Callable[[bytes], tuple[bytes, ...]] | None = None
    counter_kind: str = "instructions (QEMU icount)"
    silent: bool = False                       # never says anything (a board that never boots)
    ready_on_connect: bool = True
    reset_at: set[int] = field(default_factory=set)   # INFER numbers (0-based) answered by a reboot
    slow_at: set[int] = field(default_factory=set)    # INFER numbers answered after `slow_s`
    slow_s: float = 3.0
    infers: int = 0


class FakeDeviceServer:
    """Serve :class:`FakeBoard` on 127.0.0.1:<port>; one client at a time, like a UART behind QEMU."""

    def __init__(self, board: FakeBoard) -> None:
        self.board = board
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="fake-device")
        self.bad_frames = 0

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self._server.getsockname()[1]}"

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self._server.getsockname()[1]

    def __enter__(self) -> FakeDeviceServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()

    # -- serving --------------------------------------------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(0.1)
                self._session(conn)

    def _ready(self) -> bytes:
        b = self.board
        return f"\r\nREADY codegen model={b.sha256} board=fake proto=1 net=ok\r\n".encode()

    def _session(self, conn: socket.socket) -> None:
        b = self.board
        if b.ready_on_connect and not b.silent:
            conn.sendall(self._ready())
        buf = bytearray()
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            if b.silent:
                continue
            buf += chunk
            while True:
                got = self._take_frame(buf, conn)
                if got is None:
                    break
                cmd, seq, payload = got
                try:
                    conn.sendall(self._handle(cmd, seq, payload))
                except OSError:
                    return

    def _take_frame(self, buf: bytearray, conn: socket.socket) -> tuple[int, int, bytes] | None:
        while True:
            start = buf.find(SYNC)
            if start < 0:
                del buf[: max(0, len(buf) - 1)]
                return None
            del buf[:start]
            if len(buf) < 9:
                return None
            head = bytes(buf[2:9])
            if crc8(head[:6]) != head[6]:
                self.bad_frames += 1
                del buf[:2]
                conn.sendall(frame(ERROR, head[1], bytes([ST_BAD_HEADER, 0]) + b"bad header check byte"))
                continue
            n = struct.unpack("<I", head[2:6])[0]
            if n > 1 << 20:
                self.bad_frames += 1
                del buf[:2]
                continue
            if len(buf) < 9 + n + 4:
                return None
            payload = bytes(buf[9 : 9 + n])
            crc = struct.unpack("<I", bytes(buf[9 + n : 13 + n]))[0]
            del buf[: 13 + n]
            if zlib.crc32(head + payload) & 0xFFFFFFFF != crc:
                self.bad_frames += 1
                conn.sendall(frame(ERROR, head[1], bytes([ST_BAD_CRC, 0]) + b"frame CRC-32 mismatch"))
                continue
            return head[0], head[1], payload

    def _handle(self, cmd: int, seq: int, payload: bytes) -> bytes:
        b = self.board
        n_layers = len(b.layer_names)
        if cmd == PING:
            return frame(PING | REPLY, seq, bytes([ST_OK]) + payload)
        if cmd == INFO:
            body = bytes([ST_OK, 1, 1, 1]) + struct.pack("<HHIIII", n_layers, 0, 4096, 168_000_000,
                                                         168_000_000, max(b.input_bytes, 256))
            for text in (b.sha256, b.tool_version, "codegen-fw 1", "fake", "fake_model", b.counter_kind):
                body += _s(text)
            body += _tensor((1, b.input_bytes), b.input_bytes) + _tensor((1, b.output_bytes), b.output_bytes)
            return frame(INFO | REPLY, seq, body)
        if cmd in (INFER, PROFILE, DUMP) and len(payload) != b.input_bytes:
            return frame(cmd | REPLY, seq, bytes([ST_BAD_LENGTH, 0]) + b"payload length not accepted")
        if cmd == INFER:
            k = b.infers
            b.infers += 1
            if k in b.reset_at:
                return self._ready()
            if k in b.slow_at:
                time.sleep(b.slow_s)
            out = b.fn(payload)
            return frame(INFER | REPLY, seq, bytes([ST_OK]) + struct.pack("<I", 50_000 + 3 * (k % 11)) + out)
        if cmd == PROFILE:
            body = bytes([ST_OK]) + struct.pack("<H", n_layers)
            for i, name in enumerate(b.layer_names):
                body += struct.pack("<I", 1000 * (i + 1)) + _s(name)
            return frame(PROFILE | REPLY, seq, body)
        if cmd == DUMP:
            layers = b.layer_fn(payload) if b.layer_fn else tuple(bytes(8) for _ in b.layer_names)
            out = b""
            for i, (name, data) in enumerate(zip(b.layer_names, layers, strict=True)):
                out += frame(DUMP | REPLY, seq, bytes([ST_OK]) + struct.pack("<HH", i, n_layers) + _s(name) + data)
            return out + frame(DUMP | REPLY, seq, bytes([ST_OK]) + struct.pack("<HHI", 0xFFFF, n_layers, 6000))
        return frame(cmd | REPLY, seq, bytes([ST_UNKNOWN, 0]) + b"unknown command")
