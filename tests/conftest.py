"""Shared fixtures: paths to the reference models and small models built with TensorFlow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# --port / --board-name / --model and the board fixtures (emulated STM32F405 when no --port is given)
pytest_plugins = ["codegen.hil.pytest_plugin"]

ROOT = Path(__file__).resolve().parent.parent
SHARED_MODELS = (ROOT.parent / "shared" / "models").resolve()

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def shared_model(name: str) -> Path:
    path = SHARED_MODELS / name
    if not path.exists():
        pytest.skip(f"reference model {path} not present (shared/ must sit beside the project)")
    return path


@pytest.fixture(scope="session")
def shared_models_dir() -> Path:
    if not SHARED_MODELS.is_dir():
        pytest.skip(f"{SHARED_MODELS} not present")
    return SHARED_MODELS
