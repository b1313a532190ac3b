"""The busy-port check: a pseudo-terminal held by the bridge that created it (socat, ser2net) is not busy; any
other holder is, unless --allow-busy; the message says how to override."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen.errors import DeviceError
from codegen.hil.device import check_port

# A stand-in bridge: creates a pty, keeps both sides open (as socat does) and prints the slave's name.
BRIDGE = "import os, sys, time; m, s = os.openpty(); print(os.ttyname(s), flush=True); time.sleep(60)"


@pytest.fixture
def bridged_pty() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", BRIDGE], stdout=subprocess.PIPE, text=True)
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def pty_held_by_another_program() -> Iterator[str]:
    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], pass_fds=(slave,))
    time.sleep(0.2)
    try:
        yield path
    finally:
        holder.kill()
        holder.wait()
        os.close(master)
        os.close(slave)


def test_a_pty_held_by_the_bridge_that_created_it_is_not_busy(bridged_pty: str, caplog) -> None:  # noqa: ANN001
    assert Path(bridged_pty).exists()
    with caplog.at_level("WARNING"):
        check_port(bridged_pty)
    assert "a serial bridge; going ahead" in caplog.text and "python" in caplog.text


def test_another_holder_is_busy_and_the_message_names_the_override(pty_held_by_another_program: str) -> None:
    with pytest.raises(DeviceError, match=r"is busy: opened by python") as exc:
        check_port(pty_held_by_another_program)
    assert "--allow-busy" in (exc.value.hint or "")


def test_allow_busy_goes_ahead_with_a_warning(pty_held_by_another_program: str, caplog) -> None:  # noqa: ANN001
    with caplog.at_level("WARNING"):
        check_port(pty_held_by_another_program, allow_busy=True)
    assert "--allow-busy" in caplog.text


def test_a_bridge_program_holding_a_real_serial_device_makes_it_busy(tmp_path: Path) -> None:
    device = tmp_path / "ttyUSB9"  # stands in for a serial device: not a pty
    device.write_bytes(b"")
    socat = tmp_path / "socat"  # a process named socat (comm is the name it was started as)
    socat.symlink_to(sys.executable)
    holder = subprocess.Popen([str(socat), "-c", f"f = open({str(device)!r}); import time; time.sleep(60)"])
    try:
        time.sleep(0.5)
        with pytest.raises(DeviceError, match=r"is busy: opened by socat"):
            check_port(str(device))
    finally:
        holder.kill()
        holder.wait()
