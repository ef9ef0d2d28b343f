"""How long a change of dabs takes to show: a full recolour, and the GUI's recolour after one more dab.

A sketch of hand-drawn-like line art (closed and open shapes, strokes with
gaps, grey pencil lines) at 512x512, 2048x2048 and 4000x3000, with 10 dabs:

* ``full_s``: one in-process ``colorize_image`` with the 10 dabs (the model,
  the regions, the spread colour, the fill, the lines), as colorize, the
  served model and evaluate colour a sketch;
* ``regions_s`` and ``fill_s``: its two fill pieces alone (the segmentation,
  then the dabs' colouring), so what the GUI keeps is visible;
* ``gui_dab_s``: the GUI worker's recolour after one more dab, with what its
  recolorer keeps between dabs (:class:`sketch2color.gui.worker.ModelRecolorer`):
  for a model without hints the fill alone, for a hint model the model and
  the spread colour too (both are measured), and the hint model's first look
  (the new dab over the colour the model gave before, shown while it runs).

Each figure is the median of a few runs after a first one that warms the
caches (``--quick``: one run, at 512 px only). The model is the default profile's generator shape with random
weights: its speed does not depend on what it learnt.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

SIZES = ((512, 512), (2048, 2048), (4000, 3000))
DABS = 10
RUNS = 5


def hand_drawn(width: int, height: int, seed: int = 3) -> np.ndarray:
    """Wobbly closed and open shapes in black and pencil grey, some strokes broken by gaps."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width), 255, np.uint8)
    scale = max(width, height) / 512
    thickness = max(1, round(2 * scale))
    for index in range(14):
        centre = rng.uniform((0.15 * width, 0.15 * height), (0.85 * width, 0.85 * height))
        radius = rng.uniform(0.05, 0.18) * min(width, height)
        angles = np.linspace(0, 2 * np.pi, 40)
        wobble = 1 + 0.08 * np.sin(angles * rng.integers(2, 5) + rng.uniform(0, 6))
        points = np.stack(
            [centre[0] + radius * wobble * np.cos(angles), centre[1] + radius * wobble * np.sin(angles)], 1
        )
        color = 0 if index % 3 else 150  # every third shape in grey pencil
        cv2.polylines(
            image, [np.rint(points).astype(np.int32)], index % 4 != 0, color, thickness, cv2.LINE_AA
        )
    for _ in range(20):  # gaps of up to 10 px at 512, scaled
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        gap = int(rng.integers(3, 11) * scale)
        image[y : y + gap, x : x + gap] = 255
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)


def ten_dabs(
    sketch: np.ndarray, count: int = DABS, seed: int = 5
) -> list[tuple[int, int, tuple[int, int, int]]]:
    rng = np.random.default_rng(seed)
    paper = np.argwhere(sketch.min(axis=-1) > 200)
    chosen = paper[rng.choice(len(paper), count, replace=False)]
    return [(int(x), int(y), tuple(int(c) for c in rng.integers(0, 256, 3))) for y, x in chosen]


def _median(run, runs: int = RUNS) -> float:
    run()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times), 3)


def recolour_section(quick: bool, report=print) -> dict:
    import keras

    from sketch2color.inference.backends import KerasBackend
    from sketch2color.model import build_generator

    sizes = SIZES[:1] if quick else SIZES
    runs = 1 if quick else RUNS
    results: dict = {"dabs": DABS, "runs": runs, "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-recolour-") as tmp:
        backends = {}
        for hints in (False, True):
            keras.utils.set_random_seed(0)
            path = Path(tmp) / f"generator-{'hints' if hints else 'plain'}.keras"
            build_generator(32 if quick else 64, 8 if quick else 32, "instance", hints=hints).save(path)
            backends[hints] = KerasBackend(path, "eval")
        for width, height in sizes:
            report(f"  recolour: {width}x{height}, {DABS} dabs ...")
            results["sizes"][f"{width}x{height}"] = _one_size(
                width, height, backends[False], backends[True], runs
            )
    return results


def _one_size(width: int, height: int, plain, with_hints, runs: int) -> dict:
    from sketch2color.gui.worker import ModelRecolorer
    from sketch2color.inference.colorizer import colorize_image
    from sketch2color.inference.compose import DEFAULT_FILL, spread_color
    from sketch2color.inference.fill import fill_dabs
    from sketch2color.inference.geometry import hints_at_working_size
    from sketch2color.inference.regions import find_regions
    from sketch2color.inference.user_hints import Dab, default_radius, empty_hints, paint_dab

    sketch = hand_drawn(width, height)
    hints = empty_hints(height, width)
    radius = default_radius(height, width)
    for x, y, color in ten_dabs(sketch):
        paint_dab(hints, Dab(x, y, color), radius)
    regions = find_regions(sketch)
    colour = np.full((64, 64, 3), 200, np.uint8)
    spread = spread_color(regions.sketch, colour)
    working = hints_at_working_size(hints, regions.labels.shape)
    row = {
        "full_s": _median(lambda: colorize_image(plain, sketch, hints=hints), runs),
        "full_hint_model_s": _median(lambda: colorize_image(with_hints, sketch, hints=hints), runs),
        "regions_s": _median(lambda: find_regions(sketch), runs),
        "spread_s": _median(lambda: spread_color(regions.sketch, colour), runs),
        "fill_s": _median(lambda: fill_dabs(regions, spread, working, DEFAULT_FILL.rule), runs),
    }
    for name, backend in (("gui_dab_s", plain), ("gui_dab_hint_model_s", with_hints)):
        recolorer = ModelRecolorer(backend, sketch)
        recolorer.recolor(hints, 0, None)  # the sketch opened and coloured once
        version = [0]
        extra = empty_hints(height, width)

        def one_more_dab(recolorer=recolorer, version=version, extra=extra) -> None:
            version[0] += 1
            x, y = (version[0] * 37) % width, (version[0] * 53) % height
            paint_dab(extra, Dab(x, y, (200, 40, 40)), radius)
            recolorer.recolor(np.where(extra[..., 3:] > 0, extra, hints), version[0], None)

        row[name] = _median(one_more_dab, runs)
    row["gui_first_look_hint_model_s"] = _first_look(with_hints, sketch, hints, radius, runs)
    return row


def _first_look(backend, sketch: np.ndarray, hints: np.ndarray, radius: int, runs: int) -> float:
    """A hint model's first look after one more dab: the dab over the colour the model gave before."""
    from sketch2color.gui.worker import ModelRecolorer
    from sketch2color.inference.user_hints import Dab, paint_dab

    recolorer = ModelRecolorer(backend, sketch)
    recolorer.recolor(hints, 0, None)
    height, width = sketch.shape[:2]
    times = []
    for version in range(1, runs + 2):
        extra = hints.copy()
        paint_dab(extra, Dab((version * 37) % width, (version * 53) % height, (200, 40, 40)), radius)
        started = time.perf_counter()
        recolorer.first_look(extra, version, None)
        times.append(time.perf_counter() - started)
        recolorer.recolor(extra, version, None)
    return round(statistics.median(times[1:]), 3)
