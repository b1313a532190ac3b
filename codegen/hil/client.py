"""Host side of the serial protocol (docs/protocol.md) over pyserial: real ports and ``socket://`` URLs.

    with DeviceClient("socket://127.0.0.1:5555") as dev:
        dev.wait_ready()
        info = dev.info()
        result = dev.infer(input_bytes)

No wrong result is ever returned: a reply is accepted only when its header check byte and CRC-32 are right, it
carries the request's sequence number and command, and its payload parses to the sizes INFO announced; anything
else is dropped (stale replies), retried (corruption) or raised. Requests are retried, with a new sequence number
and at most ``retries`` times, when:

- a reply is corrupted or truncated (counted in ``stats.crc_errors``);
- the device reports BAD_HEADER / BAD_CRC / TIMEOUT for the request;
- the device answers BAD_LENGTH to a request whose length is right, or answers the request's sequence number with
  another command: a header byte was corrupted on the way and the header check passed by chance (about 1 in 256);
  counted in ``stats.crc_errors`` and ``stats.bad_length``;
- no reply comes in time (``stats.timeouts``). With ``resend_on_timeout=False`` the request is not sent blindly
  again: the client sends one PING; a device that answers it is idle, so the request was lost on the way and is
  sent again; a device that does not answer is busy or hung (a stuck inference), and the request fails at once
  instead of after ``retries + 1`` timeouts.

A READY line after the handshake (:meth:`DeviceClient.wait_ready`, or the first good reply) means the device
rebooted, whether or not its boot READY line was seen. It is counted in ``stats.resets`` and, with
``reset_policy="raise"`` (the default), raises :class:`DeviceReset` at once; with ``reset_policy="count"`` the
request under way is sent again.
"""

from __future__ import annotations

import logging
import re
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, TypeVar

import serial

from codegen.errors import DeviceError
from codegen.hil.protocol import (
    REPLY,
    Command,
    CorruptFrame,
    DeviceInfo,
    Frame,
    FrameDecoder,
    LayerOutput,
    LayerProfile,
    Status,
    encode_frame,
    parse_dump,
    parse_infer,
    parse_info,
    parse_profile,
)

log = logging.getLogger(__name__)

RETRYABLE = (Status.BAD_HEADER, Status.BAD_CRC, Status.TIMEOUT)
LINK_ERRORS = (*RETRYABLE, Status.BAD_LENGTH, Status.UNKNOWN_COMMAND)  # what a corrupted request can provoke
SWALLOWED_GRACE = 1.0  # seconds to wait for our reply after an error about someone else's frame
FRAME_GAP = 1.0        # seconds without a byte in the middle of a reply frame before it counts as truncated
PING_MAX = 256         # largest PING payload the firmware accepts (APP_SMALL_PAYLOAD in firmware/app/cg_app.c)
RESET_POLICIES = ("raise", "count")
READY_RE = re.compile(rb"READY codegen model=\S* board=\S* proto=\d+[^\r\n]*\r?\n")

T = TypeVar("T")


def _name(cmd: int) -> str:
    return Command(cmd).name if cmd in Command._value2member_map_ else f"command 0x{cmd:02x}"


def _status_name(status: int) -> str:
    return Status(status).name if status in Status._value2member_map_ else str(status)


