"""Which exported format ``colorize`` and the GUI load: the first picture soonest, the picture unchanged.

A user's tool loads one model per run, so what a user waits for is the
runtime's start-up plus one picture, not the per-image latency a server pays
once per request. Measured on 2 Zen 4 cores for the hint model: the
SavedModel colours one image in 7.7 ms against 8.9 ms for TFLite, but one
``sketch2color colorize`` of a 256 px sketch took 6.9-8.0 s and 890 MB with it
(TensorFlow's start-up) against 0.42-0.45 s and 173 MB with TFLite on LiteRT,
which never imports TensorFlow. So each format's *time to the first picture*
is measured as a user meets it: a fresh ``sketch2color colorize`` process on
one sketch, start-up included (:func:`time_to_first_picture`).

The choice (:func:`choose_tool_format`) then weighs that time and the picture:
only formats whose squares differ from the Keras model's by at most
:data:`PICTURE_TOLERANCE` grey levels (rounding) are candidates, when any is;
the quickest of them wins, except that among those within
:data:`NEAR_FACTOR` of the quickest (a difference the next run could reverse)
the one whose picture is closest to Keras's is taken, so the choice does not
flip between float32 and float16 on timing noise. ``fastest`` (per-image
latency) is still recorded, for a server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sketch2color.export.parity import FormatReport

PICTURE_TOLERANCE = 1
"""Grey levels (of 255) a format's square may differ from the Keras model's: float rounding, no more."""
NEAR_FACTOR = 1.25
FIRST_PICTURE_TIMEOUT_S = 600.0


def time_to_first_picture(model: Path, sketch: np.ndarray) -> float | None:
    """Seconds for a fresh ``sketch2color colorize --model MODEL`` process to colour one sketch; None
    when it fails (that format is then not offered to the tools).

    Run in an empty folder, so that no project's params.yaml and no user's
    model setting changes what is measured (``--model`` is named).
    """
    from sketch2color.image_io import write_rgb

    with tempfile.TemporaryDirectory(prefix="sketch2color-first-picture-") as tmp:
        folder = Path(tmp)
        write_rgb(sketch, folder / "sketch.png")
        command = [sys.executable, "-m", "sketch2color.cli", "colorize", "sketch.png", "-o", "coloured.png"]
        started = time.perf_counter()
        try:
            done = subprocess.run(
                [*command, "--model", str(model.resolve())],
                cwd=folder,
                env=dict(os.environ),
                capture_output=True,
                timeout=FIRST_PICTURE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None
        seconds = time.perf_counter() - started
        if done.returncode != 0 or not (folder / "coloured.png").is_file():
            return None
    return seconds


def picture_matches(report: FormatReport) -> bool:
    """Whether the format's squares are Keras's to within rounding (with hints too, for a hint model)."""
    comparisons = [p for p in (report.parity, report.parity_with_hints) if p is not None]
    return all(p.max_abs_diff <= PICTURE_TOLERANCE for p in comparisons)


def choose_tool_format(
    reports: Mapping[str, FormatReport], first_picture_s: Mapping[str, float | None]
) -> str | None:
    """The format colorize and the GUI load, or None when no format agrees and runs."""
    usable = {
        name: report
        for name, report in reports.items()
        if report.agrees is not False and first_picture_s.get(name) is not None
    }
    exact = {name: report for name, report in usable.items() if picture_matches(report)}
    candidates = exact or usable
    if not candidates:
        return None
    seconds = {name: float(first_picture_s[name] or 0.0) for name in candidates}
    quickest = min(seconds.values())
    near = [name for name in candidates if seconds[name] <= quickest * NEAR_FACTOR]
    return min(near, key=lambda name: (candidates[name].parity.mean_abs_diff, seconds[name]))
