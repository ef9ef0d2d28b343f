"""Scene planning: every random choice of a pair, made once in unit coordinates.

All randomness of a pair is spent here, before anything is drawn, so a
scene is a plain value: drawing it at any size gives the same picture, and
the placement rules (objects kept apart, the sky above the horizon, ground
objects ordered back to front) live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sketch2color.data.synthetic.background import Background
from sketch2color.data.synthetic.geometry import Box
from sketch2color.data.synthetic.ground import (
    Fish,
    Flower,
    GrassTuft,
    House,
    Pebble,
    PineTree,
    Pond,
    RoundTree,
)
from sketch2color.data.synthetic.sky import Bird, Cloud, Mountain, Star, Sun

SceneObject = (
    Sun | Star | Cloud | Bird | Mountain | House | PineTree | RoundTree | Flower | Pond | GrassTuft | Pebble
)


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
            if (
                box[1] > 0.01
                and box[3] <= sky_floor
                and box[0] > -0.05
                and box[2] < 1.05
                and _fits(box, sky_boxes, limit)
            ):
                sky.append(obj)
                sky_boxes.append(box)
                return

    if rng.random() < 0.75:
        place_sky(
            lambda: Sun(
                x=float(rng.uniform(0.12, 0.88)),
                y=float(rng.uniform(0.1, 0.25)),
                radius=float(rng.uniform(0.055, 0.085)),
                rays=("straight", "triangle")[int(rng.integers(2))],
                ray_count=int(rng.integers(8, 13)),
                rotation=float(rng.uniform(0, np.pi)),
                face=bool(rng.random() < 0.5),
                width=stroke_width(),
            )
        )
    for _ in range(int(rng.integers(0, 4))):
        place_sky(
            lambda: Star(
                x=float(rng.uniform(0.05, 0.95)),
                y=float(rng.uniform(0.05, 0.3)),
                radius=float(rng.uniform(0.03, 0.05)),
                rotation=float(rng.uniform(-0.3, 0.3)),
                width=stroke_width(),
            )
        )
    for _ in range(int(rng.integers(1, 4))):
        place_sky(lambda: _plan_cloud(rng, stroke_width()), limit=0.12)
    for _ in range(int(rng.integers(0, 4))):
        place_sky(
            lambda: Bird(
                x=float(rng.uniform(0.05, 0.95)),
                y=float(rng.uniform(0.05, 0.35)),
                span=float(rng.uniform(0.025, 0.045)),
                width=stroke_width(),
            ),
            limit=0.0,
        )

    mountains = []
    if rng.random() < 0.5:
        for _ in range(int(rng.integers(1, 3))):
            peak_x = float(rng.uniform(0.1, 0.9))
            half = float(rng.uniform(0.15, 0.3))
            mountains.append(
                Mountain(
                    left=peak_x - half * float(rng.uniform(0.8, 1.2)),
                    peak_x=peak_x,
                    peak_y=background.horizon - float(rng.uniform(0.13, 0.24)),
                    right=peak_x + half * float(rng.uniform(0.8, 1.2)),
                    snow=float(rng.uniform(0.25, 0.4)),
                    background=background,
                    width=stroke_width(),
                )
            )
    # the sun and clouds may sit behind a mountain; drop only sky objects that a
    # mountain would hide almost entirely, so no cue is left without its colour
    sky = [
        obj
        for obj in sky
        if all(_overlap(obj.box(), m.box()) < 0.6 for m in mountains) or isinstance(obj, Bird)
    ]

    ground = _plan_ground(rng, background, stroke_width)
    return Scene(
        background=background,
        ink=ink,
        width=stroke_width(),
        sky=tuple(sky),
        mountains=tuple(mountains),
        ground=tuple(ground),
    )


def _plan_cloud(rng: np.random.Generator, width: float) -> Cloud:
    x = float(rng.uniform(0.1, 0.9))
    y = float(rng.uniform(0.1, 0.3))
    size = float(rng.uniform(0.045, 0.07))
    count = int(rng.integers(3, 6))
    xs = x + (np.arange(count) - (count - 1) / 2) * size * 1.1
    puffs = [
        (float(px), y + float(rng.uniform(-0.1, 0.1)) * size, size * float(rng.uniform(0.8, 1.1)))
        for px in xs
    ]
    for _ in range(int(rng.integers(1, 3))):
        puffs.append(
            (
                x + float(rng.uniform(-0.5, 0.5)) * size * count * 0.4,
                y - size * float(rng.uniform(0.6, 0.9)),
                size * float(rng.uniform(0.9, 1.2)),
            )
        )
    return Cloud(puffs=tuple(puffs), rain=bool(rng.random() < 0.4), width=width)


def _plan_ground(
    rng: np.random.Generator, bg: Background, stroke_width: Callable[[], float]
) -> list[SceneObject]:
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
            fish.append(
                Fish(
                    x=fx,
                    y=y + float(rng.uniform(-0.1, 0.1)) * ry,
                    length=length,
                    facing=int(rng.choice([-1, 1])),
                    striped=bool(rng.random() < 0.5),
                    width=stroke_width(),
                )
            )
        return Pond(x=x, y=y, rx=rx, ry=ry, fish=tuple(fish), width=stroke_width()), y - ry

    def make_house():
        base = float(rng.uniform(top + 0.05, 0.82))
        s = depth_scale(base)
        w = float(rng.uniform(0.2, 0.28)) * s
        return House(
            x=float(rng.uniform(0.05, 0.95)),
            base=base,
            body_width=w,
            body_height=w * float(rng.uniform(0.65, 0.85)),
            roof_height=w * float(rng.uniform(0.35, 0.5)),
            style=("brick", "wood", "plain")[int(rng.integers(3))],
            windows=int(rng.integers(1, 3)),
            door_left=bool(rng.random() < 0.5),
            width=stroke_width(),
        ), base

    def make_pine():
        base = float(rng.uniform(top + 0.03, 0.88))
        return PineTree(
            x=float(rng.uniform(0.05, 0.95)),
            base=base,
            height=float(rng.uniform(0.24, 0.32)) * depth_scale(base),
            tiers=(2, 3)[int(rng.integers(2))],
            width=stroke_width(),
        ), base

    def make_round_tree():
        base = float(rng.uniform(top + 0.03, 0.88))
        puffs = [(0.0, 0.0, 0.2)] + [
            (float(np.cos(a)) * 0.15, float(np.sin(a)) * 0.11 - 0.02, float(rng.uniform(0.11, 0.14)))
            for a in np.linspace(0, 2 * np.pi, int(rng.integers(4, 7)), endpoint=False) + rng.uniform(0, 1)
        ]
        fruit: tuple[tuple[float, float], ...] = ()
        if rng.random() < 0.5:
            fruit = tuple(
                (float(rng.uniform(-0.2, 0.2)), float(rng.uniform(-0.12, 0.12)))
                for _ in range(int(rng.integers(3, 6)))
            )
        return RoundTree(
            x=float(rng.uniform(0.05, 0.95)),
            base=base,
            height=float(rng.uniform(0.26, 0.34)) * depth_scale(base),
            puffs=tuple(puffs),
            fruit=fruit,
            width=stroke_width(),
        ), base

    def make_flower():
        base = float(rng.uniform(0.84, 0.98))
        return Flower(
            x=float(rng.uniform(0.05, 0.95)),
            base=base,
            height=float(rng.uniform(0.13, 0.18)),
            petals=int(rng.integers(5, 8)),
            petal_shape=("round", "long")[int(rng.integers(2))],
            rotation=float(rng.uniform(0, np.pi)),
            leaf_side=int(rng.choice([-1, 1])),
            width=stroke_width(),
        ), base

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
        tuft = GrassTuft(
            x=float(rng.uniform(0.03, 0.97)),
            y=y,
            size=float(rng.uniform(0.02, 0.035)),
            width=stroke_width() * 0.6,
        )
        if _fits(tuft.box(), boxes, 0.0):
            decorations.append((y - 1.0, tuft))  # always behind real objects
    if bg.soil is not None:
        for _ in range(int(rng.integers(2, 7))):
            y = float(rng.uniform(bg.soil + 0.03, 0.99))
            pebble = Pebble(
                x=float(rng.uniform(0.03, 0.97)),
                y=y,
                radius=float(rng.uniform(0.012, 0.022)),
                width=stroke_width() * 0.7,
            )
            if _fits(pebble.box(), boxes, 0.0):
                decorations.append((y - 1.0, pebble))
    ordered = sorted(decorations + placed, key=lambda item: item[0])
    return [obj for _, obj in ordered]
