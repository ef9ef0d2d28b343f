"""Where the pipeline reads and writes: every output's name and path, relative to the project root.

The root is the current folder: DVC runs every stage from the project root,
and a queued experiment runs in a temporary copy of the project whose outputs
DVC collects from there. ``DVC_ROOT`` (the original project, even for a queued
experiment) is deliberately not used here; only the shared MLflow store lives
there (see sketch2color.tracking.store).

Names are class constants as well as paths, because a stage that builds a
folder under a temporary name (``atomic_directory``) writes its files by name
into that staging folder before it becomes ``data/raw`` or ``models/export``.
``dvc.yaml`` spells the same paths; a test compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True)
class ProjectPaths:
    root: Path

    PARAMS: ClassVar[str] = "params.yaml"
    MLFLOW_DB: ClassVar[str] = "mlflow.db"
    """The default MLflow store, a sqlite file in the project (MLFLOW_TRACKING_URI overrides it)."""
    # data/raw (fetch)
    FETCH_REPORT: ClassVar[str] = "fetch_report.json"
    """The source, its licence, counts and every skipped or excluded item."""
    PAIR_GROUPS: ClassVar[str] = "pair_groups.json"
    """Which pairs are variants of one drawing (split keeps each group together)."""
    # data/split, data/augmented
    SPLIT_MANIFEST: ClassVar[str] = "manifest.json"
    AUGMENT_REPORT: ClassVar[str] = "augment_report.json"
    # models/
    GENERATOR: ClassVar[str] = "generator.keras"
    RUN_RECORD: ClassVar[str] = "mlflow_run.json"
    """How the later stages find the training's MLflow run."""
    EXPORT_MANIFEST: ClassVar[str] = "formats.json"
    """In models/export: which formats exist, agree with Keras, which colorize and the GUI load (``default``)
    and which is fastest per image."""
    EXPORT_FILES: ClassVar[dict[str, str]] = {
        "savedmodel": "savedmodel",
        "tflite_float32": "generator_float32.tflite",
        "tflite_float16": "generator_float16.tflite",
    }
    """Each export format's file (or folder) name inside models/export."""
    # metrics/
    TRAIN_METRICS: ClassVar[str] = "train.json"
    TRAIN_HISTORY: ClassVar[str] = "train_history.csv"
    VALIDATION_FIGURE: ClassVar[str] = "validation.png"
    AUGMENT_PREVIEW: ClassVar[str] = "augment_preview.png"
    EVAL_METRICS: ClassVar[str] = "eval.json"
    EVAL_SAMPLES: ClassVar[str] = "samples.png"
    HINT_CURVE: ClassVar[str] = "hint_curve.csv"
    """Scores against the number of hints (one row, at 0 hints, for a model without hints)."""
    EXPORT_METRICS: ClassVar[str] = "export.json"
    BENCH_METRICS: ClassVar[str] = "bench.json"
    HEADLINE_METRICS: ClassVar[str] = "headline.json"
    """The DVC metrics: the dozen scores `dvc exp show` compares (sketch2color.pipeline.headline)."""

    @classmethod
    def discover(cls) -> ProjectPaths:
        return cls(Path.cwd().resolve())

    @property
    def params(self) -> Path:
        return self.root / self.PARAMS

    # ------------------------------------------------------------ data

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
    def split_manifest(self) -> Path:
        return self.split / self.SPLIT_MANIFEST

    @property
    def augmented(self) -> Path:
        return self.root / "data" / "augmented"

    @property
    def augment_report(self) -> Path:
        return self.augmented / self.AUGMENT_REPORT

    # ------------------------------------------------------------ models

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def generator(self) -> Path:
        return self.models / self.GENERATOR

    @property
    def checkpoints(self) -> Path:
        return self.models / "checkpoints"

    @property
    def run_record(self) -> Path:
        return self.models / self.RUN_RECORD

    @property
    def export(self) -> Path:
        return self.models / "export"

    @property
    def export_manifest(self) -> Path:
        return self.export / self.EXPORT_MANIFEST

    def exported(self, format_name: str) -> Path:
        """Where export writes ``format_name`` (a key of :attr:`EXPORT_FILES`)."""
        return self.export / self.EXPORT_FILES[format_name]

    # ------------------------------------------------------------ metrics

    @property
    def metrics(self) -> Path:
        return self.root / "metrics"

    @property
    def train_metrics(self) -> Path:
        return self.metrics / self.TRAIN_METRICS

    @property
    def train_history(self) -> Path:
        return self.metrics / self.TRAIN_HISTORY

    @property
    def validation_figure(self) -> Path:
        return self.metrics / self.VALIDATION_FIGURE

    @property
    def augment_preview(self) -> Path:
        return self.metrics / self.AUGMENT_PREVIEW

    @property
    def eval_metrics(self) -> Path:
        return self.metrics / self.EVAL_METRICS

    @property
    def eval_samples(self) -> Path:
        return self.metrics / self.EVAL_SAMPLES

    @property
    def hint_curve(self) -> Path:
        return self.metrics / self.HINT_CURVE

    @property
    def export_metrics(self) -> Path:
        return self.metrics / self.EXPORT_METRICS

    @property
    def headline_metrics(self) -> Path:
        return self.metrics / self.HEADLINE_METRICS

    @property
    def bench_metrics(self) -> Path:
        return self.metrics / self.BENCH_METRICS
