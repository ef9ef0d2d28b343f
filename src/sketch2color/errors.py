"""The project's exception types.

Stages catch :class:`Sketch2ColorError` at their entry point and print its
message without a traceback: these are user-facing faults (a wrong param, a
missing file, an unreachable server), not bugs.
"""

from __future__ import annotations

from typing import Any


class Sketch2ColorError(Exception):
    """A fault the user can fix; the message says what and where."""


class ConfigError(Sketch2ColorError):
    """A params.yaml key or value that is not allowed."""

    def __init__(self, key: str, value: Any, allowed: str, *, unknown: bool = False) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        if unknown:
            message = f"params: unknown key '{key}' (value {value!r}); expected {allowed}"
        else:
            message = f"params: bad value for '{key}': {value!r}; expected {allowed}"
        super().__init__(message)


class DataError(Sketch2ColorError):
    """Input data that cannot be used as a whole (one bad file is never this)."""


class UnsafeArchiveError(DataError):
    """An archive that breaks the extraction limits as a whole."""
