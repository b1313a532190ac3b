"""Keep TensorFlow's C++ start-up logging (oneDNN, cudart_stub, absl pre-init warnings) off the terminal.

:func:`install` sets ``TF_CPP_MIN_LOG_LEVEL=3`` before TensorFlow can be imported and registers an import hook:
the first ``import tensorflow`` (by any module, in this process) runs with file descriptor 2 pointed at
``/dev/null``, because those lines are written by C++ static initialisers that ignore the environment. After the
import, Python-side TensorFlow and absl logging are routed to :mod:`logging` at ERROR. ``--debug`` skips all of
it. Errors raised by the import are Python exceptions and still reach the user.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator
from types import ModuleType

QUIET_MODULES = ("tensorflow", "tflite_micro")


@contextlib.contextmanager
def fd2_to_devnull() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration (C and C++ code writes there directly)."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        sys.stderr.flush()
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        with fd2_to_devnull():
            self.inner.exec_module(module)
        _route_python_logging()


class _QuietFinder(importlib.abc.MetaPathFinder):
    def __init__(self, modules: tuple[str, ...]) -> None:
        self.modules = modules

    def find_spec(self, fullname: str, path: object = None, target: object = None
                  ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


def _route_python_logging() -> None:
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    absl = sys.modules.get("absl.logging")
    if absl is not None:
        with contextlib.suppress(Exception):
            absl.set_verbosity(absl.ERROR)  # type: ignore[attr-defined]


def install(debug: bool = False, modules: tuple[str, ...] = QUIET_MODULES) -> None:
    """Silence TensorFlow's C++ logging for this process (and the children it starts) unless ``debug``;
    ``modules`` are the top-level packages whose first import runs with fd 2 silenced."""
    if debug:
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if not any(isinstance(f, _QuietFinder) and f.modules == modules for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder(modules))
