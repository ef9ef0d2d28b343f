"""The embedded default dataset: procedural cartoon scenes in the Kaggle pair format.

Why procedural: a new user with no data still gets a real run of every stage,
and a short CPU training visibly learns something. That only works if the
colour follows from the lines, so every colour here is decided by something
the sketch shows:

=============  =====================================  ==========================
region / kind  visible cue in the sketch              colour
=============  =====================================  ==========================
sky            above the drawn horizon line           blue, deeper towards the top
grass          below the horizon line                 green, darker towards the front
soil           below a second wavy line               brown (with outlined pebbles)
sun            straight line rays                     yellow
sun            triangular rays                        orange
star           five-pointed outline                   gold
cloud          puffy outline, no rain                 white
cloud          puffy outline with rain streaks        grey
mountain       peak on the horizon, zigzag snow line  lavender, white snow cap
house          horizontal brick courses               brick red, slate roof
house          vertical planks                        wood brown, red roof
house          plain wall, round gable window         cream, blue roof
pine tree      two wide tiers                         dark green
pine tree      three narrow tiers                     yellow-green
round tree     apples drawn on the canopy             green canopy, red apples
round tree     curls drawn on the canopy              autumn orange
flower         round petals                           pink
flower         long pointed petals                    purple
pond           ellipse with wave marks                water blue
fish           two stripes across the body            orange
fish           plain body with a fin line             red
=============  =====================================  ==========================

Fills carry a mild top-to-bottom shading; birds and grass tufts are lines that
change no colour, so the model also learns that not every line means a fill.

The scene is planned in unit coordinates (fractions of the square half) by
:func:`plan_scene` and drawn by :func:`render_scene`, so one seed and index give
the same scene at every size. The sketch strokes are drawn identically on both
halves (dark outlines on top of the fills, as in anime colour art), so each
sketch line lies pixel-exactly on a colour edge. Every pair draws its own
random generator from ``(seed, index)``: pairs can be made in any order, by any
number of processes, and the bytes written never depend on the worker count.
"""

from __future__ import annotations

import math
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Optional, Sequence, Union

import cv2
import numpy as np

from sketch2color.atomic import write_bytes
from sketch2color.config import SyntheticConfig

RGB = tuple[int, int, int]
Box = tuple[float, float, float, float]

# Fixed so that the same pixels always give the same file bytes.
PNG_COMPRESSION = 3

# Stroke widths are given at this size of the square half and scaled from it.
REFERENCE_SIZE = 512

# cv2 drawing takes fixed-point coordinates; 4 fractional bits keep thin
# antialiased strokes smooth at every size.
_SHIFT = 4
_ONE = 1 << _SHIFT

PALETTE: dict[str, RGB] = {
    "sky_top": (62, 126, 218),
    "sky_horizon": (168, 214, 246),
    "grass_far": (128, 200, 88),
    "grass_near": (62, 150, 58),
    "soil": (150, 102, 58),
    "pebble": (170, 164, 152),
    "sun_straight_rays": (255, 214, 40),
    "sun_triangle_rays": (255, 138, 28),
    "star": (240, 186, 30),
    "cloud": (252, 252, 255),
    "rain_cloud": (160, 168, 184),
    "mountain": (134, 122, 172),
    "snow": (246, 248, 255),
    "house_brick": (186, 68, 50),
    "roof_brick": (92, 94, 112),
    "house_wood": (168, 112, 60),
    "roof_wood": (198, 46, 44),
    "house_plain": (246, 226, 168),
    "roof_plain": (58, 98, 178),
    "window": (176, 222, 246),
    "door": (108, 64, 34),
    "trunk": (122, 78, 42),
    "pine_two_tiers": (28, 104, 56),
    "pine_three_tiers": (150, 196, 48),
    "canopy_apples": (56, 150, 70),
    "apple": (228, 40, 40),
    "canopy_autumn": (236, 146, 44),
    "stem": (64, 146, 58),
    "petals_round": (246, 112, 172),
    "petals_long": (150, 92, 216),
    "flower_centre": (252, 206, 50),
    "water": (72, 150, 224),
    "fish_striped": (252, 132, 28),
    "fish_plain": (214, 44, 72),
}


# ---------------------------------------------------------------- geometry


def _ellipse(cx: float, cy: float, rx: float, ry: float, angle: float = 0.0,
             start: float = 0.0, end: float = 2 * math.pi, points: int = 48) -> np.ndarray:
    """Points on an ellipse (or an arc of it), rotated by ``angle`` radians."""
    closed = math.isclose(end - start, 2 * math.pi)
    t = np.linspace(start, end, points, endpoint=not closed)
    x, y = rx * np.cos(t), ry * np.sin(t)
    ca, sa = math.cos(angle), math.sin(angle)
    return np.stack([cx + x * ca - y * sa, cy + x * sa + y * ca], axis=1)


def _circle(cx: float, cy: float, r: float, points: int = 48) -> np.ndarray:
    return _ellipse(cx, cy, r, r, points=points)


def _rect(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=np.float64)


