"""Wall time of a board farm and of multi-worker training on this machine (issue 18).

    python benchmarks/farm/farm.py validate [--samples 200]   # 1 vs 2 emulated STM32F405 boards, SqueezeNet
    python benchmarks/farm/farm.py train                      # LeNet-5 on digits, 1 process vs 2 workers

Prints a Markdown table with the load average of the machine before and after each run; results.md records it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "generated" / "squeezenet_int8-emulated_stm32f405"


def codegen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codegen", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def bench_validate(samples: int) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / PROJECT.name
        shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(".pio", ".pio-core"))
        urls = [json.loads(codegen("flash", str(project), "--port", "auto", "--json").stdout)["url"]
                for _ in range(2)]
        try:
            for boards in (1, 2):
                ports = [a for u in urls[:boards] for a in ("--port", u)]
                before = load()
                t0 = time.monotonic()
                out = codegen("validate", *ports, "--project", str(project), "--samples", str(samples),
                              "--no-plots", "--json").stdout
                wall = time.monotonic() - t0
                rep = json.loads(out)
                rows.append(f"| validate {samples} samples, SqueezeNet int8 | {boards} emulated board(s) | "
                            f"{wall:.1f} s | {100 * rep['device_exact_rate']:.0f} % exact | {before} -> {load()} |")
        finally:
            codegen("stop", str(project))
    return rows


def _ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def bench_train() -> list[str]:
    args = ["train", "--model", "lenet5", "--dataset", "digits", "--epochs", "2", "--batch-size", "32",
            "--variants", "int8", "--seed", "0", "--json"]
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        before = load()
        t0 = time.monotonic()
        single = json.loads(codegen(*args, "--out", f"{tmp}/single", env=env).stdout)
        wall = time.monotonic() - t0
        rows.append(f"| train LeNet-5, digits, 2 epochs | 1 process | {wall:.1f} s | int8 accuracy "
                    f"{single['variants'][0]['accuracy']:.3f} | {before} -> {load()} |")
        workers = ",".join(f"127.0.0.1:{p}" for p in _ports(2))
        before = load()
        t0 = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-m", "codegen", *args, "--out", f"{tmp}/multi{i}",
                                   "--distribute", "multi-worker", "--workers", workers, "--worker-index", str(i)],
                                  cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for i in range(2)]
        outs = [p.communicate()[0] for p in procs]
        wall = time.monotonic() - t0
        chief = json.loads(outs[0])
        rows.append(f"| train LeNet-5, digits, 2 epochs | 2 workers on 127.0.0.1 | {wall:.1f} s | int8 accuracy "
                    f"{chief['variants'][0]['accuracy']:.3f} | {before} -> {load()} |")
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("validate", "train"))
    p.add_argument("--samples", type=int, default=200)
    a = p.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    print("| run | on | wall time | result | load average (1/5/15 min) before -> after |")
    print("|---|---|---|---|---|")
    for row in (bench_validate(a.samples) if a.what == "validate" else bench_train()):
        print(row, flush=True)


if __name__ == "__main__":
    main()
