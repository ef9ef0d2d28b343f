"""What a view shows: the visible part of a picture at the view's zoom, with the dabs drawn over it.

Only the visible pixels are cut out and scaled, to the view's size, so a
redraw costs the same on a 512 px sketch as on a 4000 px one. Dabs are
drawn at screen resolution ringed by a dark and then a light line, so a
pale dab (skin, on white paper) and a dark one (on a black line) both
show. Tk gets the pixels as a binary PPM, RGB as it is: no BGR, no extra
imaging toolkit.
"""

from __future__ import annotations

import tkinter as tk

import cv2
import numpy as np

from sketch2color.gui.viewport import Viewport
from sketch2color.pixels import hint_mask

BACKGROUND = (236, 236, 236)
OUTLINE_DARK = (40, 40, 40)
OUTLINE_LIGHT = (255, 255, 255)


def hex_color(color) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in color))


def photo_from_rgb(master: tk.Misc, rgb: np.ndarray) -> tk.PhotoImage:
    """A Tk image from RGB pixels via binary PPM."""
    height, width = rgb.shape[:2]
    header = f"P6 {width} {height} 255\n".encode()
    return tk.PhotoImage(
        master=master, data=header + np.ascontiguousarray(rgb, np.uint8).tobytes(), format="PPM"
    )


def _scaled(crop: np.ndarray, width: int, height: int, enlarging: bool) -> np.ndarray:
    # Enlarged, each picture pixel is a crisp square (to place a dab on it); shrunk, area averaging
    # keeps thin lines visible, as the project's own resize does.
    interpolation = cv2.INTER_NEAREST if enlarging else cv2.INTER_AREA
    return cv2.resize(np.ascontiguousarray(crop), (width, height), interpolation=interpolation)


def render_view(
    picture: np.ndarray, viewport: Viewport, width: int, height: int, hints: np.ndarray | None = None
) -> np.ndarray:
    """(height, width, 3) uint8: what a view of that size shows of ``picture`` (and its dabs)."""
    view = np.empty((height, width, 3), np.uint8)
    view[:] = BACKGROUND
    (left, top, right, bottom), (x, y) = viewport.visible(width, height)
    if right <= left or bottom <= top:
        return view
    out_width = max(1, round((right - left) * viewport.scale))
    out_height = max(1, round((bottom - top) * viewport.scale))
    enlarging = viewport.scale > 1.0
    shown = _scaled(picture[top:bottom, left:right], out_width, out_height, enlarging)
    if hints is not None:
        dabs = cv2.resize(
            np.ascontiguousarray(hints[top:bottom, left:right]),
            (out_width, out_height),
            interpolation=cv2.INTER_NEAREST,  # a dab keeps its colour, as the model sees it
        )
        shown = over_picture(shown, dabs)
    # Paste the part that falls inside the view (the region may start left of or above it).
    src_x, src_y = max(0, -x), max(0, -y)
    dst_x, dst_y = max(0, x), max(0, y)
    w = min(out_width - src_x, width - dst_x)
    h = min(out_height - src_y, height - dst_y)
    if w > 0 and h > 0:
        view[dst_y : dst_y + h, dst_x : dst_x + w] = shown[src_y : src_y + h, src_x : src_x + w]
    return view


def over_picture(picture: np.ndarray, hints: np.ndarray) -> np.ndarray:
    """``picture`` with its dabs (RGBA of the same size) painted over it, ringed outside by a dark
    and then a light line: the dab itself shows whole, however small it is on screen."""
    marked = hint_mask(hints)
    if not marked.any():
        return picture
    shown = picture.copy()
    shown[marked] = hints[..., :3][marked]
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    near = cv2.dilate(marked.view(np.uint8), cross).astype(bool)
    nearer = cv2.dilate(near.view(np.uint8), cross).astype(bool)
    shown[near & ~marked] = OUTLINE_DARK
    shown[nearer & ~near] = OUTLINE_LIGHT
    return shown
