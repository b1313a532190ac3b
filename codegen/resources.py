"""Locate the data folders that ship with the package (templates, boards, runtime, firmware, platform).

In the repository they are top-level folders; in an installed wheel they live under ``codegen/_data/``.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES = ("templates", "boards", "runtime", "firmware", "platform", "docs")

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """Return the folder of the named resource, installed or in the repository."""
    if name not in RESOURCES:
        raise ValueError(f"unknown resource {name!r}; expected one of {', '.join(RESOURCES)}")
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    repo = _PACKAGE_DIR.parent / name
    if repo.is_dir():
        return repo
    raise FileNotFoundError(f"resource folder {name!r} not found under {installed} or {repo}; reinstall codegen")
