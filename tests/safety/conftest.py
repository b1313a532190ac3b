"""Fixtures of the safety tests: a shared build cache for host builds."""

from __future__ import annotations

from pathlib import Path

import pytest

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "safety"


@pytest.fixture(scope="session")
def build_cache() -> Path:
    """Compiled host libraries are cached by content here, so re-runs do not recompile."""
    path = CACHE / "host"
    path.mkdir(parents=True, exist_ok=True)
    return path
