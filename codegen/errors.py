"""Errors a user can act on.

Every error raised for bad input is a :class:`CodegenError`: a one-line message naming the problem and a hint
naming the fix. The CLI prints ``error: <message> (<hint>)`` and exits with :data:`EXIT_USAGE`.
"""

from __future__ import annotations

EXIT_USAGE = 2


class CodegenError(Exception):
    """A problem with the user's input or environment, with a hint that says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ModelError(CodegenError):
    """The model file cannot be read (missing, empty, truncated, not a TFLite flatbuffer...)."""


class InconsistentModelError(ModelError):
    """The model file parses, but its graph is inconsistent (indices, shapes, quantization do not agree)."""


class BoardError(CodegenError):
    """Unknown board, or a board description that does not match the schema."""


class UnsupportedModelError(CodegenError):
    """The model uses operators or types a backend does not implement."""


class FitError(CodegenError):
    """The model does not fit the board's flash or RAM."""


class DeviceError(CodegenError):
    """A device or emulator did not answer as expected (no port, timeout, reset, corrupted link)."""


class OverwriteError(CodegenError):
    """Refusing to overwrite files the user owns or edited."""
