"""DVC stage ``headline``: the dozen scores ``dvc exp show`` compares, from the stages' full outputs.

``metrics/eval.json`` and ``metrics/export.json`` hold every distribution
(mean, median, p5, p95 and std of each score, for the model and the baselines,
at two resolutions, and each export format's figures): about 280 scalars,
which ``dvc exp show`` folded into ``…`` in a terminal. They stay plain outputs
(``dvc metrics show metrics/eval.json`` and MLflow read them); the DVC
metrics are this file's few keys, short enough that
``dvc exp show --only-changed`` fits 200 columns:

=============  ==========================================================================
``dE00``       the model's fill colour difference (CIEDE2000) in the picture a user gets
``ssim``       its SSIM in the picture
``psnr``       its PSNR in the picture (dB)
``base_dE00``  the best baseline's fill difference in the picture (the sketch handed back)
``dabs.N``     the picture's fill difference with N simulated dabs (the hint curve; 0 is ``dE00``)
``square.N``   the same at the model's own size, 0 and 10 dabs
``gapW.10``    the picture's fill difference with 10 dabs on lines with the widest gaps (W px at 512 px)
``leak``       the most paper any dab count paints in a dab's colour, closed or gapped (a share)
``img_per_s``  training images per second
``latency_ms`` per-image latency (p50) of the format colorize and the GUI load
=============  ==========================================================================

A key whose score was not made (a model without hints has no ``square.10``, an
evaluation without full-resolution images no picture scores) is left out,
and ``dvc exp show`` prints ``-``. New headline scores go in :func:`headline`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sketch2color import atomic
from sketch2color.config import Params
from sketch2color.errors import DataError
from sketch2color.paths import ProjectPaths

DABS = (1, 10)
"""Points of the picture's hint curve shown (0 dabs is ``dE00``)."""
SQUARE_DABS = (0, 10)
SIGNIFICANT_DIGITS = 4
"""Each headline figure is rounded to this many significant digits: narrower columns in
``dvc exp show`` (eval.json keeps every digit)."""


def run(params: Params, paths: ProjectPaths) -> None:
    """Read the train, evaluate and export outputs and write ``metrics/headline.json``."""
    atomic.write_json(
        paths.headline_metrics,
        headline(read(paths.train_metrics), read(paths.eval_metrics), read(paths.export_metrics)),
    )


def read(path: Path) -> dict[str, Any]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: missing; run the stage that writes it (dvc repro)") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not readable JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(payload).__name__}")
    return payload


def headline(train: dict[str, Any], evaluation: dict[str, Any], export: dict[str, Any]) -> dict[str, Any]:
    """The headline scalars (see the module docstring), from the three stages' full outputs."""
    full = evaluation.get("full_resolution") or {}
    picture = full.get("line_faithful") or {}
    baselines = [
        _mean(scores, "fill_delta_e") for name, scores in full.items() if name.startswith("baseline_")
    ]
    rows = {row.get("hints"): row for row in (evaluation.get("hints") or {}).get("table", [])}
    default = export.get("default") or export.get("fastest")
    chosen = (export.get("formats") or {}).get(default) or {}
    values: dict[str, Any] = {
        "dE00": _mean(picture, "fill_delta_e"),
        "ssim": _mean(picture, "ssim"),
        "psnr": _mean(picture, "psnr"),
        "base_dE00": min((b for b in baselines if b is not None), default=None),
        "dabs": {str(n): rows.get(n, {}).get("picture_fill_delta_e") for n in DABS},
        "square": {str(n): rows.get(n, {}).get("fill_delta_e") for n in SQUARE_DABS},
        **_gapped(evaluation.get("hints") or {}, rows),
        "leak": max(
            (v for row in rows.values() for k, v in row.items() if k.endswith("_leak") and v is not None),
            default=None,
        ),
        "img_per_s": train.get("images_per_s"),
        "latency_ms": chosen.get("latency_ms_p50"),
    }
    return _rounded(_without_missing(values))


def _gapped(curve: dict[str, Any], rows: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    widths = curve.get("gap_widths_px_at_512") or []
    if not widths:
        return {}
    widest = max(widths)
    return {f"gap{widest}": {"10": rows.get(10, {}).get(f"gap{widest}_fill_delta_e")}}


def _rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: _rounded(value) if isinstance(value, dict) else float(f"{value:.{SIGNIFICANT_DIGITS}g}")
        for key, value in values.items()
    }


def _mean(scores: dict[str, Any], metric: str) -> float | None:
    value = (scores.get(metric) or {}).get("mean")
    return float(value) if isinstance(value, int | float) else None


def _without_missing(values: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _without_missing(value)
        if value is not None and value != {}:
            kept[key] = value
    return kept
