"""The project's exception types.

Stages catch :class:`Sketch2ColorError` at their entry point and print its
message without a traceback: these are user-facing faults (a wrong param, a
missing file, an unreachable server), not bugs.
"""

from __future__ import annotations

from pathlib import Path
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


class DamagedShardError(DataError):
    """A TFRecord shard that is truncated or corrupted, named with what to rerun.

    A DataError although it is one file: a shard is not one raw image among
    thousands but a stage's output, and a reader that must see all of it
    (training plans its steps from the record count and fingerprints the
    data) cannot go on without it.
    """

    def __init__(self, path: Path, reason: str, remedy: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{path}: damaged TFRecord shard ({reason}); {remedy}")


class UnsafeArchiveError(DataError):
    """An archive that breaks the extraction limits as a whole."""
