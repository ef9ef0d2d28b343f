"""What is drawn in the sky and on the horizon: sun, stars, clouds, birds, mountains.

Each object's variant (ray shape, rain, snow line) is a visible cue in the
sketch that picks its colour from the palette; birds are lines only, so the
model also learns that not every line means a fill. ``box`` gives the
footprint the planner uses to keep objects apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sketch2color.data.synthetic.background import Background
from sketch2color.data.synthetic.geometry import Box, centred, circle, ellipse, segment
from sketch2color.data.synthetic.painter import Painter
from sketch2color.data.synthetic.palette import PALETTE


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

    def draw(self, p: Painter) -> None:
        x, y, r = self.x, self.y, self.radius
        angles = self.rotation + 2 * np.pi * np.arange(self.ray_count) / self.ray_count
        if self.rays == "straight":
            color = PALETTE["sun_straight_rays"]
            p.stroke(
                [
                    segment(
                        x + math.cos(a) * r * 1.25,
                        y + math.sin(a) * r * 1.25,
                        x + math.cos(a) * r * 1.7,
                        y + math.sin(a) * r * 1.7,
                    )
                    for a in angles
                ],
                self.width,
            )
        else:
            color = PALETTE["sun_triangle_rays"]
            half = np.pi / self.ray_count * 0.6
            triangles = [
                np.array(
                    [
                        (x + math.cos(a - half) * r * 0.9, y + math.sin(a - half) * r * 0.9),
                        (x + math.cos(a) * r * 1.65, y + math.sin(a) * r * 1.65),
                        (x + math.cos(a + half) * r * 0.9, y + math.sin(a + half) * r * 0.9),
                    ]
                )
                for a in angles
            ]
            p.outlined(triangles, color, self.width, shade=0.0)
        p.outlined([circle(x, y, r)], color, self.width)
        if self.face:
            eye = r * 0.11
            p.ink_fill(
                [circle(x - r * 0.35, y - r * 0.2, eye, 16), circle(x + r * 0.35, y - r * 0.2, eye, 16)]
            )
            p.stroke(
                [ellipse(x, y + r * 0.1, r * 0.45, r * 0.4, start=0.45, end=np.pi - 0.45, points=16)],
                self.width * 0.6,
            )

    def box(self) -> Box:
        reach = self.radius * 1.7
        return centred(self.x, self.y, reach, reach)


@dataclass(frozen=True)
class Star:
    x: float
    y: float
    radius: float
    rotation: float
    width: float

    def draw(self, p: Painter) -> None:
        k = np.arange(10)
        radii = np.where(k % 2 == 0, self.radius, self.radius * 0.45)
        angles = self.rotation - np.pi / 2 + k * np.pi / 5
        star = np.stack([self.x + radii * np.cos(angles), self.y + radii * np.sin(angles)], axis=1)
        p.outlined([star], PALETTE["star"], self.width)
        p.stroke(
            [
                ellipse(
                    self.x,
                    self.y,
                    self.radius * 0.22,
                    self.radius * 0.22,
                    start=np.pi * 1.0,
                    end=np.pi * 1.5,
                    points=8,
                )
            ],
            self.width * 0.5,
        )

    def box(self) -> Box:
        return centred(self.x, self.y, self.radius, self.radius)


@dataclass(frozen=True)
class Cloud:
    puffs: tuple[tuple[float, float, float], ...]
    rain: bool
    width: float

    def draw(self, p: Painter) -> None:
        circles = [circle(x, y, r) for x, y, r in self.puffs]
        color = PALETTE["rain_cloud"] if self.rain else PALETTE["cloud"]
        p.outlined_union(circles, color, self.width)
        x0, y0, x1, y1 = self.box()
        # small puff arcs inside the body: interior detail, no colour change
        bx, by, br = self.puffs[0]
        p.stroke(
            [
                ellipse(
                    bx + br * 0.2,
                    by + br * 0.1,
                    br * 0.45,
                    br * 0.45,
                    start=np.pi * 0.95,
                    end=np.pi * 1.45,
                    points=10,
                )
            ],
            self.width * 0.5,
        )
        if self.rain:
            bottom = max(y + r for x, y, r in self.puffs)
            drops = np.linspace(x0 + (x1 - x0) * 0.2, x1 - (x1 - x0) * 0.2, 5)
            p.stroke(
                [
                    segment(
                        dx, bottom + 0.015 + (i % 2) * 0.012, dx - 0.012, bottom + 0.045 + (i % 2) * 0.012
                    )
                    for i, dx in enumerate(drops)
                ],
                self.width,
            )

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

    def draw(self, p: Painter) -> None:
        s = self.span
        left = ellipse(
            self.x - s / 2, self.y + s * 0.35, s / 2, s * 0.4, start=np.pi * 1.1, end=np.pi * 1.9, points=12
        )
        right = ellipse(
            self.x + s / 2, self.y + s * 0.35, s / 2, s * 0.4, start=np.pi * 1.1, end=np.pi * 1.9, points=12
        )
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

    def draw(self, p: Painter) -> None:
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
        zy = np.linspace(ry, ly, 2 * teeth + 1) + np.where(
            np.arange(2 * teeth + 1) % 2 == 1, 0.35 * (ly - self.peak_y), 0.0
        )
        zigzag = np.stack([zx, zy], axis=1)
        p.fill([np.concatenate([peak, zigzag])], PALETTE["snow"], shade=0.05)
        p.stroke([zigzag], self.width * 0.6)
        p.stroke([np.array([left_foot, (self.peak_x, self.peak_y), right_foot])], self.width)

    def box(self) -> Box:
        return (self.left, self.peak_y, self.right, self.background.horizon)
