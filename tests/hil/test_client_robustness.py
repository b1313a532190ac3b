"""The serial client never accepts a wrong result, recovers from any single corrupted byte, fails fast on a stuck
inference, retries corrupted request headers, and treats a READY line after the handshake as a reset.

The device is an in-process fake firmware behind a fake link (no sockets, no sleeps), written from
docs/protocol.md and firmware/app/cg_proto.c independently of codegen.hil.protocol; frames are built with the
helpers of tests/hil/fake_device.py. The link can mangle the next request the client writes, or the next reply
the firmware sends.
"""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from collections.abc import Callable

import pytest

from codegen.errors import DeviceError
from codegen.hil.client import DeviceClient, DeviceReset, ProtocolError
from tests.hil.fake_device import _s, _tensor, crc8, frame

PING, INFO, INFER, PROFILE, DUMP, REPLY, ERROR = 0x01, 0x02, 0x03, 0x04, 0x05, 0x80, 0xFF
INPUT_BYTES, OUTPUT_BYTES = 16, 8
LAYERS = ("CONV_2D", "FULLY_CONNECTED", "SOFTMAX")
STALL_S = 0.02
READY = b"\r\nREADY codegen model=" + b"ab" * 32 + b" board=fake proto=1 net=ok\r\n"
INPUT = bytes(range(1, 1 + INPUT_BYTES))   # no A5 5A inside: a frame with a broken sync is ignored entirely
OTHER_INPUT = bytes(range(101, 101 + INPUT_BYTES))

Mangle = Callable[[bytes], bytes]


