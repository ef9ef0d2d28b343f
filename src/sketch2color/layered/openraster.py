"""OpenRaster (``.ora``): the open layered format that Krita, GIMP and MyPaint read and write.

An OpenRaster file is a zip: ``mimetype`` first and stored uncompressed (so
the type can be read at a fixed offset), ``stack.xml`` naming the layers top
first, one PNG per layer, ``mergedimage.png`` (the picture as the stack shows
it, for viewers that read no layers) and ``Thumbnails/thumbnail.png`` (at
most 256 px). The standard library's zip and XML writers and the project's
PNG encoder are all it takes; no maintained Python package writes it.

Layer PNGs are stored, not deflated again: PNG is already compressed.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from sketch2color.atomic import write_bytes
from sketch2color.data.images import resize_rgb
from sketch2color.image_io import encode_rgb, encode_rgba
from sketch2color.layered.stack import PaintLayer, composite

MIMETYPE = "image/openraster"
VERSION = "0.0.6"
THUMBNAIL_SIDE = 256
COMPOSITE_OPS = {"normal": "svg:src-over", "multiply": "svg:multiply"}


def stack_xml(stack: list[PaintLayer], sources: list[str]) -> bytes:
    """``stack.xml`` for ``stack`` (bottom first), its PNGs at ``sources``; OpenRaster lists top first."""
    height, width = stack[0].rgba.shape[:2]
    image = ElementTree.Element("image", {"version": VERSION, "w": str(width), "h": str(height)})
    group = ElementTree.SubElement(image, "stack")
    for layer, source in reversed(list(zip(stack, sources, strict=True))):
        ElementTree.SubElement(
            group,
            "layer",
            {
                "name": layer.name,
                "src": source,
                "x": "0",
                "y": "0",
                "opacity": "1.0",
                "visibility": "visible" if layer.visible else "hidden",
                "composite-op": COMPOSITE_OPS[layer.blend],
            },
        )
    return ElementTree.tostring(image, encoding="UTF-8", xml_declaration=True)


def thumbnail(picture: np.ndarray, side: int = THUMBNAIL_SIDE) -> np.ndarray:
    """The picture scaled to fit ``side`` x ``side`` (never enlarged)."""
    height, width = picture.shape[:2]
    scale = min(1.0, side / max(height, width))
    return resize_rgb(picture, max(1, round(height * scale)), max(1, round(width * scale)))


def encode_openraster(stack: list[PaintLayer]) -> bytes:
    """The whole ``.ora`` file for a stack (bottom layer first)."""
    merged = composite(stack)
    sources = [f"data/layer{index}.png" for index in range(len(stack))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("mimetype", MIMETYPE)  # first and uncompressed, as the format requires
        archive.writestr("stack.xml", stack_xml(stack, sources), compress_type=zipfile.ZIP_DEFLATED)
        for layer, source in zip(stack, sources, strict=True):
            archive.writestr(source, encode_rgba(layer.rgba))
        archive.writestr("mergedimage.png", encode_rgb(merged, ".png"))
        archive.writestr("Thumbnails/thumbnail.png", encode_rgb(thumbnail(merged), ".png"))
    return buffer.getvalue()


def write_openraster(stack: list[PaintLayer], target: Path) -> None:
    """Write the stack as ``target`` (.ora), atomically: a reader never sees half a zip."""
    write_bytes(target, encode_openraster(stack))
