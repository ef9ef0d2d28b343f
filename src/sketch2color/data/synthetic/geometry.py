"""Point lists and boxes in unit coordinates (fractions of the square half).

Scenes are planned and drawn in these size-free coordinates, so one seed and
index give the same scene at every pixel size; only the painter scales them.
"""

from __future__ import annotations

import math

import numpy as np

# (left, top, right, bottom) in unit coordinates; y grows downwards.
Box = tuple[float, float, float, float]


def ellipse(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    angle: float = 0.0,
    start: float = 0.0,
    end: float = 2 * math.pi,
    points: int = 48,
) -> np.ndarray:
    """Points on an ellipse (or an arc of it), rotated by ``angle`` radians."""
    closed = math.isclose(end - start, 2 * math.pi)
    t = np.linspace(start, end, points, endpoint=not closed)
    x, y = rx * np.cos(t), ry * np.sin(t)
    ca, sa = math.cos(angle), math.sin(angle)
    return np.stack([cx + x * ca - y * sa, cy + x * sa + y * ca], axis=1)


def circle(cx: float, cy: float, r: float, points: int = 48) -> np.ndarray:
    return ellipse(cx, cy, r, r, points=points)


def rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=np.float64)


def segment(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([(x0, y0), (x1, y1)], dtype=np.float64)


def upright(cx: float, half_width: float, top: float, bottom: float) -> Box:
    """The box centred on ``cx`` from ``top`` down to ``bottom``: the footprint of
    anything standing on the ground, and the shape of trunks, stems and doors."""
    return (cx - half_width, top, cx + half_width, bottom)


def centred(cx: float, cy: float, half_width: float, half_height: float) -> Box:
    """The box centred on (``cx``, ``cy``): the footprint of suns, stars, ponds, fish, pebbles."""
    return (cx - half_width, cy - half_height, cx + half_width, cy + half_height)
