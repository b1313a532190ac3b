"""Faults on the link and the device end with a clear message and never hang (fake board over TCP)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from codegen.errors import DeviceError
from codegen.frontend import load_model
from codegen.hil import sources
from codegen.hil.device import open_target
from codegen.hil.noisy import NoisyProxy
from codegen.hil.validate import TOOL_VERSION, ValidationConfig, random_inputs, validate
from tests.conftest import shared_model
from tests.hil.fake_device import FakeBoard, FakeDeviceServer


@pytest.fixture(scope="module")
def kws():
    graph = load_model(shared_model("kws_dscnn_int8.tflite"))
    return graph, sources.reference_fn(graph)


def _board(kws, **kw) -> FakeBoard:
    graph, ref = kws
    return FakeBoard(fn=ref, input_bytes=490, output_bytes=12, sha256=graph.sha256, tool_version=TOOL_VERSION, **kw)


def _run(kws, url: str, n: int, **cfg):
    graph, ref = kws
    with open_target(url, timeout=cfg.pop("timeout", 2.0), boot_timeout=2.0) as target:
        return validate(target, graph, random_inputs(graph, n), reference=ref,
                        config=ValidationConfig(samples=n, progress=False, **cfg))


def test_fake_board_over_tcp_validates_100_percent_with_profile(kws):
    with FakeDeviceServer(_board(kws)) as dev:
        report = _run(kws, dev.url, 5)
    assert report.passed and report.comparison("reference", "device").exact == 5
    assert [lp.name for lp in report.layers] == ["CONV_2D", "FULLY_CONNECTED", "SOFTMAX"]
    assert report.latency.unit == "instructions" and report.latency.min >= 50_000


def test_missing_serial_device_is_reported_at_once():
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match="no device at /dev/ttyCG_NOPE"), open_target("/dev/ttyCG_NOPE"):
        pass
    assert time.monotonic() - t0 < 2


def test_busy_serial_port_names_the_program_holding_it():
    master, slave = os.openpty()
    path = os.ttyname(slave)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], pass_fds=(slave,))
    try:
        time.sleep(0.2)
        with pytest.raises(DeviceError, match=f"{path} is busy: opened by python"), open_target(path):
            pass
    finally:
        holder.kill()
        holder.wait()
        os.close(master)
        os.close(slave)


def test_a_board_that_never_answers_fails_within_the_boot_timeout(kws):
    with FakeDeviceServer(_board(kws, silent=True)) as dev:
        t0 = time.monotonic()
        with pytest.raises(DeviceError, match="no answer from socket://"), open_target(dev.url, boot_timeout=1.0):
            pass
        assert time.monotonic() - t0 < 5


def test_nothing_listening_on_the_socket_is_reported():
    from codegen.hil.project import free_port

    with pytest.raises(DeviceError, match="cannot open socket://"):
        with open_target(f"socket://127.0.0.1:{free_port()}"):
            pass


def test_a_reset_mid_run_is_detected_at_once_and_aborts(kws):
    with FakeDeviceServer(_board(kws, reset_at={3})) as dev:
        t0 = time.monotonic()
        with pytest.raises(DeviceError, match="reset during inference 4"):
            _run(kws, dev.url, 6, timeout=10.0)
        assert time.monotonic() - t0 < 5  # not after the 10 s request timeout


def test_a_reset_mid_run_can_be_resumed_and_is_reported(kws):
    with FakeDeviceServer(_board(kws, reset_at={3})) as dev:
        report = _run(kws, dev.url, 6, on_reset="resume")
    assert report.passed and len(report.samples) == 6 and report.resets_resumed == 1


def test_an_inference_that_never_finishes_times_out(kws):
    with FakeDeviceServer(_board(kws, slow_at=set(range(100)), slow_s=1.0)) as dev:
        with pytest.raises(DeviceError, match="INFER .* failed after .* no reply within 0.3 s"):
            _run(kws, dev.url, 2, timeout=0.3)


def test_noisy_link_never_yields_a_wrong_result_and_counts_crc_errors(kws):
    with FakeDeviceServer(_board(kws)) as dev, \
            NoisyProxy(dev.address, flip_rate=2e-4, drop_rate=1e-4, seed=11) as proxy:
        report = _run(kws, proxy.url, 30, timeout=1.5)
        noise = proxy.stats()
    assert noise.bits_flipped + noise.bytes_dropped > 0
    assert report.passed, "a corrupted result was accepted"
    assert report.link.crc_errors + report.link.timeouts > 0 and report.link.retries > 0


def test_a_wrong_output_is_traced_to_the_first_divergent_layer_over_the_wire(kws):
    graph, ref = kws
    host_c, host_layers = sources.host_c_fns(graph)
    assert host_layers is not None

    def bad_layers(data: bytes) -> tuple[bytes, ...]:
        layers = list(host_layers(data))
        layers[4] = bytes([layers[4][0] ^ 0x01]) + layers[4][1:]  # layer 4 computes one wrong value
        return tuple(layers)

    def bad_output(data: bytes) -> bytes:
        out = bytearray(ref(data))
        out[0] = (out[0] + 1) % 256
        return bytes(out)

    names = tuple(f"L{i}" for i in range(len(host_layers(bytes(490)))))
    board = _board(kws, layer_names=names, layer_fn=bad_layers)
    board.fn = bad_output
    with FakeDeviceServer(board) as dev, open_target(dev.url, timeout=2.0, boot_timeout=2.0) as target:
        report = validate(target, graph, random_inputs(graph, 3), reference=ref, host_c=host_c,
                          host_layers=host_layers, config=ValidationConfig(samples=3, progress=False))
    assert not report.passed and report.comparison("host_c", "device").exact == 0
    assert [(d.layer, d.layer_name, d.differing_bytes, d.max_abs_diff) for d in report.divergences] == [
        (4, "L4", 1, 1)] * 3
