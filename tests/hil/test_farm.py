"""Board farm: `codegen validate --port A --port B` shards the samples over fake boards that speak the serial
protocol over TCP (tests/hil/fake_device.py) and run the TFLM reference as their "network"."""

from __future__ import annotations

import contextlib
import json
import threading

import pytest

from codegen.cli import main
from codegen.frontend import load_model
from codegen.hil import sources
from codegen.hil.farm import validate_farm
from codegen.hil.validate import TOOL_VERSION, ValidationConfig, random_inputs
from tests.conftest import shared_model
from tests.hil.fake_device import FakeBoard, FakeDeviceServer
from tests.hil.fakes import FakeTarget

KWS = "kws_dscnn_int8.tflite"


@pytest.fixture(scope="module")
def kws():
    graph = load_model(shared_model(KWS))
    return graph, sources.reference_fn(graph)


def _board(kws, fn=None, sha256=None) -> FakeBoard:
    graph, _ = kws  # every board runs its own interpreter: the boards answer at the same time
    return FakeBoard(fn=fn or sources.reference_fn(graph), input_bytes=490, output_bytes=12,
                     sha256=sha256 or graph.sha256, tool_version=TOOL_VERSION)


def _validate(*argv: str) -> int:
    return main(["validate", "--model", str(shared_model(KWS)), "--no-host-c", "--no-plots", "--timeout", "5",
                 "--boot-timeout", "3", *argv])


def test_two_boards_share_the_samples_and_report_per_board_and_in_total(kws, capsys, tmp_path):
    with FakeDeviceServer(_board(kws)) as a, FakeDeviceServer(_board(kws)) as b:
        urls = [a.url, b.url]
        rc = _validate("--port", a.url, "--port", b.url, "--samples", "7", "--json", "--out", str(tmp_path))
        out = json.loads(capsys.readouterr().out)
        assert (a.board.infers, b.board.infers) == (4, 3)  # round-robin: samples 0,2,4,6 and 1,3,5
    assert rc == 0 and out["passed"] and out["device_exact_rate"] == 1.0
    assert [s["index"] for s in out["samples"]] == list(range(7)) and out["latency"]["count"] == 7
    ref = out["comparisons"][0]
    assert (ref["a"], ref["b"], ref["exact"], ref["samples"]) == ("reference", "device", 7, 7)
    boards = out["farm"]["boards"]
    assert [b_["port"] for b_ in boards] == urls
    assert [b_["sample_indices"] for b_ in boards] == [[0, 2, 4, 6], [1, 3, 5]]
    assert all(b_["passed"] and b_["latency"]["count"] == len(b_["sample_indices"]) for b_ in boards)
    assert out["farm"]["diverged"] == [] and json.loads((tmp_path / "farm.json").read_text())["passed"]


def test_a_diverging_board_is_named_and_the_run_fails(kws, capsys):
    graph, ref = kws

    own = sources.reference_fn(graph)

    def wrong(data: bytes) -> bytes:
        out = bytearray(own(data))
        out[3] ^= 1
        return bytes(out)

    with FakeDeviceServer(_board(kws)) as a, FakeDeviceServer(_board(kws, fn=wrong)) as b:
        good, bad = a.url, b.url
        rc = _validate("--port", good, "--port", bad, "--samples", "4")
        text = capsys.readouterr().out
    assert rc == 1
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip().startswith("socket://")}
    assert "PASS" in lines[good] and "2/2 100.0%" in lines[good]
    assert "DIVERGED" in lines[bad] and "0/2   0.0%" in lines[bad]
    assert f"result: FAIL ({bad} diverged)" in text
    assert "reference -> device" in text and "2/4  50.0%" in text


def test_a_board_with_other_firmware_stops_the_run_before_any_inference(kws, capsys):
    with FakeDeviceServer(_board(kws)) as a, FakeDeviceServer(_board(kws, sha256="ab" * 32)) as b:
        good, bad = a.url, b.url
        rc = _validate("--port", good, "--port", bad, "--samples", "4")
        err = capsys.readouterr().err.strip().splitlines()
        assert a.board.infers == 0 and b.board.infers == 0
    assert rc == 2 and len(err) == 1 and bad in err[0] and "different model" in err[0] and good not in err[0]


@pytest.mark.parametrize("argv, message", [
    (["--port", "socket://127.0.0.1:9", "--port", "socket://127.0.0.1:9", "--samples", "4"], "given twice"),
    (["--port", "socket://127.0.0.1:9", "--port", "socket://127.0.0.1:10", "--samples", "1"],
     "1 samples cannot be shared by 2 boards"),
])
def test_bad_farm_arguments_are_one_line_usage_errors(argv, message, capsys):
    assert _validate(*argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_the_boards_run_at_the_same_time(kws):
    """Each board's first inference waits for the other's: a farm that ran the boards one after the other would
    break the barrier."""
    graph, ref = kws
    barrier = threading.Barrier(2, timeout=10)

    class Meeting(FakeTarget):
        def infer(self, data: bytes):  # noqa: ANN201
            if self.calls == 0:
                barrier.wait()
            return super().infer(data)

    targets = {p: Meeting(sources.reference_fn(graph), graph.sha256) for p in "AB"}

    @contextlib.contextmanager
    def opener(port: str):  # noqa: ANN202
        yield targets[port]

    farm = validate_farm(["A", "B"], graph, random_inputs(graph, 4), open_target=opener, reference=ref,
                         config=ValidationConfig(samples=4, progress=False))
    assert farm.passed and [b.indices for b in farm.boards] == [(0, 2), (1, 3)]
    assert targets["A"].calls == 2 and targets["B"].calls == 2
