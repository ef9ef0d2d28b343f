"""``fetch.source: color_folder``: a folder of the user's own colour art, sketches drawn from it.

Each decodable image is cropped to its centre square at the Kaggle pairs'
512 px, and its sketch is drawn by line extraction (``fetch.sketch_method``:
XDoG or adaptive threshold); the pair is written in the Kaggle layout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sketch2color.config import Params, SafetyConfig, SketchMethod
from sketch2color.data.fetch.files import labeller, not_an_image_name, walk_files
from sketch2color.data.fetch.line_extraction import extract_sketch
from sketch2color.data.fetch.report import FetchReport
from sketch2color.data.images import BadImage, join_halves, load_rgb, resize_square
from sketch2color.errors import DataError
from sketch2color.image_io import write_rgb
from sketch2color.paths import ProjectPaths

COLOR_PAIR_HEIGHT = 512
"""Side of each half drawn from a colour image: the Kaggle pairs' 512."""
MIN_COLOR_SIDE = 16
"""Smaller images hold no drawable lines; a 1x1 'image' would only teach noise."""


def build(params: Params, paths: ProjectPaths, staging: Path) -> FetchReport:
    origin = params.fetch.source_path(paths.root)  # an existing folder, or a ConfigError
    assert origin is not None  # config: color_folder requires fetch.path
    report = FetchReport(source="color_folder", origin=str(origin))
    written = draw_pairs_from_color_folder(
        origin, staging / "train", params.fetch.safety, params.fetch.sketch_method, report
    )
    report.counts["train"] = written
    if written == 0:
        raise DataError(f"{origin}: no usable colour images{report.skipped_summary()}")
    return report


def draw_pairs_from_color_folder(
    folder: Path, target: Path, limits: SafetyConfig, method: SketchMethod, report: FetchReport
) -> int:
    """Write one Kaggle-format pair per decodable colour image; return how many."""
    written = 0
    used: set[str] = set()
    label = labeller(folder, folder)
    for path in walk_files(folder, label, report):
        item = label(path)
        reason = not_an_image_name(path)
        if reason is not None:
            report.skip(item, reason)
            continue
        color = _decode_color(path, limits.max_image_pixels)
        if isinstance(color, str):
            report.skip(item, color)
            continue
        height, width = color.shape[:2]
        if min(height, width) < MIN_COLOR_SIDE:
            report.skip(item, f"too small ({width}x{height}); needs at least {MIN_COLOR_SIDE} px a side")
            continue
        square, sketch = color_and_sketch(color, COLOR_PAIR_HEIGHT, method)
        destination = target / _unique_png_name(path.relative_to(folder), used)
        destination.parent.mkdir(parents=True, exist_ok=True)
        write_rgb(join_halves(square, sketch), destination)
        written += 1
    return written


def _decode_color(path: Path, max_pixels: int) -> np.ndarray | str:
    """The image as RGB (through the same decoder as split), or why it is unusable."""
    try:
        return load_rgb(path, max_pixels)
    except BadImage as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - hostile files make decoders raise anything
        return f"cannot decode ({type(exc).__name__}: {exc})"


def color_and_sketch(rgb: np.ndarray, side: int, method: SketchMethod) -> tuple[np.ndarray, np.ndarray]:
    """The centre square of ``rgb`` at ``side`` pixels, and its sketch at the same size.

    Cropping (not stretching) keeps the art's proportions. An image smaller
    than ``side`` gets its sketch drawn at its own size and then scaled up
    with it: upscaling first would blur every edge, and the lines drawn from
    blurred edges come out faint.
    """
    height, width = rgb.shape[:2]
    short = min(height, width)
    top, left = (height - short) // 2, (width - short) // 2
    crop = np.ascontiguousarray(rgb[top : top + short, left : left + short])
    if short >= side:
        square = resize_square(crop, side)
        return square, extract_sketch(square, method)
    small_sketch = extract_sketch(crop, method)
    return resize_square(crop, side), resize_square(small_sketch, side)


def _unique_png_name(relative: Path, used: set[str]) -> str:
    """``a/b.png`` keeps its name, ``a/b.jpg`` becomes ``a/b_jpg.png``: no two sources meet."""
    suffix = relative.suffix.lower()
    first = relative
    if suffix != ".png":
        first = relative.with_name(f"{relative.stem}_{suffix[1:]}.png")
    candidate, number = first, 1
    while candidate.as_posix().lower() in used:
        number += 1
        candidate = first.with_name(f"{first.stem}_{number}.png")
    used.add(candidate.as_posix().lower())
    return candidate.as_posix()
