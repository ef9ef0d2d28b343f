"""Photoshop (``.psd``) through psd-tools: the layered format every paint program reads.

psd-tools was chosen by trying it against the alternative: it writes pixel
layers with their names, blend modes, visibility and transparency, composites the merged
image a PSD carries for viewers that read no layers, and reads the file
back (the tests do), and it is maintained; pytoshop, the other writer on
the package index, has had no release since 2018. It is imported only when
a PSD is written.
"""

from __future__ import annotations

import io
from pathlib import Path

from sketch2color.atomic import write_bytes
from sketch2color.errors import Sketch2ColorError
from sketch2color.layered.stack import PAPER_WHITE, PaintLayer

MAX_SIDE = 30_000
"""The PSD format's largest side (the PSB variant goes further, but fewer programs read it)."""


def encode_psd(stack: list[PaintLayer]) -> bytes:
    """The whole ``.psd`` file for a stack (bottom layer first)."""
    from psd_tools import PSDImage
    from psd_tools.api.layers import PixelLayer
    from psd_tools.constants import BlendMode, Compression

    height, width = stack[0].rgba.shape[:2]
    if max(height, width) > MAX_SIDE:
        raise Sketch2ColorError(
            f"a PSD holds at most {MAX_SIDE} px per side, and this picture is {width}x{height}; "
            "write .ora (OpenRaster) or --layers DIR instead"
        )
    modes = {"normal": BlendMode.NORMAL, "multiply": BlendMode.MULTIPLY}
    # RLE for the merged image too: raw, it is 36 MB of a 40 MB file at 4000x3000.
    document = PSDImage.new("RGB", (width, height), color=(PAPER_WHITE,) * 3, compression=Compression.RLE)
    for layer in stack:  # each joins the document on top of the ones before
        # From the array, alpha is the layer's own transparency, as Photoshop stores it;
        # from a PIL image into an RGB document psd-tools would make it a layer mask.
        pixel_layer = PixelLayer.fromarray(layer.rgba, document, layer.name)
        pixel_layer.blend_mode = modes[layer.blend]
        pixel_layer.visible = layer.visible
    buffer = io.BytesIO()
    document.save(buffer)  # psd-tools composites the merged image here
    return buffer.getvalue()


def write_psd(stack: list[PaintLayer], target: Path) -> None:
    """Write the stack as ``target`` (.psd), atomically."""
    write_bytes(target, encode_psd(stack))