def network(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()[:OUTPUT_BYTES]


def layer_output(data: bytes, layer: int) -> bytes:
    return hashlib.sha256(data + bytes([layer])).digest()[:8]


class Firmware:
    """The receiver rules of docs/protocol.md (hunt, header check, length check at once, stall timeout) and
    the five commands, for a network that hashes its input."""

    def __init__(self) -> None:
        self.stuck = False                  # the next INFER never finishes (and the device answers nothing more)
        self.reboot_at: set[int] = set()    # INFER numbers answered by a reboot (READY line)
        self.stale_replay = False           # send the previous INFER reply again before each INFER reply
        self.short_output = False           # INFER replies one output byte short (a firmware mismatch)
        self.infer_frames = 0               # valid INFER frames received
        self.frames: list[tuple[int, int, int]] = []   # (cmd, seq, len) of every valid frame received
        self._dead = False
        self._previous = b""
        self._last = time.monotonic()
        self._hunt()

    def _hunt(self) -> None:
        self.state = "hunt0"
        self.head = bytearray()
        self.payload = bytearray()
        self.crc = bytearray()
        self.length = 0

    def feed(self, data: bytes) -> bytes:
        self._last = time.monotonic()
        if self._dead:
            return b""
        return b"".join(self._byte(b) for b in data)

    def tick(self) -> bytes:
        if self.state in ("header", "payload", "crc") and time.monotonic() - self._last > STALL_S:
            seq = self.head[1] if self.state != "header" else 0
            self._hunt()
            return frame(ERROR, seq, bytes([5, 0]) + b"frame stalled")
        return b""

    def _accept(self, cmd: int, n: int) -> int:
        if cmd not in (PING, INFO, INFER, PROFILE, DUMP):
            return 4
        ok = {PING: n <= 256, INFO: n == 0, PROFILE: n in (0, INPUT_BYTES)}.get(cmd, n == INPUT_BYTES)
        return 0 if ok else 3

    def _byte(self, b: int) -> bytes:
        if self.state == "hunt0":
            self.state = "hunt1" if b == 0xA5 else "hunt0"
        elif self.state == "hunt1":
            self.state = "header" if b == 0x5A else "hunt1" if b == 0xA5 else "hunt0"
        elif self.state == "header":
            self.head.append(b)
            if len(self.head) < 7:
                return b""
            if crc8(bytes(self.head[:6])) != self.head[6]:
                reply = frame(ERROR, self.head[1], bytes([1, 0]) + b"bad header check byte")
                again = bytes(self.head)
                self._hunt()
                return reply + b"".join(self._byte(x) for x in again)  # re-scan the header bytes
            cmd, seq = self.head[0], self.head[1]
            self.length = int.from_bytes(self.head[2:6], "little")
            status = self._accept(cmd, self.length)
            if status:
                self._hunt()
                return frame(cmd | REPLY, seq, bytes([status, 0]) + b"not accepted")
            self.state = "payload" if self.length else "crc"
        elif self.state == "payload":
            self.payload.append(b)
            if len(self.payload) == self.length:
                self.state = "crc"
        else:
            self.crc.append(b)
            if len(self.crc) == 4:
                head, payload, crc = bytes(self.head), bytes(self.payload), bytes(self.crc)
                self._hunt()
                if zlib.crc32(head + payload) & 0xFFFFFFFF != int.from_bytes(crc, "little"):
                    return frame(ERROR, head[1], bytes([2, 0]) + b"frame CRC-32 mismatch")
                self.frames.append((head[0], head[1], len(payload)))
                return self._handle(head[0], head[1], payload)
        return b""

    def _handle(self, cmd: int, seq: int, payload: bytes) -> bytes:
        ok = bytes([0])
        if cmd == PING:
            return frame(PING | REPLY, seq, ok + payload)
        if cmd == INFO:
            body = ok + bytes([1, 1, 1]) + struct.pack("<HHIIII", len(LAYERS), 0, 4096, 168_000_000, 168_000_000,
                                                       256)
            for text in ("ab" * 32, "codegen test", "fw 1", "fake", "hash_net", "cycles"):
                body += _s(text)
            return frame(INFO | REPLY, seq, body + _tensor((1, INPUT_BYTES), INPUT_BYTES)
                         + _tensor((1, OUTPUT_BYTES), OUTPUT_BYTES))
        if cmd == INFER:
            k = self.infer_frames
            self.infer_frames += 1
            if self.stuck:
                self._dead = True
                return b""
            if k in self.reboot_at:
                self._hunt()
                return READY
            out = network(payload)[: OUTPUT_BYTES - self.short_output]
            reply = frame(INFER | REPLY, seq, ok + struct.pack("<I", 1000 + k) + out)
            replay, self._previous = self._previous, reply
            return (replay if self.stale_replay else b"") + reply
        if cmd == PROFILE:
            return frame(PROFILE | REPLY, seq, ok + struct.pack("<H", len(LAYERS)) + b"".join(
                struct.pack("<I", 100 * (i + 1)) + _s(name) for i, name in enumerate(LAYERS)))
        out = b"".join(frame(DUMP | REPLY, seq, ok + struct.pack("<HH", i, len(LAYERS)) + _s(name)
                             + layer_output(payload, i)) for i, name in enumerate(LAYERS))
        return out + frame(DUMP | REPLY, seq, ok + struct.pack("<HHI", 0xFFFF, len(LAYERS), 600))


class FakeLink:
    """pyserial-like port in front of :class:`Firmware`; ``mangle_write`` / ``mangle_reply`` corrupt the next
    request written / the next reply sent (one shot)."""

    def __init__(self, fw: Firmware, ready_on_connect: bool = False) -> None:
        self.fw = fw
        self.mangle_write: Mangle | None = None
        self.mangle_reply: Mangle | None = None
        self._out = bytearray(READY if ready_on_connect else b"")
        self.written: list[bytes] = []

    def sent(self, cmd: int) -> int:
        """How many frames of command ``cmd`` the client wrote."""
        return sum(len(w) > 2 and w[2] == cmd for w in self.written)

    def _deliver(self, data: bytes) -> None:
        if data and self.mangle_reply is not None:
            data, self.mangle_reply = self.mangle_reply(data), None
        self._out += data

    @property
    def in_waiting(self) -> int:
        self._deliver(self.fw.tick())
        return len(self._out)

    def read(self, size: int = 1) -> bytes:
        self._deliver(self.fw.tick())
        if not self._out:
            time.sleep(0.0005)
            return b""
        chunk = bytes(self._out[:size])
        del self._out[:size]
        return chunk

    def write(self, data: bytes) -> int:
        if self.mangle_write is not None:
            data, self.mangle_write = self.mangle_write(data), None
        self.written.append(data)
        self._deliver(self.fw.feed(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def connect(fw: Firmware, *, ready_on_connect: bool = False, **options: object) -> tuple[DeviceClient, FakeLink]:
    link = FakeLink(fw, ready_on_connect)
    opts: dict = dict(timeout=0.15, retries=3, probe_timeout=0.1, frame_gap=0.03, grace=0.01,
                      resend_on_timeout=False)
    opts.update(options)
    client = DeviceClient("fake://board", link=link, **opts)
    client.wait_ready(timeout=2.0)
    client.info()
    return client, link


def flip(pos: int, mask: int) -> Mangle:
    return lambda d: d[:pos] + bytes([d[pos] ^ mask]) + d[pos + 1 :]


def drop(pos: int) -> Mangle:
    return lambda d: d[:pos] + d[pos + 1 :]


def single_faults(size: int, kinds: tuple[str, ...] = ("bit0", "bit7", "drop")) -> list[tuple[str, Mangle]]:
    out = []
    for pos in range(size):
        for kind in kinds:
            fault = drop(pos) if kind == "drop" else flip(pos, 0x01 if kind == "bit0" else 0x80)
            out.append((f"{kind}@{pos}", fault))
    return out


def _with_header(raw: bytes, *, cmd: int | None = None, seq: int | None = None, length: int | None = None) -> bytes:
    """A request whose header fields were changed on the way with a header check byte that still matches (the
    1-in-256 case the CRC-8 cannot catch)."""
    head = bytearray(raw[2:8])
    if cmd is not None:
        head[0] = cmd
    if seq is not None:
        head[1] = seq
    if length is not None:
        head[2:6] = struct.pack("<I", length)
    return raw[:2] + bytes(head) + bytes([crc8(bytes(head))]) + raw[9:]


# ---- no wrong result, whatever single byte is corrupted ----------------------------------------------------------


def test_every_single_byte_fault_in_an_infer_request_is_recovered_exactly() -> None:
    fw = Firmware()
    client, link = connect(fw)
    expected = (network(INPUT),)
    faults = single_faults(9 + INPUT_BYTES + 4)
    for name, fault in faults:
        retries = client.stats.retries
        link.mangle_write = fault
        assert client.infer(INPUT).outputs == expected, name
        assert client.stats.retries > retries, f"{name}: the fault went unnoticed"
    assert client.stats.crc_errors > 0 and client.stats.timeouts > 0


def test_every_single_byte_fault_in_an_infer_reply_is_recovered_exactly() -> None:
    fw = Firmware()
    client, link = connect(fw)
    expected = (network(INPUT),)
    for name, fault in single_faults(9 + 1 + 4 + OUTPUT_BYTES + 4):
        retries = client.stats.retries
        link.mangle_reply = fault
        assert client.infer(INPUT).outputs == expected, name
        assert client.stats.retries > retries, f"{name}: the fault went unnoticed"


def test_every_single_byte_fault_in_a_dump_stream_is_recovered_exactly() -> None:
    fw = Firmware()
    client, link = connect(fw)
    expected = tuple(layer_output(INPUT, i) for i in range(len(LAYERS)))
    size = sum(9 + 1 + 2 + 2 + 1 + len(n) + 8 + 4 for n in LAYERS) + 9 + 9 + 4
    for name, fault in single_faults(size, kinds=("bit0", "drop")):
        link.mangle_reply = fault
        dump = client.dump(INPUT)
        assert tuple(layer.data for layer in dump.layers) == expected, name
        assert [layer.index for layer in dump.layers] == [0, 1, 2], name


def test_a_stale_reply_with_a_valid_crc_is_dropped() -> None:
    fw = Firmware()
    client, _ = connect(fw)
    client.infer(OTHER_INPUT)
    fw.stale_replay = True  # the reply to OTHER_INPUT comes again, intact, just before the right one
    assert client.infer(INPUT).outputs == (network(INPUT),)
    assert client.stats.stale == 1 and client.stats.retries == 0


def test_a_reply_that_does_not_match_info_raises_instead_of_returning_it() -> None:
    fw = Firmware()
    client, _ = connect(fw)
    fw.short_output = True
    with pytest.raises(DeviceError, match="malformed INFER reply.*7 output bytes, INFO announced 8"):
        client.infer(INPUT)


# ---- corrupted request headers that pass the header check --------------------------------------------------------


def test_bad_length_for_a_request_of_the_right_length_is_retried_and_counted() -> None:
    fw = Firmware()
    client, link = connect(fw)
    link.mangle_write = lambda raw: _with_header(raw, length=INPUT_BYTES - 1)
    assert client.infer(INPUT).outputs == (network(INPUT),)
    assert client.stats.bad_length == 1 and client.stats.crc_errors == 1 and client.stats.retries == 1
    assert fw.infer_frames == 1


def test_a_request_whose_command_byte_changed_on_the_way_is_retried() -> None:
    fw = Firmware()
    client, link = connect(fw)
    link.mangle_write = lambda raw: _with_header(raw, cmd=INFO)  # the device answers INFO's BAD_LENGTH at once
    assert client.infer(INPUT).outputs == (network(INPUT),)
    assert client.stats.bad_length == 1 and client.stats.retries == 1 and fw.infer_frames == 1


def test_a_request_whose_sequence_number_changed_on_the_way_is_sent_again() -> None:
    fw = Firmware()
    client, link = connect(fw)
    link.mangle_write = lambda raw: _with_header(raw, seq=raw[3] ^ 0x10)  # CRC-32 fails: BAD_CRC for another seq
    assert client.infer(INPUT).outputs == (network(INPUT),)
    assert client.stats.stale == 1 and client.stats.crc_errors == 1 and client.stats.retries == 1
    assert fw.infer_frames == 1


def test_a_wrong_length_sent_by_the_host_is_an_error_at_once() -> None:
    fw = Firmware()
    client, _ = connect(fw)
    with pytest.raises(ProtocolError) as err:
        client.request(INFER, bytes(INPUT_BYTES - 1))
    assert err.value.status == 3 and client.stats.retries == 0


# ---- timeouts: a stuck inference fails after one timeout, a lost request is sent again --------------------------


def test_a_stuck_inference_fails_after_one_timeout_without_resending() -> None:
    fw = Firmware()
    client, link = connect(fw, timeout=0.3, probe_timeout=0.2)
    fw.stuck = True
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match=r"INFER .* failed after 1 attempt: no reply within 0.3 s, and no answer "
                                          r"to PING"):
        client.infer(INPUT)
    assert time.monotonic() - t0 < 0.3 + 0.2 + 0.2
    assert link.sent(INFER) == 1 and link.sent(PING) == 2 and client.stats.timeouts == 1  # handshake + probe


def test_with_resend_on_timeout_a_stuck_inference_is_sent_retries_plus_one_times() -> None:
    fw = Firmware()
    client, link = connect(fw, resend_on_timeout=True, retries=2, timeout=0.05)
    fw.stuck = True
    with pytest.raises(DeviceError, match="failed after 3 attempts: no reply within"):
        client.infer(INPUT)
    assert link.sent(INFER) == 3 and client.stats.timeouts == 3


def test_a_request_lost_on_the_way_is_sent_again_when_the_device_answers_ping() -> None:
    fw = Firmware()
    client, link = connect(fw)
    link.mangle_write = flip(0, 0xFF)  # broken sync: the firmware skips the whole frame without a word
    assert client.infer(INPUT).outputs == (network(INPUT),)
    assert client.stats.timeouts == 1 and client.stats.retries == 1 and fw.infer_frames == 1


# ---- resets ------------------------------------------------------------------------------------------------------


def test_a_ready_line_after_the_handshake_raises_at_once_although_the_boot_line_was_missed() -> None:
    fw = Firmware()
    client, _ = connect(fw, timeout=5.0)  # no READY on connect: the handshake was a PING reply
    assert client.ready_line is None
    fw.reboot_at = {0}
    t0 = time.monotonic()
    with pytest.raises(DeviceReset, match="rebooted"):
        client.infer(INPUT)
    assert time.monotonic() - t0 < 1.0 and client.stats.resets == 1
    assert client.infer(INPUT).outputs == (network(INPUT),)  # the session carries on after the error


def test_reset_policy_count_sends_the_request_again() -> None:
    fw = Firmware()
    client, _ = connect(fw, timeout=5.0, reset_policy="count")
    fw.reboot_at = {0}
    t0 = time.monotonic()
    assert client.infer(INPUT).outputs == (network(INPUT),)
    assert time.monotonic() - t0 < 1.0
    assert client.stats.resets == 1 and client.stats.retries == 1 and fw.infer_frames == 2


def test_the_boot_ready_line_during_the_handshake_is_not_a_reset() -> None:
    fw = Firmware()
    client, _ = connect(fw, ready_on_connect=True)
    assert client.ready_line is not None and client.ready_line.startswith("READY codegen model=abab")
    assert client.infer(INPUT).outputs == (network(INPUT),) and client.stats.resets == 0


def test_an_unknown_reset_policy_is_refused() -> None:
    with pytest.raises(DeviceError, match="unknown reset policy 'ignore'"):
        DeviceClient("fake://board", link=FakeLink(Firmware()), reset_policy="ignore")


def test_validation_opens_the_client_with_raise_and_no_blind_resend(monkeypatch: pytest.MonkeyPatch) -> None:
    from codegen.hil import device

    seen: dict = {}

    class Recorder(DeviceClient):
        def __init__(self, url: str, **kw: object) -> None:
            seen.update(kw)
            super().__init__(url, link=FakeLink(Firmware()), **kw)

    monkeypatch.setattr(device, "DeviceClient", Recorder)
    with device.open_target("socket://fake:1", boot_timeout=2.0) as target:
        assert target.info().num_layers == len(LAYERS)
    assert seen["reset_policy"] == "raise" and seen["resend_on_timeout"] is False
    assert type(target.client) is Recorder
