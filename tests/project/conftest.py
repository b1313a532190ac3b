"""Fixtures of the project-writer and emulated-board tests: one generated + built project per session."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import shared_model

MODEL_NAME = "kws_dscnn_int8.tflite"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def kws_model() -> Path:
    return shared_model(MODEL_NAME)


@dataclass(frozen=True)
class RunningProject:
    path: Path
    url: str
    sha256: str
    size: object


@pytest.fixture(scope="session")
def emulated_project(tmp_path_factory: pytest.TempPathFactory, kws_model: Path) -> Iterator[RunningProject]:
    """generate -> `pio run` -> `pio run -t upload` (QEMU in the background) ... `pio run -t stop`."""
    missing = [p for p in ("qemu-system-arm", "arm-none-eabi-gcc") if shutil.which(p) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed")
    from codegen.project import pio
    from codegen.project.writer import generate_project

    out = tmp_path_factory.mktemp("emulated") / "kws-qemu"
    project = generate_project(kws_model, "qemu", out, selftest=False)
    built = pio.build(project.path)
    port = free_port()
    pio.upload(project.path, port=f"127.0.0.1:{port}")
    try:
        yield RunningProject(project.path, f"socket://127.0.0.1:{port}", project.model_sha256, built.size)
    finally:
        pio.stop(project.path)
