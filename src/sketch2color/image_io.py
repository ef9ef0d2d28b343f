"""Writing RGB images to disk, one way for every stage and tool.

Everything in the package holds images as RGB uint8; OpenCV encodes BGR. This
is the one place that converts, so a preview, a sample grid and a coloured
sketch can never disagree about channel order, and every file is written
atomically (a plot reader or DVC never sees half a PNG).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from sketch2color.atomic import write_bytes


def encode_rgb(image: np.ndarray, suffix: str = ".png") -> bytes:
    """Encode an RGB (or greyscale) uint8 image in the format ``suffix`` names."""
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buffer = cv2.imencode(suffix or ".png", pixels)
    if not ok:
        raise OSError(f"OpenCV cannot encode a {image.shape} image as {suffix or '.png'}")
    return buffer.tobytes()


def encode_rgba(image: np.ndarray) -> bytes:
    """Encode an RGBA uint8 image as PNG (hint images: alpha marks the hints)."""
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise OSError(f"OpenCV cannot encode a {image.shape} image as .png")
    return buffer.tobytes()


def decode_rgb(data: bytes) -> np.ndarray:
    """Decode PNG or JPEG bytes into an RGB uint8 image (trusted data: our own renders)."""
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if pixels is None:
        raise ValueError("OpenCV cannot decode these bytes as an image")
    return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)


def write_rgb(image: np.ndarray, target: str | Path) -> None:
    """Encode by the target's suffix and write atomically."""
    target = Path(target)
    write_bytes(target, encode_rgb(image, target.suffix.lower()))
