"""Fixtures of the native-backend tests: a shared build cache and the single-op models."""

from __future__ import annotations

from pathlib import Path

import pytest

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "native"


@pytest.fixture(scope="session")
def build_cache() -> Path:
    """Compiled host libraries are cached by content here, so re-runs do not recompile."""
    path = CACHE / "host"
    path.mkdir(parents=True, exist_ok=True)
    return path
