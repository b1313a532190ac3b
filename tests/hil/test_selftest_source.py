"""The `pio test` self-test source, compiled for the host against a stub network: PASS/FAIL lines, summary."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from codegen.boards import load_board
from codegen.frontend import load_model
from codegen.hil.golden import golden_vectors, selftest_files
from tests.conftest import shared_model

STUB = Path(__file__).parent / "stub_net"


def _stub_net(data: bytes) -> bytes:
    s = sum(data)
    return bytes((s + 7 * i) % 256 for i in range(6))


def _vectors(n: int) -> list[tuple[bytes, bytes]]:
    vecs = []
    for k in range(n):
        data = bytes((k * 31 + j * 17) % 256 for j in range(20))
        vecs.append((data, _stub_net(data)))
    return vecs


@pytest.fixture(scope="module")
def graph():
    return load_model(shared_model("kws_dscnn_int8.tflite"))


def _build_and_run(tmp_path: Path, files: dict[str, bytes], env: dict[str, str] | None = None) -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not installed")
    for rel, content in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content)
    exe = tmp_path / "selftest"
    subprocess.run([gcc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", str(STUB),
                    "-I", str(tmp_path / "test_selftest"), str(tmp_path / "test_selftest" / "test_selftest.c"),
                    str(STUB / "stub.c"), "-o", str(exe)], check=True, capture_output=True, text=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True, timeout=10,
                          env=env).stdout


def _runner_module():
    path = Path(__file__).resolve().parents[2] / "templates" / "project" / "test" / "test_custom_runner.py"
    spec = importlib.util.spec_from_file_location("cg_test_custom_runner", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_selftest_passes_every_golden_vector_and_prints_unity_lines(tmp_path, graph):
    board = load_board("emulated_stm32f405")
    out = _build_and_run(tmp_path, selftest_files(graph, board, vectors=_vectors(3)))
    runner = _runner_module()
    results = [runner.LINE_RE.match(line) for line in out.splitlines()]
    cases = [(m.group("name"), m.group("status")) for m in results if m]
    assert cases == [("test_network_init", "PASS"), ("test_tensor_sizes", "PASS"), ("test_golden_0", "PASS"),
                     ("test_golden_1", "PASS"), ("test_golden_2", "PASS")]
    assert "5 Tests 0 Failures 0 Ignored" in out and out.rstrip().endswith("OK")
    first = next(m for m in results if m)
    assert first.group("file").endswith("test_selftest.c") and int(first.group("line")) > 0


def test_selftest_fails_when_an_expected_output_is_altered(tmp_path, graph):
    vecs = _vectors(2)
    bad = bytearray(vecs[1][1])
    bad[4] ^= 0x01
    vecs[1] = (vecs[1][0], bytes(bad))
    out = _build_and_run(tmp_path, selftest_files(graph, load_board("emulated_stm32f405"), vectors=vecs))
    runner = _runner_module()
    failed = [runner.LINE_RE.match(line) for line in out.splitlines() if ":FAIL" in line]
    assert len(failed) == 1 and failed[0].group("name") == "test_golden_1"
    expected = int.from_bytes(bad[4:5], "little", signed=True)
    assert f"output byte 4: expected {expected}" in failed[0].group("message")
    assert "4 Tests 1 Failures 0 Ignored" in out and out.rstrip().endswith("FAIL")


class _Suite:
    """The parts of PlatformIO's TestSuite the runner's line parser uses."""

    def __init__(self):
        self.cases, self.finished = [], False

    def add_case(self, case):
        self.cases.append(case)

    def on_finish(self):
        self.finished = True

    def is_finished(self):
        return self.finished


def test_selftest_repeats_its_report_until_the_host_acknowledges(tmp_path, graph, monkeypatch):
    """A runner that opens the port late (ST-LINK boards cannot be reset by it) still gets one whole report."""
    import os

    out = _build_and_run(tmp_path, selftest_files(graph, load_board("emulated_stm32f405"), vectors=_vectors(2)),
                         env={**os.environ, "STUB_ACK_AFTER": "3"})
    assert out.count("codegen self-test host_stub") == 3 and out.count("4 Tests 0 Failures 0 Ignored") == 3
    assert out.rstrip().endswith("ACK")
    runner = _runner_module()
    monkeypatch.setattr(runner.TestRunnerBase, "on_testing_line_output", lambda self, line: None)  # no echo
    parser = runner.CustomTestRunner.__new__(runner.CustomTestRunner)
    parser.test_suite, parser._pending, parser._summary_seen = _Suite(), None, False
    late = out[out.index("test_golden_0"):]  # the port opened in the middle of the first report
    for line in late.splitlines(keepends=True):
        parser.on_testing_line_output(line)
    names = [c.name for c in parser.test_suite.cases]
    assert parser.test_suite.finished
    assert names == ["test_network_init", "test_tensor_sizes", "test_golden_0", "test_golden_1"]


def test_golden_vectors_are_the_reference_outputs_and_are_deterministic(graph):
    from codegen.hil.sources import reference_fn

    ref = reference_fn(graph)
    vecs = golden_vectors(graph, 2, seed=5)
    assert vecs == golden_vectors(graph, 2, seed=5)
    assert all(ref(i) == o and len(i) == 490 and len(o) == 12 for i, o in vecs)
    files = selftest_files(graph, load_board("emulated_stm32f405"), vectors=vecs)
    config = json.loads(files["cg_test_config.json"])
    assert config["model_sha256"] == graph.sha256 and config["emulator"]["machine"] == "netduinoplus2"
    assert files == selftest_files(graph, load_board("emulated_stm32f405"), vectors=vecs)
    assert "test_custom_runner.py" in files and "test_selftest/cg_golden.h" in files
