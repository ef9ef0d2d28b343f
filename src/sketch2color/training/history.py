"""metrics/train_history.csv: the loss curves `dvc plots` draws.

The file on disk always matches the newest checkpoint: it is rewritten
atomically whenever a checkpoint is saved (and at the end), never appended
to. A copy lives in the checkpoint folder, because DVC deletes a stage's
non-persistent outputs before rerunning it: the copy is what a resumed
training reads back. It keeps the rows up to the step it resumes from, and
so ends with exactly one row per logged step - the steps redone after a kill
replace, not duplicate, the lost ones.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from pathlib import Path

from sketch2color import atomic

log = logging.getLogger(__name__)

METRIC_NAMES = ("gen_total", "gen_gan", "gen_l1", "disc", "d_real", "d_fake")
COLUMNS = ("step", "epoch", *METRIC_NAMES, "images_per_s", "lr")


@dataclass(frozen=True)
class HistoryRow:
    step: int
    epoch: int  # 1-based epoch the step belongs to
    values: dict[str, float]  # METRIC_NAMES + images_per_s + lr

    def as_csv(self) -> list[str]:
        return [str(self.step), str(self.epoch)] + [f"{self.values[c]:.6g}" for c in COLUMNS[2:]]


class TrainHistory:
    """The rows of one training; ``path`` is the published CSV, ``checkpoint_copy`` the resumable one."""

    def __init__(self, path: Path, checkpoint_copy: Path, resume_step: int) -> None:
        self.path = Path(path)
        self.checkpoint_copy = Path(checkpoint_copy)
        self.rows: list[HistoryRow] = []
        if resume_step > 0:
            source = self.checkpoint_copy if self.checkpoint_copy.exists() else self.path
            self.rows = self._read(source, resume_step)

    def append(self, row: HistoryRow) -> None:
        self.rows.append(row)

    def write(self) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in self.rows:
            writer.writerow(row.as_csv())
        data = buffer.getvalue().encode("utf-8")
        atomic.write_bytes(self.checkpoint_copy, data)
        atomic.write_bytes(self.path, data)

    def epoch_means(self, epoch: int) -> dict[str, float]:
        """Step-weighted means over one epoch's rows (each row averages the steps since the previous)."""
        totals: dict[str, float] = {}
        weight_sum = 0
        previous_step = 0
        for row in self.rows:
            if row.epoch < epoch:
                previous_step = row.step
                continue
            if row.epoch > epoch:
                break
            weight = max(1, row.step - previous_step)
            previous_step = row.step
            weight_sum += weight
            for name, value in row.values.items():
                totals[name] = totals.get(name, 0.0) + weight * value
        return {name: total / weight_sum for name, total in totals.items()} if weight_sum else {}

    @staticmethod
    def _read(path: Path, resume_step: int) -> list[HistoryRow]:
        rows: list[HistoryRow] = []
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return rows
        for line_number, record in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            try:
                row = HistoryRow(
                    step=int(record["step"]),
                    epoch=int(record["epoch"]),
                    values={c: float(record[c]) for c in COLUMNS[2:]},
                )
            except (KeyError, TypeError, ValueError):
                log.warning("%s:%d: unreadable row dropped", path, line_number)
                continue
            if row.step <= resume_step and (not rows or row.step > rows[-1].step):
                rows.append(row)
        return rows
