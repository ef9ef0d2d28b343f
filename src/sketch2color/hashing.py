"""The hex digest of a file's bytes, read in chunks so that a large file never sits in memory whole."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of the file at ``path`` with ``algorithm`` ("sha256", "md5", any name hashlib knows)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, algorithm).hexdigest()