class ProtocolError(DeviceError):
    """The device answered with an error status (bad length, unknown command, network failure...)."""

    def __init__(self, message: str, status: int, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status


class DeviceReset(DeviceError):
    """The device printed its READY line after the handshake: it rebooted and lost its state."""

    def __init__(self, message: str, ready_line: str, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.ready_line = ready_line


class Link(Protocol):
    """What the client needs from a port: the subset of ``serial.SerialBase`` it uses (tests pass fakes)."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class ClientStats:
    crc_errors: int = 0     # corrupted or truncated replies, BAD_HEADER/BAD_CRC reports, corrupted request headers
    retries: int = 0
    timeouts: int = 0
    resets: int = 0
    stale: int = 0          # replies dropped: another sequence number or command
    bad_length: int = 0     # BAD_LENGTH / other-command answers to a request that was right (corrupted header)


@dataclass(frozen=True)
class InferResult:
    outputs: tuple[bytes, ...]
    cycles: int


@dataclass(frozen=True)
class DumpResult:
    layers: tuple[LayerOutput, ...]
    cycles: int


@dataclass(frozen=True)
class _Reboot:
    """Event: a READY line after the handshake (only returned by ``_next_event`` with ``reset_policy="count"``)."""

    line: str


Event = Frame | CorruptFrame | _Reboot


@dataclass
class _Wait:
    """State of one attempt of one request."""

    cmd: int
    seq: int
    length_ok: bool
    multi: bool
    frames: list[Frame]
    reason: str = "no reply"
    evidence: bool = False          # the link misbehaved during this attempt (errors about other frames...)
    probe_seq: int | None = None


class DeviceClient:
    """A connection to a device running the codegen firmware.

    ``timeout`` bounds the wait for each reply (an inference included); ``retries`` is how many times a request is
    sent again after corruption (and, with ``resend_on_timeout``, after a timeout). ``reset_policy`` says what a
    READY line after the handshake does: ``"raise"`` :class:`DeviceReset` at once, or ``"count"`` it and send the
    request under way again. ``link`` replaces the port opened from ``url`` (an object with pyserial's ``read``,
    ``write``, ``flush``, ``in_waiting`` and ``close``; tests pass in-process fakes).
    """

    def __init__(
        self,
        url: str,
        *,
        baud: int = 115200,
        timeout: float = 30.0,
        retries: int = 3,
        connect_timeout: float = 10.0,
        reset_policy: str = "raise",
        resend_on_timeout: bool = True,
        probe_timeout: float = 1.0,
        frame_gap: float = FRAME_GAP,
        grace: float = SWALLOWED_GRACE,
        link: Link | None = None,
    ) -> None:
        if reset_policy not in RESET_POLICIES:
            raise DeviceError(f"unknown reset policy {reset_policy!r}", hint=f"use one of {', '.join(RESET_POLICIES)}")
        if retries < 0 or timeout <= 0:
            raise DeviceError(f"invalid retries={retries} / timeout={timeout}",
                              hint="retries >= 0 and a positive timeout")
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.reset_policy = reset_policy
        self.resend_on_timeout = resend_on_timeout
        self.probe_timeout = probe_timeout
        self.frame_gap = frame_gap
        self.grace = grace
        self.stats = ClientStats()
        self.ready_line: str | None = None
        self.handshake_done = False
        self._decoder = FrameDecoder()
        self._seq = 0
        self._info: DeviceInfo | None = None
        self._pending: list[Event] = []
        self._text = bytearray()
        self._last_rx = time.monotonic()
        self._port: Link | None = link if link is not None else self._open(url, baud, connect_timeout)

    # ---- connection -----------------------------------------------------------------------------

    @staticmethod
    def _open(url: str, baud: int, connect_timeout: float) -> serial.SerialBase:
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                port = serial.serial_for_url(url, baudrate=baud, timeout=0.05, write_timeout=30)
                break
            except (serial.SerialException, OSError, ValueError) as exc:
                if time.monotonic() > deadline:
                    raise DeviceError(
                        f"cannot open {url}: {exc}",
                        hint="check the port name / that the emulator is running (codegen flash)",
                    ) from None
                time.sleep(0.1)
        sock = getattr(port, "_socket", None)
        if isinstance(sock, socket.socket):  # no Nagle delay on the emulator's TCP link
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return port

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            finally:
                self._port = None

    def __enter__(self) -> DeviceClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _read_some(self) -> bytes:
        if self._port is None:
            raise DeviceError("the connection is closed", hint="open a new DeviceClient")
        try:
            n = max(1, self._port.in_waiting)
            return self._port.read(n)
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(
                f"reading from {self.url} failed: {exc}", hint="is the device still connected?"
            ) from None

    def write_raw(self, data: bytes) -> None:
        """Send bytes as they are (tests use it for garbage and truncated frames)."""
        if self._port is None:
            raise DeviceError("the connection is closed", hint="open a new DeviceClient")
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise DeviceError(
                f"writing to {self.url} failed: {exc}", hint="is the device still connected?"
            ) from None

    def _check_text(self) -> list[_Reboot]:
        """Find READY lines in the text between frames. Before the handshake a READY line is the boot line; after
        it, a reboot: raised at once (policy "raise") or returned as an event (policy "count")."""
        self._text += self._decoder.take_text()
        reboots: list[_Reboot] = []
        while True:
            m = READY_RE.search(self._text)
            if m is None:
                break
            line = m.group(0).strip().decode("ascii", "replace")
            del self._text[: m.end()]
            self.ready_line = line
            if self.handshake_done:
                self.stats.resets += 1
                log.warning("device rebooted: %s", line)
                if self.reset_policy == "raise":
                    self._text.clear()
                    raise DeviceReset(
                        f"the device on {self.url} rebooted (READY line received: {line})",
                        line,
                        hint="check the power supply, the stack and arena sizes and the watchdog",
                    )
                reboots.append(_Reboot(line))
        if len(self._text) > 512:
            del self._text[:-256]
        return reboots

    def _next_event(self, timeout: float) -> Event | None:
        """The next frame, corrupt-frame or reboot event, or None after ``timeout`` seconds of nothing. A reply
        frame that stops arriving for ``frame_gap`` seconds is reported as corrupt (truncated)."""
        deadline = time.monotonic() + timeout
        while True:
            if self._pending:
                return self._pending.pop(0)
            # read what is waiting first: when this process was not scheduled for a while (a loaded host), the bytes
            # of a complete frame may be sitting in the buffer, and the gap is not the device's
            data = self._read_some()
            if data:
                self._last_rx = time.monotonic()
                self._pending.extend(self._decoder.feed(data))
                self._pending.extend(self._check_text())
                continue
            now = time.monotonic()
            if self._decoder.in_frame and now - self._last_rx > self.frame_gap:
                self._pending.extend(self._decoder.flush_partial(f"truncated frame (no byte for {self.frame_gap:g} s)"))
                self._pending.extend(self._check_text())
                continue
            if now > deadline:
                return None

    def drain(self, quiet: float = 0.2, limit: float = 5.0) -> list[Event]:
        """Read and return everything the device sends until it is quiet for ``quiet`` seconds."""
        got: list[Event] = []
        end = time.monotonic() + limit
        while time.monotonic() < end:
            ev = self._next_event(quiet)
            if ev is None:
                break
            got.append(ev)
        return got

    # ---- handshake ------------------------------------------------------------------------------

    def wait_ready(self, timeout: float = 30.0) -> str:
        """Wait until the device answers: a READY line or a PING reply (bytes sent before the firmware enables
        its UART are lost, so PING is repeated). Returns the READY line or "PING". From then on any READY line
        is a reboot."""
        self.handshake_done = False
        deadline = time.monotonic() + timeout
        answered = False
        while time.monotonic() < deadline and not answered:
            if self.ready_line is not None:
                break
            seq = self._next_seq()
            self.write_raw(encode_frame(Command.PING, seq, b"ready?"))
            ev = self._next_event(0.3)
            while ev is not None:
                if isinstance(ev, Frame) and ev.cmd == Command.PING | REPLY and ev.seq == seq:
                    answered = True
                    break
                ev = self._next_event(0.05)
        if not answered and self.ready_line is None:
            raise DeviceError(
                f"no READY line or PING reply from {self.url} within {timeout:.0f} s",
                hint="is the firmware flashed and running (codegen flash), and the port right?",
            )
        self.drain(quiet=0.1)
        self.handshake_done = True
        return self.ready_line or "PING"

    # ---- requests -------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _length_ok(self, cmd: int, n: int) -> bool:
        """Whether the device is known to accept a payload of ``n`` bytes for ``cmd`` (so a BAD_LENGTH answer
        means the header was corrupted on the way)."""
        if cmd == Command.PING:
            return n <= PING_MAX
        if cmd == Command.INFO:
            return n == 0
        if cmd == Command.PROFILE and n == 0:
            return True
        if cmd in (Command.INFER, Command.PROFILE, Command.DUMP):
            return self._info is not None and n == self._info.input_bytes
        return False

    def request(
        self,
        cmd: int,
        payload: bytes = b"",
        *,
        timeout: float | None = None,
        resend_on_timeout: bool | None = None,
    ) -> Frame:
        """Send one request and return its reply frame (status OK), retrying on corruption."""
        frames = self._exchange(cmd, payload, timeout=timeout, multi=False, resend_on_timeout=resend_on_timeout)
        return frames[0]

    def _exchange(
        self,
        cmd: int,
        payload: bytes,
        *,
        timeout: float | None,
        multi: bool,
        resend_on_timeout: bool | None = None,
    ) -> list[Frame]:
        timeout = self.timeout if timeout is None else timeout
        resend = self.resend_on_timeout if resend_on_timeout is None else resend_on_timeout
        length_ok = self._length_ok(cmd, len(payload))
        last = "no reply"
        attempts = 0
        while True:
            attempts += 1
            w = _Wait(cmd=cmd, seq=self._next_seq(), length_ok=length_ok, multi=multi, frames=[])
            self.write_raw(encode_frame(cmd, w.seq, payload))
            outcome = self._attempt(w, timeout, probe=not resend)
            if outcome == "done":
                self.handshake_done = True
                return w.frames
            last = w.reason
            if outcome == "stuck":
                raise DeviceError(
                    f"{_name(cmd)} to {self.url} failed after {attempts} attempt{'s' * (attempts > 1)}: {last}",
                    hint="the device is busy or hung (a stuck inference?): check the model runs on the board, "
                    "or raise --timeout",
                )
            if attempts > self.retries:
                raise DeviceError(
                    f"{_name(cmd)} to {self.url} failed after {attempts} attempt{'s' * (attempts > 1)}: {last}",
                    hint="check the link (cable, baud rate, emulator running) and retry",
                )
            self.stats.retries += 1
            log.info("retrying %s (attempt %d): %s", _name(cmd), attempts + 1, last)
            self.drain(quiet=min(0.05, self.grace), limit=1.0)

    def _attempt(self, w: _Wait, timeout: float, *, probe: bool) -> str:
        """Wait for the reply(ies) to one sent request: "done", "retry" (corruption, a lost request, a reboot
        under policy "count"), "stuck" (no reply, and the device does not answer PING either). Raises
        :class:`ProtocolError` for an error status that a corrupted request cannot explain."""
        deadline = time.monotonic() + timeout
        while True:
            ev = self._next_event(max(0.0, deadline - time.monotonic()))
            if ev is None:
                if self._decoder.in_frame:  # part of a frame arrived, then nothing: a byte was lost
                    self._pending.extend(self._decoder.flush_partial("truncated frame"))
                    continue
                if w.probe_seq is not None:
                    w.reason += f", and no answer to PING within {self.probe_timeout:g} s"
                    return "stuck"
                self.stats.timeouts += 1
                if w.evidence:
                    w.reason = "request lost on a corrupted link (the device reported errors about other frames)"
                    return "retry"
                w.reason = f"no reply within {timeout:.1f} s"
                if not probe:
                    return "retry"
                # Busy (a stuck inference) or idle (the request never arrived)? An idle device answers PING.
                w.probe_seq = self._next_seq()
                self.write_raw(encode_frame(Command.PING, w.probe_seq, b"probe"))
                deadline = time.monotonic() + min(self.probe_timeout, timeout)
                continue
            if isinstance(ev, _Reboot):
                w.reason = f"the device rebooted ({ev.line})"
                return "retry"
            if isinstance(ev, CorruptFrame):
                self.stats.crc_errors += 1
                w.reason = f"corrupted reply ({ev.reason})"
                return "retry"
            if w.probe_seq is not None and ev.seq == w.probe_seq:
                # The device answered the probe: it is alive and idle, so our request was lost on the way.
                w.reason = "request lost (the device answers PING but not the request)"
                if ev.cmd == Command.ERROR and ev.status in (Status.BAD_CRC, Status.BAD_HEADER):
                    self.stats.crc_errors += 1
                return "retry"
            if ev.seq != w.seq:
                self.stats.stale += 1
                if ev.status in LINK_ERRORS and (ev.cmd == Command.ERROR or ev.status != Status.OK):
                    # a broken frame before ours may have swallowed our request: give the reply a moment
                    if ev.status in (Status.BAD_CRC, Status.BAD_HEADER):
                        self.stats.crc_errors += 1
                    w.evidence = True
                    if w.probe_seq is None:
                        deadline = min(deadline, time.monotonic() + self.grace)
                continue
            if ev.cmd == Command.ERROR:
                if ev.status in RETRYABLE:
                    if ev.status in (Status.BAD_CRC, Status.BAD_HEADER):
                        self.stats.crc_errors += 1
                    w.reason = f"device reported {_status_name(ev.status)}: {ev.error_text}"
                    return "retry"
                raise ProtocolError(f"device error {_status_name(ev.status)}: {ev.error_text}", int(ev.status))
            if ev.cmd != (w.cmd | REPLY):
                # Our sequence number, another command: the command byte was corrupted on the way and the header
                # check passed by chance. Whatever the device did, it is not what we asked for.
                self.stats.crc_errors += 1
                self.stats.bad_length += 1
                w.reason = f"the device answered {_name(ev.cmd & 0x7F)} to {_name(w.cmd)} (corrupted header)"
                return "retry"
            if ev.status != Status.OK:
                if ev.status == Status.BAD_LENGTH and w.length_ok:
                    self.stats.crc_errors += 1
                    self.stats.bad_length += 1
                    w.reason = "device reported BAD_LENGTH for a request of the right length (corrupted header)"
                    return "retry"
                raise ProtocolError(
                    f"{_name(w.cmd)} failed on the device: {_status_name(ev.status)} "
                    f"(detail {ev.error_detail}) {ev.error_text}".strip(),
                    int(ev.status),
                    hint="check the request matches the model (codegen INFO) and the firmware",
                )
            w.frames.append(ev)
            if not w.multi:
                return "done"
            finished = self._dump_state(w.frames)
            if finished is None:
                deadline = time.monotonic() + timeout
                continue
            if finished:
                return "done"
            self.stats.crc_errors += 1
            w.reason = "DUMP frames missing or out of order (a frame was lost on the link)"
            return "retry"

    def _dump_state(self, frames: list[Frame]) -> bool | None:
        """None while a DUMP is under way; at its final frame, whether every layer came exactly once, in order."""
        last = self._parse(parse_dump, frames[-1])
        if not isinstance(last, tuple):
            return None
        n_layers = last[0]
        layers = [self._parse(parse_dump, f) for f in frames[:-1]]
        return [x.index for x in layers if isinstance(x, LayerOutput)] == list(range(n_layers)) and \
            len(layers) == n_layers

    def _parse(self, fn: Callable[[bytes], T], frame: Frame) -> T:
        """Parse a reply payload that passed its CRC; a payload that does not parse is a firmware mismatch."""
        try:
            return fn(frame.payload)
        except (ValueError, struct.error) as exc:
            raise DeviceError(
                f"malformed {_name(frame.cmd & 0x7F)} reply from {self.url}: {exc}",
                hint="the firmware does not match this host version (regenerate and reflash the project)",
            ) from None

    # ---- commands -------------------------------------------------------------------------------

    def ping(self, payload: bytes = b"") -> bytes:
        return self.request(Command.PING, payload).payload[1:]

    def info(self) -> DeviceInfo:
        self._info = self._parse(parse_info, self.request(Command.INFO))
        return self._info

    def _device_info(self) -> DeviceInfo:
        return self._info or self.info()

    @staticmethod
    def _as_bytes(inputs: bytes | bytearray | memoryview | object) -> bytes:
        if isinstance(inputs, (bytes, bytearray, memoryview)):
            return bytes(inputs)
        if isinstance(inputs, (list, tuple)):
            return b"".join(DeviceClient._as_bytes(x) for x in inputs)
        tobytes = getattr(inputs, "tobytes", None)
        if tobytes is None:
            raise TypeError(f"cannot send {type(inputs).__name__} as a tensor; pass bytes or numpy arrays")
        return tobytes()

    def _checked_inputs(self, inputs: bytes | object) -> bytes:
        info = self._device_info()
        data = self._as_bytes(inputs)
        if len(data) != info.input_bytes:
            raise DeviceError(
                f"input has {len(data)} bytes, the model on the device takes {info.input_bytes}",
                hint="send the quantized input tensor(s) exactly",
            )
        return data

    def infer(
        self, inputs: bytes | object, *, timeout: float | None = None, resend_on_timeout: bool | None = None
    ) -> InferResult:
        """One inference: inputs (bytes, numpy array, or a list of them) -> output bytes and ticks."""
        info = self._device_info()
        data = self._checked_inputs(inputs)
        reply = self.request(Command.INFER, data, timeout=timeout, resend_on_timeout=resend_on_timeout)
        cycles, outputs = self._parse(lambda p: parse_infer(p, info.outputs), reply)
        return InferResult(outputs=outputs, cycles=cycles)

    def profile(
        self,
        inputs: bytes | object | None = None,
        *,
        timeout: float | None = None,
        resend_on_timeout: bool | None = None,
    ) -> tuple[LayerProfile, ...]:
        """Counter ticks per layer of the last inference, or of a new one on ``inputs``."""
        data = b"" if inputs is None else self._checked_inputs(inputs)
        reply = self.request(Command.PROFILE, data, timeout=timeout, resend_on_timeout=resend_on_timeout)
        return self._parse(parse_profile, reply)

    def dump(
        self, inputs: bytes | object, *, timeout: float | None = None, resend_on_timeout: bool | None = None
    ) -> DumpResult:
        """Every layer's output for one inference (to find the first layer that diverges from the host)."""
        frames = self._exchange(Command.DUMP, self._checked_inputs(inputs), timeout=timeout, multi=True,
                                resend_on_timeout=resend_on_timeout)
        layers = [x for x in (self._parse(parse_dump, f) for f in frames) if isinstance(x, LayerOutput)]
        final = self._parse(parse_dump, frames[-1])
        cycles = final[1] if isinstance(final, tuple) else 0
        return DumpResult(layers=tuple(layers), cycles=cycles)


def connect(
    url: str,
    *,
    baud: int = 115200,
    timeout: float = 30.0,
    boot_timeout: float = 30.0,
    retries: int = 3,
    reset_policy: str = "raise",
    resend_on_timeout: bool = True,
) -> DeviceClient:
    """Open a client and wait until the device answers (READY line or PING reply)."""
    client = DeviceClient(url, baud=baud, timeout=timeout, retries=retries, reset_policy=reset_policy,
                          resend_on_timeout=resend_on_timeout)
    try:
        client.wait_ready(timeout=boot_timeout)
    except BaseException:
        client.close()
        raise
    return client
