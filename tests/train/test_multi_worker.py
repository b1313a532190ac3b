"""`codegen train --distribute multi-worker`: two worker processes on 127.0.0.1 train the model a single
process trains (same seeds, same files, weights within float tolerance), and only the chief writes files.

One batch per epoch (--batch-size = the training subset): the gradient of the global batch is then the same
whatever the order of the samples, so the two-worker all-reduce (each worker holds half of every batch, tf.data
sharded by data) must give the single process's weights up to float rounding. Pruning (tfmot's step callback)
and QAT run under the strategy too.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.train.conftest import run

ROOT = Path(__file__).resolve().parents[2]
ARGS = ["train", "--model", "lenet5", "--dataset", "digits", "--subset-train", "64", "--subset-test", "32",
        "--epochs", "1", "--finetune-epochs", "2", "--batch-size", "32", "--prune", "0.5", "--qat",
        "--variants", "int8,qat_int8,pruned_int8", "--seed", "3", "--json"]


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _weights(path: Path) -> dict[str, np.ndarray]:
    import h5py

    with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as h5:
        out: dict[str, np.ndarray] = {}
        h5.visititems(lambda name, obj: out.__setitem__(name, np.asarray(obj)) if isinstance(obj, h5py.Dataset)
                      else None)
    return out


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "codegen", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_two_local_workers_write_the_single_worker_files_from_the_chief_only(tmp_path):
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    batch = ARGS.index("--batch-size") + 1
    args = [*ARGS[:batch], "64", *ARGS[batch + 1:]]  # one batch per epoch (see the module docstring)
    procs = [_start([*args, "--out", str(tmp_path / "single")], env)]
    procs += [_start([*args, "--out", str(tmp_path / f"multi{i}"), "--distribute", "multi-worker",
                      "--workers", workers, "--worker-index", str(i)], env) for i in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=900)
        assert p.returncode == 0, err[-2000:]
        outs.append(json.loads(out))
    single, chief, other = (tmp_path / "single", tmp_path / "multi0", tmp_path / "multi1")
    names = sorted(p.name for p in single.iterdir())
    assert sorted(p.name for p in chief.iterdir()) == names  # no backup folder left behind either
    assert not other.exists() and outs[2]["files"] == []  # the second worker wrote nothing
    assert outs[1]["config"]["distribute"] == "multi-worker"
    a, b = _weights(single / "lenet5.keras"), _weights(chief / "lenet5.keras")
    assert a.keys() == b.keys() and len(a) >= 10
    for name in a:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-4, atol=1e-5, err_msg=name)
    vs = {v["name"]: v for v in outs[0]["variants"]}
    vm = {v["name"]: v for v in outs[1]["variants"]}
    assert vm["pruned_int8"]["sparsity"] >= 0.45 and vm["pruned_int8"]["sparsity"] == pytest.approx(
        vs["pruned_int8"]["sparsity"], abs=0.01)  # tfmot's pruning steps ran under the strategy
    for v in ("int8", "qat_int8", "pruned_int8"):
        assert vm[v]["accuracy"] == pytest.approx(vs[v]["accuracy"], abs=1 / 32 + 1e-9), v


@pytest.mark.parametrize("argv, message", [
    (["--workers", "127.0.0.1:1,127.0.0.1:2"], "--workers and --worker-index need --distribute multi-worker"),
    (["--distribute", "multi-worker", "--workers", "127.0.0.1:1"], "--workers and --worker-index go together"),
    (["--distribute", "multi-worker", "--workers", "127.0.0.1:1,nohost", "--worker-index", "0"],
     "is not a list of host:port"),
    (["--distribute", "multi-worker", "--workers", "127.0.0.1:1,127.0.0.1:2", "--worker-index", "2"],
     "is not one of the 2 workers"),
])
def test_bad_cluster_arguments_are_usage_errors(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    from codegen.cli import main

    assert main([*ARGS, "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not list(tmp_path.iterdir())


def test_multi_worker_without_a_cluster_says_how_to_give_one(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert run([*ARGS, "--out", str(tmp_path), "--distribute", "multi-worker"]) == 2
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    assert run([*ARGS, "--out", str(tmp_path), "--distribute", "multi-worker"]) == 2
