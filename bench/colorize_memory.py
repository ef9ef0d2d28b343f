"""Peak memory of ``sketch2color colorize``: a small and a ten-times larger folder, and one big sketch.

colorize streams a folder through a fixed window of files, so its peak
memory must not grow with the number of files: the figure to read is the
difference between the two runs (a few MiB of noise, not ten times more).
The line-faithful output works at the sketch's own resolution, so one
4000x3000 sketch is coloured too, beside a 512x512 one: the difference in
seconds and peak memory is what the size costs (the colour is spread at
most :data:`sketch2color.inference.compose.WORKING_SIDE` pixels wide, so
both stay bounded).
``--quick`` runs the two at the same time (their peaks are per process).
The model is the default profile's generator (64 px, ngf 32, instance norm)
saved as ``.keras``; the sketches are 384x256 line drawings, so every file
is fitted into the square and cut back out as in real use.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from bench.processes import run_child
from bench.project import child_env
from sketch2color.paths import ProjectPaths

SKETCH_HEIGHT, SKETCH_WIDTH = 256, 384
TIMEOUT_S = 1200


def _write_sketches(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        image = np.full((SKETCH_HEIGHT, SKETCH_WIDTH), 255, np.uint8)
        for _ in range(8):
            start = tuple(int(v) for v in rng.integers(0, SKETCH_WIDTH, 2))
            end = tuple(int(v) for v in rng.integers(0, SKETCH_WIDTH, 2))
            cv2.line(image, start, end, 0, 2)
        cv2.imwrite(str(folder / f"sketch-{index:05d}.png"), image)


def _save_generator(path: Path, size: int, ngf: int) -> None:
    import keras

    from sketch2color.model import build_generator

    keras.utils.set_random_seed(0)
    build_generator(size, ngf, "instance").save(path)


def _colorize_folder(folder: Path, model: Path, count: int) -> dict:
    """``sketch2color colorize sketches-<count> -o coloured-<count>`` as its own process."""
    run = run_child(
        [
            sys.executable,
            "-m",
            "sketch2color.cli",
            "colorize",
            str(folder / f"sketches-{count}"),
            "-o",
            str(folder / f"coloured-{count}"),
            "--model",
            str(model),
        ],
        folder,
        child_env(folder),
        TIMEOUT_S,
    ).check(f"colorize over {count} sketches")
    written = len(list((folder / f"coloured-{count}").glob("*.png")))
    return {
        "files": count,
        "written": written,
        "wall_s": round(run.wall_s, 2),
        "images_per_s": round(count / run.wall_s, 1),
        "peak_rss_mib": round(run.peak_rss_mib, 1),
    }


BIG_SKETCHES = ((512, 512), (4000, 3000))


def _write_one_sketch(path: Path, width: int, height: int) -> None:
    """Line art at any size: white paper, a frame and a few thick strokes."""
    image = np.full((height, width), 255, np.uint8)
    thickness = max(2, width // 400)
    rng = np.random.default_rng(1)
    cv2.rectangle(
        image, (width // 20, height // 20), (width - width // 20, height - height // 20), 0, thickness
    )
    for _ in range(12):
        start = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.line(image, start, end, 0, thickness)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)


def _colorize_one(folder: Path, model: Path, width: int, height: int) -> dict:
    sketch = folder / "big" / f"sketch-{width}x{height}.png"
    _write_one_sketch(sketch, width, height)
    target = folder / "big" / f"coloured-{width}x{height}.png"
    run = run_child(
        [
            sys.executable,
            "-m",
            "sketch2color.cli",
            "colorize",
            str(sketch),
            "-o",
            str(target),
            "--model",
            str(model),
        ],
        folder,
        child_env(folder),
        TIMEOUT_S,
    ).check(f"colorize of one {width}x{height} sketch")
    shape = cv2.imread(str(target)).shape[:2]
    return {
        "size": f"{width}x{height}",
        "written": list(shape) == [height, width],
        "wall_s": round(run.wall_s, 2),
        "peak_rss_mib": round(run.peak_rss_mib, 1),
    }


def colorize_section(quick: bool, report=print) -> dict:
    small, large = (5, 50) if quick else (50, 500)
    size, ngf = (32, 8) if quick else (64, 32)
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-colorize-") as tmp:
        folder = Path(tmp)
        model = folder / ProjectPaths.GENERATOR
        _save_generator(model, size, ngf)
        _write_sketches(folder / f"sketches-{large}", large)
        subset = folder / f"sketches-{small}"
        subset.mkdir()
        for path in sorted((folder / f"sketches-{large}").iterdir())[:small]:
            shutil.copy2(path, subset / path.name)
        report(f"  colorize: {small} and {large} sketches ...")
        if quick:  # both at once: peak memory is per process, and the smoke test stays short
            with ThreadPoolExecutor(2) as pool:
                done = pool.map(lambda count: _colorize_folder(folder, model, count), (small, large))
                runs = dict(zip((str(small), str(large)), done, strict=True))
        else:
            runs = {str(count): _colorize_folder(folder, model, count) for count in (small, large)}
        report("  colorize: one 512x512 and one 4000x3000 sketch, line-faithful ...")
        big = [_colorize_one(folder, model, width, height) for width, height in BIG_SKETCHES]
    growth = runs[str(large)]["peak_rss_mib"] - runs[str(small)]["peak_rss_mib"]
    return {
        "image_size": size,
        "ngf": ngf,
        "sketch_size": f"{SKETCH_WIDTH}x{SKETCH_HEIGHT}",
        "runs": runs,
        "peak_rss_growth_mib": round(growth, 1),
        "one_sketch": big,
        "big_sketch_extra_s": round(big[1]["wall_s"] - big[0]["wall_s"], 2),
        "big_sketch_extra_rss_mib": round(big[1]["peak_rss_mib"] - big[0]["peak_rss_mib"], 1),
    }
