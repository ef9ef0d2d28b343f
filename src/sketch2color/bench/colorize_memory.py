"""Peak memory of ``sketch2color colorize`` over a small and a ten-times larger folder.

colorize streams a folder through a fixed window of files, so its peak
memory must not grow with the number of files: the figure to read is the
difference between the two runs (a few MiB of noise, not ten times more).
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

from sketch2color.bench.processes import run_child
from sketch2color.bench.project import child_env
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
    growth = runs[str(large)]["peak_rss_mib"] - runs[str(small)]["peak_rss_mib"]
    return {
        "image_size": size,
        "ngf": ngf,
        "sketch_size": f"{SKETCH_WIDTH}x{SKETCH_HEIGHT}",
        "runs": runs,
        "peak_rss_growth_mib": round(growth, 1),
    }
