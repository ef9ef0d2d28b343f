"""A folder of layer PNGs with alpha (``--layers DIR``), for programs that open no layered format.

The files are numbered bottom first (``1-paper.png`` ... ``4-dabs.png``), so
a folder listing is the stacking order. PNG carries no blend mode, which is
why the line art's alpha comes from its darkness
(:mod:`sketch2color.layered.stack`): stacked as plain layers, the lines
still sit over the colour as in the picture.
"""

from __future__ import annotations

import re
from pathlib import Path

from sketch2color.atomic import write_bytes
from sketch2color.errors import Sketch2ColorError
from sketch2color.image_io import encode_rgba
from sketch2color.layered.stack import PaintLayer


def layer_file_name(position: int, layer: PaintLayer) -> str:
    """``3-line-art.png`` for the third layer from the bottom, named "Line art"."""
    slug = re.sub(r"[^a-z0-9]+", "-", layer.name.lower()).strip("-")
    return f"{position}-{slug}.png"


def write_layer_folder(stack: list[PaintLayer], folder: Path) -> list[Path]:
    """Write each layer of ``stack`` (bottom first) into ``folder``; the files written."""
    if folder.exists() and not folder.is_dir():
        raise Sketch2ColorError(f"--layers {folder}: is a file; layers go into a folder")
    written = []
    for position, layer in enumerate(stack, start=1):
        target = folder / layer_file_name(position, layer)
        write_bytes(target, encode_rgba(layer.rgba))
        written.append(target)
    return written
