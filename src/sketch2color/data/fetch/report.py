"""What one fetch produced and left out: ``data/raw/fetch_report.json``.

Every source fills the same report, so a user reads one file to learn where
the pairs came from, how many there are, under which licence, and every item
that was skipped with its reason. Sources that leave items out by rule (the
OpenMoji flags and keycaps, say) also count each rule in ``excluded``, so
thousands of deliberate exclusions do not drown the few real problems.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

SKIPPED_LOG_LINES = 20


@dataclass(frozen=True)
class SkippedItem:
    """A file, folder or archive member left out, and why."""

    item: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "reason": self.reason}


@dataclass(frozen=True)
class Attribution:
    """Whose data this is and under which licence (CC BY-SA requires saying so)."""

    name: str
    version: str
    license: str
    license_url: str
    notice: str

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.version,
            "license": self.license,
            "license_url": self.license_url,
            "notice": self.notice,
        }


@dataclass
class FetchReport:
    """What one fetch produced; written to ``data/raw/fetch_report.json``."""

    source: str
    origin: str | None = None
    sha256: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[SkippedItem] = field(default_factory=list)
    excluded: Counter = field(default_factory=Counter)
    attribution: Attribution | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def skip(self, item: str, reason: str) -> None:
        self.skipped.append(SkippedItem(item, reason))

    def exclude(self, rule: str) -> None:
        """Count one item left out by a source's rule (not a fault: nothing to list)."""
        self.excluded[rule] += 1

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "origin": self.origin,
            "sha256": self.sha256,
            "attribution": self.attribution.to_dict() if self.attribution else None,
            "counts": dict(self.counts),
            "total": self.total,
            "excluded": dict(sorted(self.excluded.items())),
            "skipped_count": len(self.skipped),
            "skipped": [s.to_dict() for s in self.skipped],
        }

    def skipped_summary(self, shown: int = 5) -> str:
        """The first few skipped items, for an error message when nothing usable was left."""
        if not self.skipped:
            return " (the folder is empty)"
        lines = "; ".join(f"{s.item}: {s.reason}" for s in self.skipped[:shown])
        more = f"; and {len(self.skipped) - shown} more" if len(self.skipped) > shown else ""
        return f" ({len(self.skipped)} skipped: {lines}{more})"

    def log_summary(self, report_path: Path) -> None:
        counts = ", ".join(f"{name} {count}" for name, count in self.counts.items())
        log.info(
            "fetch %s%s: %s files (%s); %d excluded by rule, %d skipped, listed in %s",
            self.source,
            f" from {self.origin}" if self.origin else "",
            self.total,
            counts,
            sum(self.excluded.values()),
            len(self.skipped),
            report_path,
        )
        for rule, count in sorted(self.excluded.items()):
            log.info("excluded %d: %s", count, rule)
        if self.attribution:
            log.info("data: %s", self.attribution.notice)
        for skipped in self.skipped[:SKIPPED_LOG_LINES]:
            log.warning("skipped %s: %s", skipped.item, skipped.reason)
        if len(self.skipped) > SKIPPED_LOG_LINES:
            log.warning("... and %d more skipped items", len(self.skipped) - SKIPPED_LOG_LINES)
