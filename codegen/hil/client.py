"""Host side of the serial protocol (docs/protocol.md) over pyserial: real ports and ``socket://`` URLs.

    with DeviceClient("socket://127.0.0.1:5555") as dev:
        dev.wait_ready()
        info = dev.info()
        result = dev.infer(input_bytes)

Requests are retried when a reply is corrupted or the device reports a bad CRC; stale replies (wrong sequence
number) are dropped; anything that is not a frame (the READY line, noise) is skipped. A READY line seen in the
middle of a session means the device rebooted; it is counted in :attr:`DeviceClient.stats`.
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from types import TracebackType

import serial

from codegen.errors import DeviceError
from codegen.hil.protocol import (
    READY_PREFIX,
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
SWALLOWED_GRACE = 1.0  # seconds to wait for our reply after an error about someone else's frame


def _name(cmd: int) -> str:
    return Command(cmd).name if cmd in Command._value2member_map_ else f"command 0x{cmd:02x}"


class ProtocolError(DeviceError):
    """The device answered with an error status (bad length, unknown command, network failure...)."""

    def __init__(self, message: str, status: int, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.status = status


@dataclass
class ClientStats:
    crc_errors: int = 0
    retries: int = 0
    timeouts: int = 0
    resets: int = 0
    stale: int = 0


@dataclass(frozen=True)
class InferResult:
    outputs: tuple[bytes, ...]
    cycles: int


@dataclass(frozen=True)
class DumpResult:
    layers: tuple[LayerOutput, ...]
    cycles: int


class DeviceClient:
    """A connection to a device running the codegen firmware."""

    def __init__(
        self,
        url: str,
        *,
        baud: int = 115200,
        timeout: float = 30.0,
        retries: int = 3,
        connect_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.stats = ClientStats()
        self.ready_line: str | None = None
        self._decoder = FrameDecoder()
        self._seq = 0
        self._info: DeviceInfo | None = None
        self._pending: list[Frame | CorruptFrame] = []
        self._text = bytearray()
        self._port = self._open(url, baud, connect_timeout)

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

    def _check_text(self) -> None:
        self._text += self._decoder.take_text()
        while READY_PREFIX in self._text:
            start = self._text.index(READY_PREFIX)
            end = self._text.find(b"\n", start)
            if end < 0:
                del self._text[:start]
                return
            line = bytes(self._text[start:end]).strip().decode("ascii", "replace")
            del self._text[: end + 1]
            if self.ready_line is not None:
                self.stats.resets += 1
                log.warning("device rebooted: %s", line)
            self.ready_line = line
        if len(self._text) > 256:
            del self._text[:-64]

    def _next_event(self, timeout: float) -> Frame | CorruptFrame | None:
        """The next frame or corrupt-frame event, or None after ``timeout`` seconds of nothing."""
        deadline = time.monotonic() + timeout
        while True:
            if self._pending:
                return self._pending.pop(0)
            if time.monotonic() > deadline:
                return None
            data = self._read_some()
            if data:
                self._pending.extend(self._decoder.feed(data))
                self._check_text()

    def drain(self, quiet: float = 0.2, limit: float = 5.0) -> list[Frame | CorruptFrame]:
        """Read and return everything the device sends until it is quiet for ``quiet`` seconds."""
        got = []
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
        its UART are lost, so PING is repeated). Returns the READY line or "PING"."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_line is not None:
                break
            seq = self._next_seq()
            self.write_raw(encode_frame(Command.PING, seq, b"ready?"))
            ev = self._next_event(0.3)
            while ev is not None:
                if isinstance(ev, Frame) and ev.cmd == Command.PING | REPLY and ev.seq == seq:
                    self.drain(quiet=0.1)
                    return self.ready_line or "PING"
                ev = self._next_event(0.05)
        if self.ready_line is None:
            raise DeviceError(
                f"no READY line or PING reply from {self.url} within {timeout:.0f} s",
                hint="is the firmware flashed and running (codegen flash), and the port right?",
            )
        self.drain(quiet=0.1)
        return self.ready_line

    # ---- requests -------------------------------------------------------------------------------

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def request(self, cmd: int, payload: bytes = b"", *, timeout: float | None = None) -> Frame:
        """Send one request and return its reply frame (status OK), retrying on corruption."""
        frames = self._exchange(cmd, payload, timeout=timeout, multi=False)
        return frames[0]

    def _exchange(self, cmd: int, payload: bytes, *, timeout: float | None, multi: bool) -> list[Frame]:
        timeout = self.timeout if timeout is None else timeout
        last = "no reply"
        for attempt in range(self.retries + 1):
            if attempt:
                self.stats.retries += 1
                log.info("retrying %s (attempt %d): %s", _name(cmd), attempt + 1, last)
            seq = self._next_seq()
            self.write_raw(encode_frame(cmd, seq, payload))
            frames: list[Frame] = []
            deadline = time.monotonic() + timeout
            retry = False
            while not retry:
                ev = self._next_event(max(0.0, deadline - time.monotonic()))
                if ev is None:
                    self.stats.timeouts += 1
                    last = f"no reply within {timeout:.1f} s"
                    retry = True
                    break
                if isinstance(ev, CorruptFrame):
                    self.stats.crc_errors += 1
                    last = f"corrupted reply ({ev.reason})"
                    retry = True
                    break
                if ev.seq != seq:
                    self.stats.stale += 1
                    if ev.cmd == Command.ERROR and ev.status in RETRYABLE:
                        # a broken frame before ours may have swallowed our request: give the reply a moment
                        deadline = min(deadline, time.monotonic() + SWALLOWED_GRACE)
                    continue
                if ev.cmd == Command.ERROR:
                    if ev.status in RETRYABLE:
                        if ev.status in (Status.BAD_CRC, Status.BAD_HEADER):
                            self.stats.crc_errors += 1
                        last = f"device reported {Status(ev.status).name}: {ev.error_text}"
                        retry = True
                        break
                    raise ProtocolError(f"device error {ev.status}: {ev.error_text}", int(ev.status))
                if ev.cmd != (cmd | REPLY):
                    self.stats.stale += 1
                    continue
                if ev.status != Status.OK:
                    name = (
                        Status(ev.status).name if ev.status in Status._value2member_map_ else str(ev.status)
                    )
                    raise ProtocolError(
                        f"{_name(cmd)} failed on the device: {name} "
                        f"(detail {ev.error_detail}) {ev.error_text}".strip(),
                        int(ev.status),
                        hint="check the request matches the model (codegen INFO) and the firmware",
                    )
                frames.append(ev)
                if not multi or self._dump_finished(ev):
                    return frames
                deadline = time.monotonic() + timeout
            if retry:
                self.drain(quiet=0.05, limit=1.0)
        raise DeviceError(
            f"{_name(cmd)} to {self.url} failed after {self.retries + 1} attempts: {last}",
            hint="check the link (cable, baud rate, emulator running) and retry",
        )

    @staticmethod
    def _dump_finished(frame: Frame) -> bool:
        return isinstance(parse_dump(frame.payload), tuple)

    # ---- commands -------------------------------------------------------------------------------

    def ping(self, payload: bytes = b"") -> bytes:
        return self.request(Command.PING, payload).payload[1:]

    def info(self) -> DeviceInfo:
        self._info = parse_info(self.request(Command.INFO).payload)
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

    def infer(self, inputs: bytes | object, *, timeout: float | None = None) -> InferResult:
        """One inference: inputs (bytes, numpy array, or a list of them) -> output bytes and ticks."""
        info = self._device_info()
        data = self._as_bytes(inputs)
        if len(data) != info.input_bytes:
            raise DeviceError(
                f"input has {len(data)} bytes, the model on the device takes {info.input_bytes}",
                hint="send the quantized input tensor(s) exactly",
            )
        cycles, outputs = parse_infer(
            self.request(Command.INFER, data, timeout=timeout).payload, info.outputs
        )
        return InferResult(outputs=outputs, cycles=cycles)

    def profile(
        self, inputs: bytes | object | None = None, *, timeout: float | None = None
    ) -> tuple[LayerProfile, ...]:
        """Counter ticks per layer of the last inference, or of a new one on ``inputs``."""
        data = b"" if inputs is None else self._as_bytes(inputs)
        return parse_profile(self.request(Command.PROFILE, data, timeout=timeout).payload)

    def dump(self, inputs: bytes | object, *, timeout: float | None = None) -> DumpResult:
        """Every layer's output for one inference (to find the first layer that diverges from the host)."""
        frames = self._exchange(Command.DUMP, self._as_bytes(inputs), timeout=timeout, multi=True)
        layers = [x for x in (parse_dump(f.payload) for f in frames) if isinstance(x, LayerOutput)]
        final = parse_dump(frames[-1].payload)
        cycles = final[1] if isinstance(final, tuple) else 0
        return DumpResult(layers=tuple(layers), cycles=cycles)


def connect(
    url: str, *, baud: int = 115200, timeout: float = 30.0, boot_timeout: float = 30.0, retries: int = 3
) -> DeviceClient:
    """Open a client and wait until the device answers (READY line or PING reply)."""
    client = DeviceClient(url, baud=baud, timeout=timeout, retries=retries)
    try:
        client.wait_ready(timeout=boot_timeout)
    except BaseException:
        client.close()
        raise
    return client
