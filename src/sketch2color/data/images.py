"""Decoding untrusted image files into clean RGB arrays, and the paper's Function 1.

Raw data comes from archives and folders we do not control, and sketches and
hint images come from users and HTTP requests, so every decode goes through
:func:`load_rgb` (or :func:`load_rgba`), which turns each way a file can be
bad (not an image, a refused format, truncated, a decompression bomb, too
small, an exotic mode) into a :class:`BadImage` with a short reason. The
split stage reports that reason and moves on: one bad file never stops a run.

Only the picture formats in :data:`PICTURE_FORMATS` are ever decoded, and
Pillow decodes each of them in-process. Pillow knows many more, and some it
hands to an external program: EPS and PS go to Ghostscript, which runs the
file's PostScript (it can write and read files). So the allow-list is given
to ``Image.open`` itself, and no other plugin ever sees the bytes.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageFile

PICTURE_FORMATS: dict[str, tuple[str, ...]] = {
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg"),
    "WEBP": (".webp",),
    "BMP": (".bmp",),
    "TIFF": (".tif", ".tiff"),
    "GIF": (".gif",),  # its first frame
}
"""The picture formats decoded (Pillow's names), with the file suffixes that name them.

Each is decoded by Pillow itself (libpng, libjpeg, libwebp, libtiff or pure
Python), never by an external program; everything else is refused by name."""
IMAGE_SUFFIXES = frozenset(suffix for suffixes in PICTURE_FORMATS.values() for suffix in suffixes)
MIN_HALF_SIDE = 8
PIXEL_LIMIT = "fetch.safety.max_image_pixels"
"""The setting a refused pixel count names, unless the caller has its own (the served model does)."""

# Truncated files must fail loudly, not decode into half-grey images.
ImageFile.LOAD_TRUNCATED_IMAGES = False


class BadImage(Exception):
    """A file that cannot be used; ``str()`` is the reason shown in reports."""


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def load_rgb(path: Path | BinaryIO, max_pixels: int, limit_name: str = PIXEL_LIMIT) -> np.ndarray:
    """Decode any supported file (a path, or bytes in a file object) into an HxWx3 uint8 RGB array.

    The pixel count is checked from the header before any pixel is decoded,
    so a tiny file that claims a huge canvas costs nothing. Transparency is
    composited onto white because sketches are dark lines on white paper.
    """
    return _decode(path, max_pixels, limit_name, _to_rgb_array)


def load_rgba(path: Path | BinaryIO, max_pixels: int, limit_name: str = PIXEL_LIMIT) -> np.ndarray:
    """Decode an image with an alpha channel into HxWx4 uint8 RGBA (a hint image: alpha marks the dabs).

    Checked and guarded as :func:`load_rgb`; an image without transparency is
    a :class:`BadImage`, since nothing in it says which pixels are hints.
    """
    return _decode(path, max_pixels, limit_name, _to_rgba_array)


def read_sketch(path: Path, max_pixels: int) -> np.ndarray:
    """A user's sketch file in RGB, as ``colorize`` and the GUI read it: :func:`load_rgb`, with an
    empty or unreadable file named as such instead of as an unknown format."""
    try:
        if path.stat().st_size == 0:
            raise BadImage("empty file (0 bytes)")
    except OSError as exc:
        raise BadImage(f"cannot read: {exc.strerror or exc}") from None
    return load_rgb(path, max_pixels)


def picture_size(path: Path | BinaryIO, max_pixels: int, limit_name: str = PIXEL_LIMIT) -> tuple[int, int]:
    """(width, height) from the header alone, refused as :func:`load_rgb` would refuse the file.

    No pixel is decoded, so a caller can add up what several pictures will
    cost before it decodes any of them (the served model does, per request).
    """
    return _decode(path, max_pixels, limit_name, lambda image: image.size, load=False)


def _decode(path: Path | BinaryIO, max_pixels: int, limit_name: str, convert, load: bool = True):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=tuple(PICTURE_FORMATS)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise BadImage(
                        f"image of {width}x{height} pixels exceeds the limit of {max_pixels} "
                        f"({limit_name}): possible decompression bomb"
                    )
                if load:
                    image.load()
                return convert(image)
    except BadImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own limit fired while reading the header, before ours could: say which
        # knob governs the project's limit, so a user with genuinely huge art knows where to look.
        raise BadImage(
            f"decompression bomb refused ({limit_name}={max_pixels}, and Pillow's own limit): {exc}"
        ) from None
    except Image.UnidentifiedImageError:
        raise BadImage(_refusal(path)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadImage(f"unreadable or truncated image: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - Pillow plugins also raise EOFError, struct.error,
        # IndexError... on hostile input; every caller wants "skip this file", never a crash.
        raise BadImage(f"unreadable image ({type(exc).__name__}: {exc})") from None


def _refusal(path: Path | BinaryIO) -> str:
    """Why a file that no allowed format recognises is refused, naming its format when Pillow knows it.

    Only each plugin's signature test is asked (a look at the first bytes); no
    plugin parses the file, so naming EPS costs nothing and runs nothing.
    """
    allowed = ", ".join(PICTURE_FORMATS)
    try:
        if isinstance(path, Path):
            with path.open("rb") as file:
                prefix = file.read(_SIGNATURE_BYTES)
        else:
            path.seek(0)
            prefix = path.read(_SIGNATURE_BYTES)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    Image.init()
    for name, (_, accept) in Image.OPEN.items():
        try:
            recognised = accept is not None and bool(accept(prefix))
        except Exception:  # noqa: BLE001 - a signature test that fails on odd bytes just says "not mine"
            recognised = False
        if recognised and name not in PICTURE_FORMATS:
            return f"{_FORMAT_NAMES.get(name, name)} is not an allowed picture format (allowed: {allowed})"
    if prefix.startswith(b"%PDF"):  # Pillow writes PDF but has no reader, so no signature test names it
        return f"PDF is not an allowed picture format (allowed: {allowed})"
    return f"not a readable image (unknown or corrupt format; allowed: {allowed})"


_FORMAT_NAMES = {"EPS": "PostScript (EPS or PS)"}
"""Pillow's one plugin reads both; a user sending a .ps should recognise the name."""
_SIGNATURE_BYTES = 16
"""Pillow's own Image.open hands each plugin's signature test the first 16 bytes."""


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("P", "PA"):
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        return _high_depth_grey_to_rgb(np.asarray(image), image.mode)
    return np.asarray(image.convert("RGB"))


def _to_rgba_array(image: Image.Image) -> np.ndarray:
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not has_alpha:
        raise BadImage(f"has no alpha channel (mode {image.mode}): hints are the non-transparent pixels")
    return np.asarray(image.convert("RGBA"))


def _high_depth_grey_to_rgb(array: np.ndarray, mode: str) -> np.ndarray:
    """Scale 16-bit (and 32-bit integer or float) greyscale to 8 bits by the format's range."""
    values = array.astype(np.float64)
    if mode.startswith("I;16") or (mode == "I" and values.max(initial=0) > 255):
        values = values / 257.0
    grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def split_halves(pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper's Function 1: the colour image is the left half, the sketch the right.

    Any width is split at half its width (not at 512), so pairs of other
    sizes work too; an odd width gives the sketch the extra column.
    """
    height, width = pair.shape[:2]
    half = width // 2
    if half < MIN_HALF_SIDE or height < MIN_HALF_SIDE:
        raise BadImage(
            f"too small to split: {width}x{height}; each half must be at least "
            f"{MIN_HALF_SIDE}x{MIN_HALF_SIDE}"
        )
    return pair[:, :half], pair[:, half:]


def join_halves(color: np.ndarray, sketch: np.ndarray) -> np.ndarray:
    """The Kaggle pair layout that :func:`split_halves` reads: colour left, sketch right."""
    if color.shape != sketch.shape:
        raise ValueError(f"the halves of a pair must match, got {color.shape} and {sketch.shape}")
    return np.concatenate([color, sketch], axis=1)


def resize_rgb(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize to height x width: area averaging when shrinking, cubic when enlarging.

    The one resize of the package (pipeline, ``colorize``, GUI display), so a
    sketch is scaled the same way wherever it goes. Nearest-neighbour would
    drop one-pixel strokes entirely when 512 becomes 64; area interpolation
    keeps them as lighter, still visible lines. Enlarging along either side
    counts as enlarging: area interpolation has nothing to average there.
    """
    if image.shape[:2] == (height, width):
        return np.ascontiguousarray(image)
    shrinking = height <= image.shape[0] and width <= image.shape[1]
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(np.ascontiguousarray(image), (width, height), interpolation=interpolation)


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """Resize to size x size (the model's input), with :func:`resize_rgb`'s interpolation."""
    return resize_rgb(image, size, size)


def load_pair(path: Path, image_size: int, max_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """Decode a Kaggle-format pair file into (sketch, colour) at image_size, both RGB uint8."""
    color, sketch = split_halves(load_rgb(path, max_pixels))
    return resize_square(sketch, image_size), resize_square(color, image_size)
