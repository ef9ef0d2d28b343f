"""Where the pipeline reads and writes, relative to the project root.

The root is ``DVC_ROOT`` when DVC runs a stage (queued experiments run in a
temporary copy, and DVC tells us where that is), otherwise the current folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    @classmethod
    def discover(cls) -> "ProjectPaths":
        return cls(Path(os.environ.get("DVC_ROOT") or Path.cwd()).resolve())

    @property
    def params(self) -> Path:
        return self.root / "params.yaml"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def downloads(self) -> Path:
        return self.root / "data" / "downloads"

    @property
    def split(self) -> Path:
        return self.root / "data" / "split"

    @property
    def augmented(self) -> Path:
        return self.root / "data" / "augmented"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics"
