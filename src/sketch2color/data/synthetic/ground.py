"""What stands on the ground or lies in it: houses, trees, flowers, ponds with fish, tufts, pebbles.

As in the sky, each variant's visible cue (brick courses or planks, tier
count, apples or curls, petal shape, stripes) decides its colour; grass
tufts are lines only. ``box`` gives the footprint the planner uses to keep
objects apart and to order them back to front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sketch2color.data.synthetic.geometry import Box, centred, circle, ellipse, rect, segment, upright
from sketch2color.data.synthetic.painter import Painter
from sketch2color.data.synthetic.palette import PALETTE, RGB


@dataclass(frozen=True)
class _Standing:
    """A shape centred on ``x`` that stands on the ground at ``base`` and is ``height`` tall.

    Its box reaches ``_reach()`` to either side, from ``_top()`` down to the base.
    """

    x: float
    base: float
    height: float

    def _reach(self) -> float:
        raise NotImplementedError

    def _top(self) -> float:
        return self.base - self.height

    def box(self) -> Box:
        return upright(self.x, self._reach(), self._top(), self.base)

    def _post(self, p: Painter, half_width: float, top: float, rgb: RGB, width: float) -> None:
        """An outlined upright bar from ``top`` down to the base: a trunk or a stem."""
        p.outlined([rect(*upright(self.x, half_width, top, self.base))], rgb, width)


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

    def draw(self, p: Painter) -> None:
        w, h = self.body_width, self.body_height
        x0, x1 = self.x - w / 2, self.x + w / 2
        top, base = self.base - h, self.base
        wall, roof = {
            "brick": (PALETTE["house_brick"], PALETTE["roof_brick"]),
            "wood": (PALETTE["house_wood"], PALETTE["roof_wood"]),
            "plain": (PALETTE["house_plain"], PALETTE["roof_plain"]),
        }[self.style]
        body = rect(x0, top, x1, base)
        p.fill([body], wall)
        detail = self.width * 0.5
        if self.style == "brick":
            courses = np.linspace(top, base, 7)[1:-1]
            p.stroke([segment(x0, c, x1, c) for c in courses], detail)
            ticks = []
            for i, (c0, c1) in enumerate(zip(np.r_[top, courses], np.r_[courses, base], strict=True)):
                for fx in np.arange(1, 4) / 4 if i % 2 == 0 else np.arange(1, 4) / 4 - 1 / 8:
                    ticks.append(segment(x0 + fx * w, c0, x0 + fx * w, c1))
            p.stroke(ticks, detail)
        elif self.style == "wood":
            planks = np.linspace(x0, x1, 8)[1:-1]
            p.stroke([segment(px, top, px, base) for px in planks], detail)
        p.stroke([body], self.width, closed=True)

        overhang = w * 0.1
        gable = np.array([(x0 - overhang, top), (self.x, top - self.roof_height), (x1 + overhang, top)])
        p.outlined([gable], roof, self.width)
        if self.style == "plain":
            attic = circle(self.x, top - self.roof_height * 0.4, self.roof_height * 0.2, 24)
            p.outlined([attic], PALETTE["window"], detail)

        door_w, door_h = w * 0.2, h * 0.5
        door_x = x0 + w * 0.28 if self.door_left else x1 - w * 0.28
        p.outlined([rect(*upright(door_x, door_w / 2, base - door_h, base))], PALETTE["door"], self.width)
        p.ink_fill([circle(door_x + door_w * 0.25, base - door_h * 0.45, door_w * 0.08, 12)])

        side = w * 0.18
        other_x = x1 - w * 0.28 if self.door_left else x0 + w * 0.28
        centres = [(other_x, top + h * 0.42)]
        if self.windows == 2:
            centres.append((door_x, top + h * 0.22))
        for cx, cy in centres:
            p.outlined(
                [rect(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)],
                PALETTE["window"],
                self.width,
                shade=0.05,
            )
            p.stroke(
                [
                    segment(cx, cy - side / 2, cx, cy + side / 2),
                    segment(cx - side / 2, cy, cx + side / 2, cy),
                ],
                detail,
            )

    def box(self) -> Box:
        over = self.body_width * 0.1
        return (
            self.x - self.body_width / 2 - over,
            self.base - self.body_height - self.roof_height,
            self.x + self.body_width / 2 + over,
            self.base,
        )


@dataclass(frozen=True)
class PineTree(_Standing):
    tiers: Literal[2, 3]
    width: float

    def _reach(self) -> float:
        return self.height * (0.33 if self.tiers == 2 else 0.22)

    def draw(self, p: Painter) -> None:
        trunk_h = self.height * 0.18
        half = self._reach()
        trunk_w = self.height * 0.07
        self._post(p, trunk_w, self.base - trunk_h, PALETTE["trunk"], self.width)
        color = PALETTE["pine_two_tiers"] if self.tiers == 2 else PALETTE["pine_three_tiers"]
        crown = self.height - trunk_h
        tier_h = crown / (self.tiers * 0.75 + 0.25)
        tiers = []
        for i in range(self.tiers):
            bottom = self.base - trunk_h - i * tier_h * 0.75
            spread = half * (1.0 - 0.22 * i)
            tiers.append(
                np.array([(self.x - spread, bottom), (self.x, bottom - tier_h), (self.x + spread, bottom)])
            )
        p.outlined(tiers, color, self.width)


@dataclass(frozen=True)
class RoundTree(_Standing):
    puffs: tuple[tuple[float, float, float], ...]  # relative to the canopy centre, in heights
    fruit: tuple[tuple[float, float], ...]  # apples (relative); empty means an autumn tree
    width: float

    def _reach(self) -> float:
        return max(max(abs(dx) + r for dx, dy, r in self.puffs), 0.1) * self.height

    def draw(self, p: Painter) -> None:
        h = self.height
        trunk_h, trunk_w = h * 0.4, h * 0.055
        cx, cy = self.x, self.base - h * 0.62
        self._post(p, trunk_w, self.base - trunk_h, PALETTE["trunk"], self.width)
        autumn = not self.fruit
        color = PALETTE["canopy_autumn"] if autumn else PALETTE["canopy_apples"]
        p.outlined_union(
            [circle(cx + dx * h, cy + dy * h, r * h) for dx, dy, r in self.puffs], color, self.width
        )
        if autumn:
            curls = [
                ellipse(cx + dx * h, cy + dy * h, h * 0.05, h * 0.05, start=0.3, end=np.pi * 1.4, points=12)
                for dx, dy in ((-0.12, -0.08), (0.1, -0.12), (0.0, 0.06), (0.15, 0.08), (-0.16, 0.1))
            ]
            p.stroke(curls, self.width * 0.5)
        else:
            apples = [circle(cx + dx * h, cy + dy * h, h * 0.035, 16) for dx, dy in self.fruit]
            p.outlined(apples, PALETTE["apple"], self.width * 0.5, shade=0.0)


@dataclass(frozen=True)
class Flower(_Standing):
    petals: int
    petal_shape: Literal["round", "long"]
    rotation: float
    leaf_side: int
    width: float

    def _reach(self) -> float:
        return self.height * 0.22 * 1.8

    def _top(self) -> float:  # the petals reach a little above the stem's top
        return self.base - self.height - self.height * 0.2

    def draw(self, p: Painter) -> None:
        h = self.height
        head_r = h * 0.22
        hx, hy = self.x, self.base - h + head_r
        stem_w = h * 0.025
        self._post(p, stem_w, hy, PALETTE["stem"], self.width)
        leaf_cx = self.x + self.leaf_side * h * 0.11
        leaf_cy = self.base - h * 0.3
        leaf_angle = -0.5 * self.leaf_side
        p.outlined(
            [ellipse(leaf_cx, leaf_cy, h * 0.11, h * 0.045, angle=leaf_angle, points=24)],
            PALETTE["stem"],
            self.width,
        )
        vein_dx, vein_dy = math.cos(leaf_angle) * h * 0.09, math.sin(leaf_angle) * h * 0.09
        p.stroke(
            [segment(leaf_cx - vein_dx, leaf_cy - vein_dy, leaf_cx + vein_dx, leaf_cy + vein_dy)],
            self.width * 0.5,
        )
        angles = self.rotation + 2 * np.pi * np.arange(self.petals) / self.petals
        if self.petal_shape == "round":
            color = PALETTE["petals_round"]
            shapes = [
                circle(hx + math.cos(a) * head_r * 0.85, hy + math.sin(a) * head_r * 0.85, head_r * 0.5, 24)
                for a in angles
            ]
        else:
            color = PALETTE["petals_long"]
            shapes = [
                ellipse(
                    hx + math.cos(a) * head_r * 0.95,
                    hy + math.sin(a) * head_r * 0.95,
                    head_r * 0.75,
                    head_r * 0.24,
                    angle=a,
                    points=24,
                )
                for a in angles
            ]
        p.outlined(shapes, color, self.width)
        p.outlined([circle(hx, hy, head_r * 0.45, 24)], PALETTE["flower_centre"], self.width)


@dataclass(frozen=True)
class Fish:
    x: float
    y: float
    length: float
    facing: int  # +1 looks right, -1 looks left
    striped: bool
    width: float

    def draw(self, p: Painter) -> None:
        length, f = self.length, self.facing
        color = PALETTE["fish_striped"] if self.striped else PALETTE["fish_plain"]
        back = self.x - f * length * 0.35
        tail = np.array(
            [
                (back + f * length * 0.05, self.y),
                (back - f * length * 0.3, self.y - length * 0.22),
                (back - f * length * 0.3, self.y + length * 0.22),
            ]
        )
        p.outlined([tail], color, self.width, shade=0.0)
        p.outlined([ellipse(self.x, self.y, length * 0.4, length * 0.22, points=32)], color, self.width)
        detail = self.width * 0.6
        if self.striped:
            p.stroke(
                [
                    ellipse(
                        self.x + f * dx * length,
                        self.y,
                        length * 0.08,
                        length * 0.2,
                        start=-np.pi / 2,
                        end=np.pi / 2,
                        points=12,
                    )
                    for dx in (-0.12, 0.12)
                ],
                detail,
            )
        else:
            p.stroke(
                [
                    ellipse(
                        self.x - f * length * 0.05,
                        self.y - length * 0.08,
                        length * 0.16,
                        length * 0.1,
                        start=np.pi * 1.15,
                        end=np.pi * 1.85,
                        points=12,
                    )
                ],
                detail,
            )
        p.ink_fill([circle(self.x + f * length * 0.24, self.y - length * 0.05, length * 0.04, 12)])

    def box(self) -> Box:
        return centred(self.x, self.y, self.length * 0.7, self.length * 0.25)


@dataclass(frozen=True)
class Pond:
    x: float
    y: float
    rx: float
    ry: float
    fish: tuple[Fish, ...]
    width: float

    def draw(self, p: Painter) -> None:
        p.outlined(
            [ellipse(self.x, self.y, self.rx, self.ry, points=64)], PALETTE["water"], self.width, shade=0.06
        )
        waves = [
            ellipse(
                self.x + dx * self.rx,
                self.y + dy * self.ry,
                self.rx * 0.1,
                self.ry * 0.15,
                start=np.pi * 1.1,
                end=np.pi * 1.9,
                points=10,
            )
            for dx, dy in ((-0.6, -0.2), (-0.45, -0.2), (0.5, 0.45), (0.65, 0.45))
        ]
        p.stroke(waves, self.width * 0.5)
        for fish in self.fish:
            fish.draw(p)

    def box(self) -> Box:
        return centred(self.x, self.y, self.rx, self.ry)


@dataclass(frozen=True)
class GrassTuft:
    """Lines only, like birds."""

    x: float
    y: float
    size: float
    width: float

    def draw(self, p: Painter) -> None:
        s = self.size
        p.stroke(
            [
                segment(self.x, self.y, self.x + dx * s, self.y - s * (1.0 - abs(dx) * 0.3))
                for dx in (-0.5, 0.0, 0.5)
            ],
            self.width,
        )

    def box(self) -> Box:
        return upright(self.x, self.size / 2, self.y - self.size, self.y)


@dataclass(frozen=True)
class Pebble:
    x: float
    y: float
    radius: float
    width: float

    def draw(self, p: Painter) -> None:
        p.outlined(
            [ellipse(self.x, self.y, self.radius, self.radius * 0.6, points=20)],
            PALETTE["pebble"],
            self.width,
        )

    def box(self) -> Box:
        return centred(self.x, self.y, self.radius, self.radius)
