"""Where the pipeline reads and writes, relative to the project root.

The root is the current folder: DVC runs every stage from the project root,
and a queued experiment runs in a temporary copy of the project whose outputs
DVC collects from there. ``DVC_ROOT`` (the original project, even for a queued
experiment) is deliberately not used here; only the shared MLflow store lives
there (see sketch2color.tracking.store).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    FETCH_REPORT = "fetch_report.json"
    """In data/raw: the source, its licence, counts and every skipped or excluded item."""
    PAIR_GROUPS = "pair_groups.json"
    """In data/raw: which pairs are variants of one drawing (split keeps each group together)."""

    @classmethod
    def discover(cls) -> ProjectPaths:
        return cls(Path.cwd().resolve())

    @property
    def params(self) -> Path:
        return self.root / "params.yaml"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw"

    @property
    def fetch_report(self) -> Path:
        return self.raw / self.FETCH_REPORT

    @property
    def pair_groups(self) -> Path:
        return self.raw / self.PAIR_GROUPS

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
