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
from dataclasses import dataclass
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


# Programs that forward a serial port or a socket to a pseudo-terminal: they hold the pty open by design. (The
# same programs holding a real serial device are forwarding it elsewhere: that port is busy.)
BRIDGE_PROGRAMS = frozenset({"socat", "ser2net", "interceptty", "remserial", "ttybus", "tty0tty"})


@dataclass(frozen=True)
class Holder:
    """Another process that has the serial device open."""

    pid: int
    name: str
    is_bridge: bool  # the port is a pty and this process created it (holds its master side) or is a known bridge

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid})"


def _pty_index(path: Path) -> int | None:
    """N for a pseudo-terminal /dev/pts/N, else None."""
    parts = path.parts
    if len(parts) == 4 and parts[:3] == ("/", "dev", "pts") and parts[3].isdigit():
        return int(parts[3])
    return None


def _is_master_of(pid_dir: Path, fd: Path, index: int) -> bool:
    """Whether ``fd`` of the process is the master side (/dev/ptmx) of pseudo-terminal ``index``."""
    try:
        if os.path.basename(os.readlink(fd)) != "ptmx":
            return False
        info = (pid_dir / "fdinfo" / fd.name).read_text()
    except OSError:
        return False
    m = re.search(r"^tty-index:\s*(\d+)", info, flags=re.M)
    return m is not None and int(m.group(1)) == index


def _holders(path: Path) -> list[Holder]:
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
    pty = _pty_index(target)
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == me:
            continue
        try:
            fds = list((pid_dir / "fd").iterdir())
            if not any(Path(os.readlink(fd)) == target for fd in fds if fd.is_symlink()):
                continue
            name = (pid_dir / "comm").read_text().strip()
        except OSError:
            continue
        bridge = pty is not None and (name in BRIDGE_PROGRAMS or any(_is_master_of(pid_dir, fd, pty) for fd in fds))
        found.append(Holder(int(pid_dir.name), name, bridge))
    return found


def check_port(port: str, *, allow_busy: bool = False) -> None:
    """Fail early, with a useful message, for a serial device that does not exist or that another program holds.

    A pseudo-terminal held by the bridge that created it (socat, ser2net: the program owning the pty's master side,
    or a known bridge program) is not busy: the bridge forwards it, so validation goes ahead with a warning.
    ``allow_busy`` goes ahead whoever holds the port.
    """
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
        names = ", ".join(str(h) for h in holders)
        if all(h.is_bridge for h in holders):
            log.warning("%s is held open by %s, a serial bridge; going ahead (the bridge forwards the port)",
                        port, names)
        elif allow_busy:
            log.warning("%s is also open in %s; going ahead because of --allow-busy", port, names)
        else:
            raise DeviceError(f"{port} is busy: opened by {names}",
                              hint="close the serial monitor or the other program using the port, or pass "
                              "--allow-busy if that program is a bridge that forwards the port")
    try:
        import serial

        probe = serial.Serial(port, exclusive=True, timeout=0)
        probe.close()
    except (OSError, ValueError) as exc:
        err = getattr(exc, "errno", None)
        if err in (errno.EBUSY, errno.EAGAIN, errno.EWOULDBLOCK) or "busy" in str(exc).lower() or \
                "lock" in str(exc).lower():
            if allow_busy:
                log.warning("%s is locked by another program (%s); going ahead because of --allow-busy", port, exc)
                return
            raise DeviceError(f"{port} is busy: {exc}",
                              hint="close the other program using the port, or pass --allow-busy") from None
        if err == errno.EACCES:
            raise DeviceError(f"no permission to open {port}",
                              hint="add yourself to the dialout group (sudo usermod -aG dialout $USER) and log in "
                              "again") from None
        raise DeviceError(f"cannot open {port}: {exc}", hint="check the port name") from None


@contextlib.contextmanager
def open_target(port: str, *, baud: int = 115200, timeout: float = 10.0, boot_timeout: float = 10.0,
                retries: int = 3, allow_busy: bool = False) -> Iterator[ClientTarget]:
    """Connect to the device on ``port`` (path or URL), wait until it answers, yield a Target; always closes.

    ``allow_busy``: go ahead when another program holds the port (see :func:`check_port`)."""
    check_port(port, allow_busy=allow_busy)
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
