"""Writing a coloured picture by its file name: a flat picture, or a layered file for a paint program.

The one place that decides what a name's extension can be, for ``colorize
-o`` and the GUI's "Save" alike: a name whose extension cannot be written is
an error that names the extension (``-o x.psd`` once made a folder called
``x.psd``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from sketch2color.data.images import IMAGE_SUFFIXES
from sketch2color.errors import Sketch2ColorError
from sketch2color.image_io import write_rgb
from sketch2color.inference.compose import Layers
from sketch2color.layered.openraster import write_openraster
from sketch2color.layered.psd import write_psd
from sketch2color.layered.stack import PaintLayer, paint_stack

PICTURE_SUFFIXES = IMAGE_SUFFIXES
"""Flat pictures: every format the project reads, OpenCV writes (a GIF as one frame)."""
LAYERED_WRITERS: dict[str, Callable[[list[PaintLayer], Path], None]] = {
    ".ora": write_openraster,
    ".psd": write_psd,
}
OUTPUT_SUFFIXES = frozenset(PICTURE_SUFFIXES | LAYERED_WRITERS.keys())


class OutputNameError(Sketch2ColorError):
    """A picture file name that cannot be written (no extension, or one the tool cannot write)."""


def writable_suffixes() -> str:
    return ", ".join(sorted(OUTPUT_SUFFIXES))


def check_output_name(path: Path) -> None:
    """Raise :class:`OutputNameError`, naming the extension, unless ``path`` names a writable file."""
    suffix = path.suffix.lower()
    if not suffix:
        raise OutputNameError(f"{path}: no file extension; name a picture file ({writable_suffixes()})")
    if suffix not in OUTPUT_SUFFIXES:
        raise OutputNameError(
            f"{path}: cannot write {suffix} files; write one of {writable_suffixes()} "
            "(.ora and .psd keep the layers)"
        )


def is_layered(path: Path) -> bool:
    return path.suffix.lower() in LAYERED_WRITERS


def write_result(target: Path, layers: Layers, picture: np.ndarray | None = None) -> None:
    """Write ``target`` by its extension: the layers of a layered file (.ora, .psd), else the flat
    ``picture`` (default: the layers' own picture)."""
    check_output_name(target)
    writer = LAYERED_WRITERS.get(target.suffix.lower())
    if writer is not None:
        writer(paint_stack(layers), target)
    else:
        write_rgb(layers.picture if picture is None else picture, target)
