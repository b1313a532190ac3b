"""The serial client (:mod:`codegen.hil.client`) seen as a validation :class:`~codegen.hil.validate.Target`.

The client is opened the way a long validation run needs it: a reset in the middle of a request (a READY line)
raises :class:`~codegen.hil.validate.DeviceResetError` at once instead of waiting for the request to time out
(``reset_policy="raise"``), and a request that gets no reply is not sent again blindly
(``resend_on_timeout=False``): a stuck inference fails after one ``--timeout``, while corrupted frames are still
retried. A wrong or busy port is reported before the connection is attempted, and the messages say what to check
for the kind of port used (a serial device or the emulator's TCP socket).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

from codegen.errors import DeviceError
from codegen.hil.client import DeviceClient, DeviceReset
from codegen.hil.validate import DeviceInfo, DeviceResetError, Inference, LinkStats

log = logging.getLogger(__name__)

_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


@contextlib.contextmanager
def _reset_as_validation_error() -> Iterator[None]:
    """The client's :class:`~codegen.hil.client.DeviceReset` as validation's :class:`DeviceResetError`."""
    try:
        yield
    except DeviceReset as exc:
        raise DeviceResetError(exc.message, hint=exc.hint) from exc


class ClientTarget:
    """:class:`~codegen.hil.validate.Target` over a connected :class:`DeviceClient`."""

    def __init__(self, client: DeviceClient) -> None:
        self.client = client
        self._info: DeviceInfo | None = None

    def info(self) -> DeviceInfo:
        with _reset_as_validation_error():
            raw = self.client.info()
        self._info = DeviceInfo(
            model_sha256=raw.model_sha256, tool_version=raw.tool_version, board=raw.board,
            counter_kind=raw.counter_kind, counter_hz=raw.counter_hz, num_layers=raw.num_layers,
            input_bytes=raw.input_bytes, output_bytes=sum(t.nbytes for t in raw.outputs),
        )
        if not raw.net_ok:
            raise DeviceError("the network failed to initialise on the device (INFO reports an error)",
                              hint="the arena or weights may not fit; rebuild and check `codegen build` output")
        return self._info

    def infer(self, data: bytes) -> Inference:
        with _reset_as_validation_error():
            result = self.client.infer(data)
        return Inference(b"".join(result.outputs), result.cycles)

    def profile(self, data: bytes) -> tuple[tuple[str, int], ...]:
        with _reset_as_validation_error():
            return tuple((layer.name, layer.cycles) for layer in self.client.profile(data))

    def layer_outputs(self, data: bytes) -> tuple[bytes, ...]:
        with _reset_as_validation_error():
            return tuple(layer.data for layer in self.client.dump(data).layers)

    def link_stats(self) -> LinkStats:
        s = self.client.stats
        return LinkStats(crc_errors=s.crc_errors, retries=s.retries, timeouts=s.timeouts, resets=s.resets)


def is_url(port: str) -> bool:
    return bool(_URL_RE.match(port))


def available_ports() -> list[str]:
    from serial.tools import list_ports

    return sorted(p.device for p in list_ports.comports())


def _holders(path: Path) -> list[str]:
    """Other processes that have the device file open (Linux /proc; empty elsewhere or when not visible)."""
    try:
        target = path.resolve()
    except OSError:
        return []
    found = []
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == me:
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                if Path(os.readlink(fd)) == target:
                    name = (pid_dir / "comm").read_text().strip()
                    found.append(f"{name} (pid {pid_dir.name})")
                    break
        except OSError:
            continue
    return found


def check_port(port: str) -> None:
    """Fail early, with a useful message, for a serial device that does not exist or that another program holds."""
    if is_url(port):
        return
    path = Path(port)
    if not path.exists():
        ports = available_ports()
        raise DeviceError(f"no device at {port}",
                          hint=f"ports found: {', '.join(ports)}" if ports else
                          "no serial ports found: plug the board in (and check the USB cable carries data), or "
                          "use socket://HOST:PORT for the emulator")
    holders = _holders(path)
    if holders:
        raise DeviceError(f"{port} is busy: opened by {', '.join(holders)}",
                          hint="close the serial monitor or the other program using the port")
    try:
        import serial

        probe = serial.Serial(port, exclusive=True, timeout=0)
        probe.close()
    except (OSError, ValueError) as exc:
        err = getattr(exc, "errno", None)
        if err in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "busy" in str(exc).lower() or \
                "lock" in str(exc).lower():
            raise DeviceError(f"{port} is busy: {exc}", hint="close the other program using the port") from None
        if err == errno.EACCES:
            raise DeviceError(f"no permission to open {port}",
                              hint="add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in "
                              "again") from None
        raise DeviceError(f"cannot open {port}: {exc}", hint="check the port name") from None


@contextlib.contextmanager
def open_target(port: str, *, baud: int = 115200, timeout: float = 10.0, boot_timeout: float = 10.0,
                retries: int = 3) -> Iterator[ClientTarget]:
    """Connect to the device on ``port`` (path or URL), wait until it answers, yield a Target; always closes."""
    check_port(port)
    where = ("the emulator's socket (is it running, and is no other client connected to it?)" if is_url(port)
             else "the board (is the firmware flashed, the baud rate right, the board powered?)")
    try:
        client = DeviceClient(port, baud=baud, timeout=timeout, retries=retries,
                              connect_timeout=2.0 if is_url(port) else 1.0, reset_policy="raise",
                              resend_on_timeout=False)
    except DeviceError as exc:
        raise DeviceError(exc.message, hint=f"check {where}") from None
    try:
        try:
            client.wait_ready(timeout=boot_timeout)
        except DeviceError as exc:
            raise DeviceError(f"no answer from {port} within {boot_timeout:g} s (no READY line, no PING reply)",
                              hint=f"check {where}") from exc
        yield ClientTarget(client)
    finally:
        client.close()