def _segment(x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    return np.array([(x0, y0), (x1, y1)], dtype=np.float64)


# ---------------------------------------------------------------- painter


class _Painter:
    """Draws every fill and stroke on both halves at once, which keeps them aligned.

    A fill paints its colour on the colour half and white on the sketch half
    (so an object in front hides the lines behind it); a stroke paints the same
    dark ink on both.
    """

    def __init__(self, size: int, ink: int) -> None:
        self.size = size
        self.ink = ink
        self.colour = np.zeros((size, size, 3), np.uint8)
        self.sketch = np.full((size, size), 255, np.uint8)

    def _fixed(self, points: np.ndarray) -> np.ndarray:
        return np.round(np.asarray(points, np.float64) * (self.size * _ONE)).astype(np.int32)

    def thickness(self, width_at_reference: float) -> int:
        return max(1, int(round(width_at_reference * self.size / REFERENCE_SIZE)))

    def fill(self, polygons: Sequence[np.ndarray], rgb: RGB, shade: float = 0.1) -> None:
        """Fill the union of polygons, lighter at its top and darker at its bottom."""
        fixed = [self._fixed(poly) for poly in polygons]
        stacked = np.concatenate(fixed)
        top, bottom = stacked[:, 1].min() / _ONE, stacked[:, 1].max() / _ONE
        x0 = max(0, int(stacked[:, 0].min() // _ONE) - 1)
        y0 = max(0, int(top) - 1)
        x1 = min(self.size, int(stacked[:, 0].max() // _ONE) + 2)
        y1 = min(self.size, int(bottom) + 2)
        if x1 <= x0 or y1 <= y0:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        offset = np.array([x0 * _ONE, y0 * _ONE], np.int32)
        for poly in fixed:  # one call each: overlapping polygons must not cancel out
            cv2.fillPoly(mask, [poly - offset], 255, cv2.LINE_AA, _SHIFT)
        alpha = mask.astype(np.float32) * np.float32(1 / 255)
        rows = np.arange(y0, y1, dtype=np.float32)
        t = np.clip((rows - top) / max(bottom - top, 1.0), 0.0, 1.0)
        factor = (1.0 + shade) - 2.0 * shade * t
        shaded = np.clip(np.asarray(rgb, np.float32)[None, :] * factor[:, None], 0, 255)
        region = self.colour[y0:y1, x0:x1].astype(np.float32)
        region += alpha[..., None] * (shaded[:, None, :] - region)
        self.colour[y0:y1, x0:x1] = (region + 0.5).astype(np.uint8)
        paper = self.sketch[y0:y1, x0:x1].astype(np.float32)
        paper += alpha * (255.0 - paper)
        self.sketch[y0:y1, x0:x1] = (paper + 0.5).astype(np.uint8)

    def stroke(self, lines: Sequence[np.ndarray], width: float, closed: bool = False) -> None:
        fixed = [self._fixed(line) for line in lines]
        thickness = self.thickness(width)
        ink = self.ink
        cv2.polylines(self.colour, fixed, closed, (ink, ink, ink), thickness, cv2.LINE_AA, _SHIFT)
        cv2.polylines(self.sketch, fixed, closed, ink, thickness, cv2.LINE_AA, _SHIFT)

    def outlined(self, polygons: Sequence[np.ndarray], rgb: RGB, width: float,
                 shade: float = 0.1) -> None:
        """Each polygon filled and outlined, in order (later ones in front)."""
        for poly in polygons:
            self.fill([poly], rgb, shade)
            self.stroke([poly], width, closed=True)

    def outlined_union(self, polygons: Sequence[np.ndarray], rgb: RGB, width: float) -> None:
        """One outline around a union (clouds, canopies): stroke all, then fill over the
        inner halves of the strokes, so only the outer contour stays."""
        self.stroke(polygons, 2 * width, closed=True)
        self.fill(polygons, rgb)

    def ink_fill(self, polygons: Sequence[np.ndarray]) -> None:
        """Solid ink shapes such as eyes and door knobs, the same on both halves."""
        fixed = [self._fixed(poly) for poly in polygons]
        ink = self.ink
        for poly in fixed:
            cv2.fillPoly(self.colour, [poly], (ink, ink, ink), cv2.LINE_AA, _SHIFT)
            cv2.fillPoly(self.sketch, [poly], ink, cv2.LINE_AA, _SHIFT)


# ---------------------------------------------------------------- scene parts


@dataclass(frozen=True)
class Background:
    """Sky above a wavy horizon, grass below it, optionally a soil band at the front."""

    horizon: float
    amplitude: float
    frequency: float
    phase: float
    soil: Optional[float] = None
    soil_amplitude: float = 0.0
    soil_phase: float = 0.0

    def horizon_at(self, x: np.ndarray) -> np.ndarray:
        return self.horizon + self.amplitude * np.sin(2 * np.pi * self.frequency * x + self.phase)

    def soil_at(self, x: np.ndarray) -> np.ndarray:
        assert self.soil is not None
        return self.soil + self.soil_amplitude * np.sin(2 * np.pi * 1.3 * x + self.soil_phase)

    def paint(self, p: _Painter) -> None:
        """Gradients run by row from the mean horizon, so a pixel's colour follows its
        height and the side of the drawn lines it lies on."""
        coords = np.arange(p.size, dtype=np.float32) / p.size
        rows = coords[:, None]
        p.colour[:] = _lerp(PALETTE["sky_top"], PALETTE["sky_horizon"],
                            np.clip(rows / self.horizon, 0, 1))[:, None, :]
        ground = _lerp(PALETTE["grass_far"], PALETTE["grass_near"],
                       np.clip((rows - self.horizon) / (1.0 - self.horizon), 0, 1))
        _paint_below(p.colour, coords, self.horizon_at(coords).astype(np.float32), ground)
        if self.soil is not None:
            dark_soil = tuple(int(c * 0.8) for c in PALETTE["soil"])
            soil = _lerp(PALETTE["soil"], dark_soil, np.clip((rows - self.soil) / 0.12, 0, 1))
            _paint_below(p.colour, coords, self.soil_at(coords).astype(np.float32), soil)

    def stroke_lines(self, p: _Painter, width: float) -> None:
        xs = np.linspace(-0.02, 1.02, 105)
        p.stroke([np.stack([xs, self.horizon_at(xs)], axis=1)], width)
        if self.soil is not None:
            p.stroke([np.stack([xs, self.soil_at(xs)], axis=1)], width)


def _paint_below(image: np.ndarray, coords: np.ndarray, line: np.ndarray,
                 row_colours: np.ndarray) -> None:
    """Paint each row's colour on every pixel at or below a wavy line.

    Only the narrow band the line wanders through needs a per-pixel choice;
    the rows wholly below it are a plain broadcast copy (the cheap part).
    """
    first_full = int(np.searchsorted(coords, line.max(), side="left"))
    band = slice(int(np.searchsorted(coords, line.min(), side="left")), first_full)
    below = (coords[band, None] >= line[None, :])[..., None]
    image[band] = np.where(below, row_colours[band, None, :], image[band])
    image[first_full:] = row_colours[first_full:, None, :]


def _lerp(a: RGB, b: RGB, t: np.ndarray) -> np.ndarray:
    """Per-row colours (rows x 3, uint8) from a column of blend weights."""
    a_ = np.asarray(a, np.float32)
    b_ = np.asarray(b, np.float32)
    return (a_ + (b_ - a_) * t + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class Sun:
    x: float
    y: float
    radius: float
    rays: Literal["straight", "triangle"]
    ray_count: int
    rotation: float
    face: bool
    width: float

    def draw(self, p: _Painter) -> None:
        x, y, r = self.x, self.y, self.radius
        angles = self.rotation + 2 * np.pi * np.arange(self.ray_count) / self.ray_count
        if self.rays == "straight":
            colour = PALETTE["sun_straight_rays"]
            p.stroke([_segment(x + math.cos(a) * r * 1.25, y + math.sin(a) * r * 1.25,
                               x + math.cos(a) * r * 1.7, y + math.sin(a) * r * 1.7)
                      for a in angles], self.width)
        else:
            colour = PALETTE["sun_triangle_rays"]
            half = np.pi / self.ray_count * 0.6
            triangles = [np.array([(x + math.cos(a - half) * r * 0.9, y + math.sin(a - half) * r * 0.9),
                                   (x + math.cos(a) * r * 1.65, y + math.sin(a) * r * 1.65),
                                   (x + math.cos(a + half) * r * 0.9, y + math.sin(a + half) * r * 0.9)])
                         for a in angles]
            p.outlined(triangles, colour, self.width, shade=0.0)
        p.outlined([_circle(x, y, r)], colour, self.width)
        if self.face:
            eye = r * 0.11
            p.ink_fill([_circle(x - r * 0.35, y - r * 0.2, eye, 16),
                        _circle(x + r * 0.35, y - r * 0.2, eye, 16)])
            p.stroke([_ellipse(x, y + r * 0.1, r * 0.45, r * 0.4, start=0.45, end=np.pi - 0.45,
                               points=16)], self.width * 0.6)

    def box(self) -> Box:
        reach = self.radius * 1.7
        return (self.x - reach, self.y - reach, self.x + reach, self.y + reach)


@dataclass(frozen=True)
class Star:
    x: float
    y: float
    radius: float
    rotation: float
    width: float

    def draw(self, p: _Painter) -> None:
        k = np.arange(10)
        radii = np.where(k % 2 == 0, self.radius, self.radius * 0.45)
        angles = self.rotation - np.pi / 2 + k * np.pi / 5
        star = np.stack([self.x + radii * np.cos(angles), self.y + radii * np.sin(angles)], axis=1)
        p.outlined([star], PALETTE["star"], self.width)
        p.stroke([_ellipse(self.x, self.y, self.radius * 0.22, self.radius * 0.22,
                           start=np.pi * 1.0, end=np.pi * 1.5, points=8)], self.width * 0.5)

    def box(self) -> Box:
        return (self.x - self.radius, self.y - self.radius, self.x + self.radius, self.y + self.radius)


@dataclass(frozen=True)
class Cloud:
    puffs: tuple[tuple[float, float, float], ...]
    rain: bool
    width: float

    def draw(self, p: _Painter) -> None:
        circles = [_circle(x, y, r) for x, y, r in self.puffs]
        colour = PALETTE["rain_cloud"] if self.rain else PALETTE["cloud"]
        p.outlined_union(circles, colour, self.width)
        x0, y0, x1, y1 = self.box()
        # small puff arcs inside the body: interior detail, no colour change
        bx, by, br = self.puffs[0]
        p.stroke([_ellipse(bx + br * 0.2, by + br * 0.1, br * 0.45, br * 0.45,
                           start=np.pi * 0.95, end=np.pi * 1.45, points=10)], self.width * 0.5)
        if self.rain:
            bottom = max(y + r for x, y, r in self.puffs)
            drops = np.linspace(x0 + (x1 - x0) * 0.2, x1 - (x1 - x0) * 0.2, 5)
            p.stroke([_segment(dx, bottom + 0.015 + (i % 2) * 0.012,
                               dx - 0.012, bottom + 0.045 + (i % 2) * 0.012)
                      for i, dx in enumerate(drops)], self.width)

    def box(self) -> Box:
        x0 = min(x - r for x, y, r in self.puffs)
        x1 = max(x + r for x, y, r in self.puffs)
        y0 = min(y - r for x, y, r in self.puffs)
        y1 = max(y + r for x, y, r in self.puffs) + (0.06 if self.rain else 0.0)
        return (x0, y0, x1, y1)


@dataclass(frozen=True)
class Bird:
    """Lines only: a shape that changes no colour."""

    x: float
    y: float
    span: float
    width: float

    def draw(self, p: _Painter) -> None:
        s = self.span
        left = _ellipse(self.x - s / 2, self.y + s * 0.35, s / 2, s * 0.4,
                        start=np.pi * 1.1, end=np.pi * 1.9, points=12)
        right = _ellipse(self.x + s / 2, self.y + s * 0.35, s / 2, s * 0.4,
                         start=np.pi * 1.1, end=np.pi * 1.9, points=12)
        p.stroke([left, right], self.width)

    def box(self) -> Box:
        return (self.x - self.span, self.y - self.span * 0.2, self.x + self.span, self.y + self.span * 0.4)


@dataclass(frozen=True)
class Mountain:
    left: float
    peak_x: float
    peak_y: float
    right: float
    snow: float
    background: Background
    width: float

    def draw(self, p: _Painter) -> None:
        bg = self.background
        base_x = np.linspace(self.right, self.left, 24)
        base = np.stack([base_x, bg.horizon_at(base_x) + 0.01], axis=1)
        peak = np.array([[self.peak_x, self.peak_y]])
        p.fill([np.concatenate([peak, base])], PALETTE["mountain"])
        left_foot = (self.left, float(bg.horizon_at(np.array(self.left))))
        right_foot = (self.right, float(bg.horizon_at(np.array(self.right))))
        # snow cap: the part of the slopes above a zigzag line
        lx = self.peak_x + (left_foot[0] - self.peak_x) * self.snow
        ly = self.peak_y + (left_foot[1] - self.peak_y) * self.snow
        rx = self.peak_x + (right_foot[0] - self.peak_x) * self.snow
        ry = self.peak_y + (right_foot[1] - self.peak_y) * self.snow
        teeth = 4
        zx = np.linspace(rx, lx, 2 * teeth + 1)
        zy = np.linspace(ry, ly, 2 * teeth + 1) + np.where(np.arange(2 * teeth + 1) % 2 == 1,
                                                              0.35 * (ly - self.peak_y), 0.0)
        zigzag = np.stack([zx, zy], axis=1)
        p.fill([np.concatenate([peak, zigzag])], PALETTE["snow"], shade=0.05)
        p.stroke([zigzag], self.width * 0.6)
        p.stroke([np.array([left_foot, (self.peak_x, self.peak_y), right_foot])], self.width)

    def box(self) -> Box:
        return (self.left, self.peak_y, self.right, self.background.horizon)


@dataclass(frozen=True)
class House:
    x: float
    base: float
    body_width: float
    body_height: float
    roof_height: float
    style: Literal["brick", "wood", "plain"]
    windows: int
    door_left: bool
    width: float

    def draw(self, p: _Painter) -> None:
        w, h = self.body_width, self.body_height
        x0, x1 = self.x - w / 2, self.x + w / 2
        top, base = self.base - h, self.base
        wall, roof = {
            "brick": (PALETTE["house_brick"], PALETTE["roof_brick"]),
            "wood": (PALETTE["house_wood"], PALETTE["roof_wood"]),
            "plain": (PALETTE["house_plain"], PALETTE["roof_plain"]),
        }[self.style]
        body = _rect(x0, top, x1, base)
        p.fill([body], wall)
        detail = self.width * 0.5
        if self.style == "brick":
            courses = np.linspace(top, base, 7)[1:-1]
            p.stroke([_segment(x0, c, x1, c) for c in courses], detail)
            ticks = []
            for i, (c0, c1) in enumerate(zip(np.r_[top, courses], np.r_[courses, base])):
                for fx in (np.arange(1, 4) / 4 if i % 2 == 0 else np.arange(1, 4) / 4 - 1 / 8):
                    ticks.append(_segment(x0 + fx * w, c0, x0 + fx * w, c1))
            p.stroke(ticks, detail)
        elif self.style == "wood":
            planks = np.linspace(x0, x1, 8)[1:-1]
            p.stroke([_segment(px, top, px, base) for px in planks], detail)
        p.stroke([body], self.width, closed=True)

        overhang = w * 0.1
        gable = np.array([(x0 - overhang, top), (self.x, top - self.roof_height), (x1 + overhang, top)])
        p.outlined([gable], roof, self.width)
        if self.style == "plain":
            attic = _circle(self.x, top - self.roof_height * 0.4, self.roof_height * 0.2, 24)
            p.outlined([attic], PALETTE["window"], detail)

        door_w, door_h = w * 0.2, h * 0.5
        door_x = x0 + w * 0.28 if self.door_left else x1 - w * 0.28
        p.outlined([_rect(door_x - door_w / 2, base - door_h, door_x + door_w / 2, base)],
                   PALETTE["door"], self.width)
        p.ink_fill([_circle(door_x + door_w * 0.25, base - door_h * 0.45, door_w * 0.08, 12)])

        side = w * 0.18
        other_x = x1 - w * 0.28 if self.door_left else x0 + w * 0.28
        centres = [(other_x, top + h * 0.42)]
        if self.windows == 2:
            centres.append((door_x, top + h * 0.22))
        for cx, cy in centres:
            p.outlined([_rect(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)],
                       PALETTE["window"], self.width, shade=0.05)
            p.stroke([_segment(cx, cy - side / 2, cx, cy + side / 2),
                      _segment(cx - side / 2, cy, cx + side / 2, cy)], detail)

    def box(self) -> Box:
        over = self.body_width * 0.1
        return (self.x - self.body_width / 2 - over, self.base - self.body_height - self.roof_height,
                self.x + self.body_width / 2 + over, self.base)


@dataclass(frozen=True)
class PineTree:
    x: float
    base: float
    height: float
    tiers: Literal[2, 3]
    width: float

    def draw(self, p: _Painter) -> None:
        trunk_h = self.height * 0.18
        half = self.height * (0.33 if self.tiers == 2 else 0.22)
        trunk_w = self.height * 0.07
        p.outlined([_rect(self.x - trunk_w, self.base - trunk_h, self.x + trunk_w, self.base)],
                   PALETTE["trunk"], self.width)
        colour = PALETTE["pine_two_tiers"] if self.tiers == 2 else PALETTE["pine_three_tiers"]
        crown = self.height - trunk_h
        tier_h = crown / (self.tiers * 0.75 + 0.25)
        tiers = []
        for i in range(self.tiers):
            bottom = self.base - trunk_h - i * tier_h * 0.75
            spread = half * (1.0 - 0.22 * i)
            tiers.append(np.array([(self.x - spread, bottom), (self.x, bottom - tier_h),
                                   (self.x + spread, bottom)]))
        p.outlined(tiers, colour, self.width)

    def box(self) -> Box:
        half = self.height * (0.33 if self.tiers == 2 else 0.22)
        return (self.x - half, self.base - self.height, self.x + half, self.base)


@dataclass(frozen=True)
class RoundTree:
    x: float
    base: float
    height: float
    puffs: tuple[tuple[float, float, float], ...]  # relative to the canopy centre, in heights
    fruit: tuple[tuple[float, float], ...]  # apples (relative); empty means an autumn tree
    width: float

    def draw(self, p: _Painter) -> None:
        h = self.height
        trunk_h, trunk_w = h * 0.4, h * 0.055
        cx, cy = self.x, self.base - h * 0.62
        p.outlined([_rect(self.x - trunk_w, self.base - trunk_h, self.x + trunk_w, self.base)],
                   PALETTE["trunk"], self.width)
        autumn = not self.fruit
        colour = PALETTE["canopy_autumn"] if autumn else PALETTE["canopy_apples"]
        p.outlined_union([_circle(cx + dx * h, cy + dy * h, r * h) for dx, dy, r in self.puffs],
                         colour, self.width)
        if autumn:
            curls = [_ellipse(cx + dx * h, cy + dy * h, h * 0.05, h * 0.05, start=0.3, end=np.pi * 1.4,
                              points=12)
                     for dx, dy in ((-0.12, -0.08), (0.1, -0.12), (0.0, 0.06), (0.15, 0.08), (-0.16, 0.1))]
            p.stroke(curls, self.width * 0.5)
        else:
            apples = [_circle(cx + dx * h, cy + dy * h, h * 0.035, 16) for dx, dy in self.fruit]
            p.outlined(apples, PALETTE["apple"], self.width * 0.5, shade=0.0)

    def box(self) -> Box:
        reach = max(max(abs(dx) + r for dx, dy, r in self.puffs), 0.1) * self.height
        return (self.x - reach, self.base - self.height, self.x + reach, self.base)


@dataclass(frozen=True)
class Flower:
    x: float
    base: float
    height: float
    petals: int
    petal_shape: Literal["round", "long"]
    rotation: float
    leaf_side: int
    width: float

    def draw(self, p: _Painter) -> None:
        h = self.height
        head_r = h * 0.22
        hx, hy = self.x, self.base - h + head_r
        stem_w = h * 0.025
        p.outlined([_rect(self.x - stem_w, hy, self.x + stem_w, self.base)], PALETTE["stem"], self.width)
        leaf_cx = self.x + self.leaf_side * h * 0.11
        leaf_cy = self.base - h * 0.3
        leaf_angle = -0.5 * self.leaf_side
        p.outlined([_ellipse(leaf_cx, leaf_cy, h * 0.11, h * 0.045, angle=leaf_angle, points=24)],
                   PALETTE["stem"], self.width)
        vein_dx, vein_dy = math.cos(leaf_angle) * h * 0.09, math.sin(leaf_angle) * h * 0.09
        p.stroke([_segment(leaf_cx - vein_dx, leaf_cy - vein_dy, leaf_cx + vein_dx, leaf_cy + vein_dy)],
                 self.width * 0.5)
        angles = self.rotation + 2 * np.pi * np.arange(self.petals) / self.petals
        if self.petal_shape == "round":
            colour = PALETTE["petals_round"]
            shapes = [_circle(hx + math.cos(a) * head_r * 0.85, hy + math.sin(a) * head_r * 0.85,
                              head_r * 0.5, 24) for a in angles]
        else:
            colour = PALETTE["petals_long"]
            shapes = [_ellipse(hx + math.cos(a) * head_r * 0.95, hy + math.sin(a) * head_r * 0.95,
                               head_r * 0.75, head_r * 0.24, angle=a, points=24) for a in angles]
        p.outlined(shapes, colour, self.width)
        p.outlined([_circle(hx, hy, head_r * 0.45, 24)], PALETTE["flower_centre"], self.width)

    def box(self) -> Box:
        reach = self.height * 0.22 * 1.8
        return (self.x - reach, self.base - self.height - self.height * 0.2, self.x + reach, self.base)


@dataclass(frozen=True)
class Fish:
    x: float
    y: float
    length: float
    facing: int  # +1 looks right, -1 looks left
    striped: bool
    width: float

    def draw(self, p: _Painter) -> None:
        L, f = self.length, self.facing
        colour = PALETTE["fish_striped"] if self.striped else PALETTE["fish_plain"]
        back = self.x - f * L * 0.35
        tail = np.array([(back + f * L * 0.05, self.y), (back - f * L * 0.3, self.y - L * 0.22),
                         (back - f * L * 0.3, self.y + L * 0.22)])
        p.outlined([tail], colour, self.width, shade=0.0)
        p.outlined([_ellipse(self.x, self.y, L * 0.4, L * 0.22, points=32)], colour, self.width)
        detail = self.width * 0.6
        if self.striped:
            p.stroke([_ellipse(self.x + f * dx * L, self.y, L * 0.08, L * 0.2, start=-np.pi / 2,
                               end=np.pi / 2, points=12) for dx in (-0.12, 0.12)],
                     detail)
        else:
            p.stroke([_ellipse(self.x - f * L * 0.05, self.y - L * 0.08, L * 0.16, L * 0.1,
                               start=np.pi * 1.15, end=np.pi * 1.85, points=12)], detail)
        p.ink_fill([_circle(self.x + f * L * 0.24, self.y - L * 0.05, L * 0.04, 12)])

    def box(self) -> Box:
        return (self.x - self.length * 0.7, self.y - self.length * 0.25,
                self.x + self.length * 0.7, self.y + self.length * 0.25)


@dataclass(frozen=True)
class Pond:
    x: float
    y: float
    rx: float
    ry: float
    fish: tuple[Fish, ...]
    width: float

    def draw(self, p: _Painter) -> None:
        p.outlined([_ellipse(self.x, self.y, self.rx, self.ry, points=64)], PALETTE["water"],
                   self.width, shade=0.06)
        waves = [_ellipse(self.x + dx * self.rx, self.y + dy * self.ry, self.rx * 0.1, self.ry * 0.15,
                          start=np.pi * 1.1, end=np.pi * 1.9, points=10)
                 for dx, dy in ((-0.6, -0.2), (-0.45, -0.2), (0.5, 0.45), (0.65, 0.45))]
        p.stroke(waves, self.width * 0.5)
        for fish in self.fish:
            fish.draw(p)

    def box(self) -> Box:
        return (self.x - self.rx, self.y - self.ry, self.x + self.rx, self.y + self.ry)


@dataclass(frozen=True)
class GrassTuft:
    """Lines only, like birds."""

    x: float
    y: float
    size: float
    width: float

    def draw(self, p: _Painter) -> None:
        s = self.size
        p.stroke([_segment(self.x, self.y, self.x + dx * s, self.y - s * (1.0 - abs(dx) * 0.3))
                  for dx in (-0.5, 0.0, 0.5)], self.width)

    def box(self) -> Box:
        return (self.x - self.size / 2, self.y - self.size, self.x + self.size / 2, self.y)


@dataclass(frozen=True)
class Pebble:
    x: float
    y: float
    radius: float
    width: float

    def draw(self, p: _Painter) -> None:
        p.outlined([_ellipse(self.x, self.y, self.radius, self.radius * 0.6, points=20)],
                   PALETTE["pebble"], self.width)

    def box(self) -> Box:
        return (self.x - self.radius, self.y - self.radius, self.x + self.radius, self.y + self.radius)


SceneObject = Union[Sun, Star, Cloud, Bird, Mountain, House, PineTree, RoundTree, Flower, Pond,
                    GrassTuft, Pebble]


@dataclass(frozen=True)
class Scene:
    """Everything needed to draw one pair at any size, in unit coordinates.

    ``sky`` objects are drawn first in order, then ``mountains``, the horizon
    line, and ``ground`` objects in the given order (back to front).
    """

    background: Background
    ink: int
    width: float
    sky: tuple[SceneObject, ...] = field(default_factory=tuple)
    mountains: tuple[Mountain, ...] = field(default_factory=tuple)
    ground: tuple[SceneObject, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------- planning


def _overlap(a: Box, b: Box) -> float:
    """Intersection as a fraction of the smaller box."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return w * h / max(smaller, 1e-9)


def _fits(box: Box, placed: list[Box], limit: float) -> bool:
    return all(_overlap(box, other) <= limit for other in placed)


def plan_scene(rng: np.random.Generator) -> Scene:
    """Draw a random scene; all randomness of a pair is spent here."""
    background = Background(
        horizon=float(rng.uniform(0.42, 0.6)),
        amplitude=float(rng.uniform(0.0, 0.035)),
        frequency=float(rng.uniform(0.4, 1.6)),
        phase=float(rng.uniform(0, 2 * np.pi)),
        soil=float(rng.uniform(0.86, 0.93)) if rng.random() < 0.6 else None,
        soil_amplitude=float(rng.uniform(0.0, 0.015)),
        soil_phase=float(rng.uniform(0, 2 * np.pi)),
    )
    ink = int(rng.integers(12, 64))
    base_width = float(rng.uniform(2.0, 3.5))

    def stroke_width() -> float:
        return float(np.clip(base_width + rng.uniform(-0.5, 0.6), 2.0, 4.0))

    sky_floor = background.horizon - background.amplitude - 0.03
    sky: list[SceneObject] = []
    sky_boxes: list[Box] = []

    def place_sky(make, tries: int = 12, limit: float = 0.15) -> None:
        for _ in range(tries):
            obj = make()
            box = obj.box()
            if (box[1] > 0.01 and box[3] <= sky_floor and box[0] > -0.05 and box[2] < 1.05
                    and _fits(box, sky_boxes, limit)):
                sky.append(obj)
                sky_boxes.append(box)
                return

    if rng.random() < 0.75:
        place_sky(lambda: Sun(
            x=float(rng.uniform(0.12, 0.88)), y=float(rng.uniform(0.1, 0.25)),
            radius=float(rng.uniform(0.055, 0.085)),
            rays=("straight", "triangle")[int(rng.integers(2))],
            ray_count=int(rng.integers(8, 13)), rotation=float(rng.uniform(0, np.pi)),
            face=bool(rng.random() < 0.5), width=stroke_width()))
    for _ in range(int(rng.integers(0, 4))):
        place_sky(lambda: Star(x=float(rng.uniform(0.05, 0.95)), y=float(rng.uniform(0.05, 0.3)),
                               radius=float(rng.uniform(0.03, 0.05)),
                               rotation=float(rng.uniform(-0.3, 0.3)), width=stroke_width()))
    for _ in range(int(rng.integers(1, 4))):
        place_sky(lambda: _plan_cloud(rng, stroke_width()), limit=0.12)
    for _ in range(int(rng.integers(0, 4))):
        place_sky(lambda: Bird(x=float(rng.uniform(0.05, 0.95)), y=float(rng.uniform(0.05, 0.35)),
                               span=float(rng.uniform(0.025, 0.045)), width=stroke_width()), limit=0.0)

    mountains = []
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 3))):
            peak_x = float(rng.uniform(0.1, 0.9))
            half = float(rng.uniform(0.15, 0.3))
            mountains.append(Mountain(
                left=peak_x - half * float(rng.uniform(0.8, 1.2)), peak_x=peak_x,
                peak_y=background.horizon - float(rng.uniform(0.13, 0.24)),
                right=peak_x + half * float(rng.uniform(0.8, 1.2)),
                snow=float(rng.uniform(0.25, 0.4)), background=background, width=stroke_width()))
    # the sun and clouds may sit behind a mountain; drop only sky objects that a
    # mountain would hide almost entirely, so no cue is left without its colour
    sky = [obj for obj in sky
           if all(_overlap(obj.box(), m.box()) < 0.6 for m in mountains) or isinstance(obj, Bird)]

    ground = _plan_ground(rng, background, stroke_width)
    return Scene(background=background, ink=ink, width=stroke_width(), sky=tuple(sky),
                 mountains=tuple(mountains), ground=tuple(ground))


def _plan_cloud(rng: np.random.Generator, width: float) -> Cloud:
    x = float(rng.uniform(0.1, 0.9))
    y = float(rng.uniform(0.1, 0.3))
    size = float(rng.uniform(0.045, 0.07))
    count = int(rng.integers(3, 6))
    xs = x + (np.arange(count) - (count - 1) / 2) * size * 1.1
    puffs = [(float(px), y + float(rng.uniform(-0.1, 0.1)) * size, size * float(rng.uniform(0.8, 1.1)))
             for px in xs]
    for _ in range(int(rng.integers(1, 3))):
        puffs.append((x + float(rng.uniform(-0.5, 0.5)) * size * count * 0.4,
                      y - size * float(rng.uniform(0.6, 0.9)), size * float(rng.uniform(0.9, 1.2))))
    return Cloud(puffs=tuple(puffs), rain=bool(rng.random() < 0.4), width=width)


def _plan_ground(rng: np.random.Generator, bg: Background,
                 stroke_width: Callable[[], float]) -> list[SceneObject]:
    top = bg.horizon + bg.amplitude
    placed: list[tuple[float, SceneObject]] = []
    boxes: list[Box] = []

    def depth_scale(base: float) -> float:
        return 0.65 + 0.7 * (base - top) / max(1.0 - top, 1e-6)

    def place(make, tries: int = 12, limit: float = 0.25) -> None:
        for _ in range(tries):
            obj, order = make()
            box = obj.box()
            if box[0] > -0.02 and box[2] < 1.02 and box[1] > 0.02 and _fits(box, boxes, limit):
                placed.append((order, obj))
                boxes.append(box)
                return

    def make_pond():
        y = float(rng.uniform(top + 0.12, 0.8))
        rx = float(rng.uniform(0.12, 0.2)) * depth_scale(y)
        ry = rx * float(rng.uniform(0.3, 0.45))
        x = float(rng.uniform(rx, 1 - rx))
        fish = []
        for i in range(int(rng.integers(1, 3))):
            length = ry * float(rng.uniform(0.9, 1.2))
            fx = x + (i - 0.5) * rx * 0.8 if i or rng.random() < 0.5 else x
            fish.append(Fish(x=fx, y=y + float(rng.uniform(-0.1, 0.1)) * ry, length=length,
                             facing=int(rng.choice([-1, 1])), striped=bool(rng.random() < 0.5),
                             width=stroke_width()))
        return Pond(x=x, y=y, rx=rx, ry=ry, fish=tuple(fish), width=stroke_width()), y - ry

    def make_house():
        base = float(rng.uniform(top + 0.05, 0.82))
        s = depth_scale(base)
        w = float(rng.uniform(0.2, 0.28)) * s
        return House(x=float(rng.uniform(0.05, 0.95)), base=base, body_width=w,
                     body_height=w * float(rng.uniform(0.65, 0.85)),
                     roof_height=w * float(rng.uniform(0.35, 0.5)),
                     style=("brick", "wood", "plain")[int(rng.integers(3))],
                     windows=int(rng.integers(1, 3)), door_left=bool(rng.random() < 0.5),
                     width=stroke_width()), base

    def make_pine():
        base = float(rng.uniform(top + 0.03, 0.88))
        return PineTree(x=float(rng.uniform(0.05, 0.95)), base=base,
                        height=float(rng.uniform(0.24, 0.32)) * depth_scale(base),
                        tiers=(2, 3)[int(rng.integers(2))], width=stroke_width()), base

    def make_round_tree():
        base = float(rng.uniform(top + 0.03, 0.88))
        puffs = [(0.0, 0.0, 0.2)] + [(float(np.cos(a)) * 0.15, float(np.sin(a)) * 0.11 - 0.02,
                                      float(rng.uniform(0.11, 0.14)))
                                     for a in np.linspace(0, 2 * np.pi, int(rng.integers(4, 7)),
                                                          endpoint=False) + rng.uniform(0, 1)]
        fruit = ()
        if rng.random() < 0.5:
            fruit = tuple((float(rng.uniform(-0.2, 0.2)), float(rng.uniform(-0.12, 0.12)))
                          for _ in range(int(rng.integers(3, 6))))
        return RoundTree(x=float(rng.uniform(0.05, 0.95)), base=base,
                         height=float(rng.uniform(0.26, 0.34)) * depth_scale(base),
                         puffs=tuple(puffs), fruit=fruit, width=stroke_width()), base

    def make_flower():
        base = float(rng.uniform(0.84, 0.98))
        return Flower(x=float(rng.uniform(0.05, 0.95)), base=base,
                      height=float(rng.uniform(0.13, 0.18)),
                      petals=int(rng.integers(5, 8)),
                      petal_shape=("round", "long")[int(rng.integers(2))],
                      rotation=float(rng.uniform(0, np.pi)), leaf_side=int(rng.choice([-1, 1])),
                      width=stroke_width()), base

    if rng.random() < 0.4:
        place(make_pond, limit=0.0)
    for _ in range(int(rng.integers(0, 3))):
        place(make_house, limit=0.1)
    for _ in range(int(rng.integers(1, 5))):
        place(make_pine if rng.random() < 0.5 else make_round_tree)
    for _ in range(int(rng.integers(0, 5))):
        place(make_flower, limit=0.15)

    decorations: list[tuple[float, SceneObject]] = []
    for _ in range(int(rng.integers(3, 9))):
        y = float(rng.uniform(top + 0.05, bg.soil if bg.soil is not None else 0.98))
        tuft = GrassTuft(x=float(rng.uniform(0.03, 0.97)), y=y, size=float(rng.uniform(0.02, 0.035)),
                         width=stroke_width() * 0.6)
        if _fits(tuft.box(), boxes, 0.0):
            decorations.append((y - 1.0, tuft))  # always behind real objects
    if bg.soil is not None:
        for _ in range(int(rng.integers(2, 7))):
            y = float(rng.uniform(bg.soil + 0.03, 0.99))
            pebble = Pebble(x=float(rng.uniform(0.03, 0.97)), y=y, radius=float(rng.uniform(0.012, 0.022)),
                            width=stroke_width() * 0.7)
            if _fits(pebble.box(), boxes, 0.0):
                decorations.append((y - 1.0, pebble))
    ordered = sorted(decorations + placed, key=lambda item: item[0])
    return [obj for _, obj in ordered]


# ---------------------------------------------------------------- rendering


def render_scene(scene: Scene, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw a scene as (colour HxWx3 RGB, sketch HxW grey), both uint8 and size x size."""
    painter = _Painter(size, scene.ink)
    scene.background.paint(painter)
    for obj in scene.sky:
        obj.draw(painter)
    for mountain in scene.mountains:
        mountain.draw(painter)
    scene.background.stroke_lines(painter, scene.width)
    for obj in scene.ground:
        obj.draw(painter)
    return painter.colour, painter.sketch


def generate_pair(index: int, seed: int, height: int = 512) -> np.ndarray:
    """One pair as an RGB uint8 array of height x 2*height: colour left, sketch right."""
    if height < 16:
        raise ValueError(f"synthetic pair height must be at least 16 pixels, got {height}")
    rng = np.random.default_rng([seed, index])
    colour, sketch = render_scene(plan_scene(rng), height)
    return np.concatenate([colour, np.repeat(sketch[:, :, None], 3, axis=2)], axis=1)


def encode_png(pair: np.ndarray) -> bytes:
    """PNG bytes of an RGB array (cv2 wants BGR), at a fixed compression level."""
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(pair[:, :, ::-1]),
                              [cv2.IMWRITE_PNG_COMPRESSION, PNG_COMPRESSION])
    if not ok:
        raise RuntimeError("cv2 could not encode a synthetic pair as PNG")
    return buffer.tobytes()


# ---------------------------------------------------------------- writing


def pair_file_name(index: int) -> str:
    return f"{index:06d}.png"


def _write_one(job: tuple[str, int, int, int]) -> int:
    folder, index, seed, height = job
    write_bytes(Path(folder) / pair_file_name(index), encode_png(generate_pair(index, seed, height)))
    return index


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already; no nested thread pools


def write_synthetic_dataset(folder: Path, cfg: SyntheticConfig, seed: int) -> int:
    """Write ``folder/train/000000.png`` ... for ``cfg.count`` pairs; return the count.

    Each file is written atomically. Since each pair seeds its own generator,
    the bytes never depend on ``cfg.workers``. Workers are 'spawn' processes:
    safe even when the parent already runs TensorFlow or OpenCV threads, at
    the price that the parent's ``__main__`` must be importable and guarded by
    ``if __name__ == "__main__"`` (as stage scripts are). A process pool
    executor, not ``multiprocessing.Pool``: a worker that cannot start raises
    ``BrokenProcessPool`` instead of being restarted forever.

    Files already in ``folder/train`` are overwritten, never removed: build
    into a fresh folder (for example with ``atomic_directory``) to drop stale pairs.
    """
    cfg.validate("fetch.synthetic")
    train = Path(folder) / "train"
    train.mkdir(parents=True, exist_ok=True)
    jobs = [(str(train), index, seed, cfg.pair_height) for index in range(cfg.count)]
    workers = min(cfg.workers, cfg.count)
    if workers <= 1:
        for job in jobs:
            _write_one(job)
        return cfg.count
    chunk = max(1, min(16, len(jobs) // (workers * 4)))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker) as pool:
        for _ in pool.map(_write_one, jobs, chunksize=chunk):
            pass
    return cfg.count


def benchmark_generation(count: int = 200, pair_height: int = 512, workers: int = 2) -> float:
    """Pairs per second for generate + encode + atomic write into a temporary folder,
    pool start-up included (what the fetch stage pays)."""
    cfg = SyntheticConfig(count=count, pair_width=2 * pair_height, pair_height=pair_height,
                          workers=workers)
    with tempfile.TemporaryDirectory(prefix="sketch2color-bench-") as tmp:
        start = time.perf_counter()
        write_synthetic_dataset(Path(tmp), cfg, seed=0)
        elapsed = time.perf_counter() - start
    return count / elapsed
