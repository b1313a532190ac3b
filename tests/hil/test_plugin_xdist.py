"""`pytest -n 2 --ports A,B`: every pytest-xdist worker runs the on-board tests against its own board."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.hil.validate import TOOL_VERSION
from tests.hil.fake_device import FakeBoard, FakeDeviceServer

ROOT = Path(__file__).resolve().parents[2]

INNER = '''
import json, os

import pytest


@pytest.mark.parametrize("n", range(6))
def test_on_board(hil_target, hil_url, n):
    info = hil_target.info()
    with open(os.environ["FARM_LOG"], "a") as fh:
        fh.write(json.dumps([os.environ.get("PYTEST_XDIST_WORKER"), hil_url, info.model_sha256]) + "\\n")
'''


def _run_inner(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["codegen.hil.pytest_plugin"]\n')
    (tmp_path / "test_inner.py").write_text(INNER)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FARM_LOG": str(tmp_path / "log.jsonl")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=180, check=False)


def _board(sha: str) -> FakeBoard:
    return FakeBoard(fn=lambda b: bytes(12), input_bytes=4, output_bytes=12, sha256=sha, tool_version=TOOL_VERSION)


def test_each_xdist_worker_gets_its_own_board(tmp_path):
    pytest.importorskip("xdist")
    with FakeDeviceServer(_board("a" * 64)) as a, FakeDeviceServer(_board("b" * 64)) as b:
        url_a, url_b = a.url, b.url
        urls = {url_a: "a" * 64, url_b: "b" * 64}
        proc = _run_inner(tmp_path, "-n", "2", "--ports", f"{url_a},{url_b}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    by_worker: dict[str, set[str]] = {}
    for worker, url, sha in rows:
        assert urls[url] == sha  # the test talked to the board on that port
        by_worker.setdefault(worker, set()).add(url)
    assert by_worker == {"gw0": {url_a}, "gw1": {url_b}}  # worker gwN, port N, for every test it ran


def test_more_workers_than_boards_is_a_usage_error(tmp_path):
    pytest.importorskip("xdist")
    proc = _run_inner(tmp_path, "-n", "3", "--ports", "socket://127.0.0.1:9,socket://127.0.0.1:10")
    assert proc.returncode == 4 and "-n 3 workers need 3 boards" in proc.stderr + proc.stdout
