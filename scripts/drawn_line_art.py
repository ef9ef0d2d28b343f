"""Hand-drawn-like line art with its flat colours and an artist's dabs, for docs/hints.md.

Real drawings have what emoji lack: strokes that do not meet (gaps of
10-40 px), light pencil lines, small regions (eyes, petals) and shapes the
lines leave open. This draws one such scene at any size from the same
description, so its ground truth (the flats a colourist would paint) is
exact: each shape is filled in its colour first, then the lines are drawn
over it. The dabs are where an artist would put one: one per shape.

    python scripts/drawn_line_art.py OUT_FOLDER [--width 1600 --height 1200]

writes ``sketch.png``, ``truth.png``, ``dabs.png`` (RGBA, the dabs) and
``dabs.txt`` (the same dabs as ``colorize --hint`` arguments).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

# (name, colour, dab point as fractions of the width and height)
SKIN, PINK, BLUE, RED, YELLOW, ORANGE, GREEN, BROWN = (
    (250, 214, 180),
    (240, 150, 170),
    (70, 120, 220),
    (200, 40, 50),
    (250, 210, 60),
    (240, 130, 30),
    (90, 170, 80),
    (130, 80, 50),
)


def _wobbly_ellipse(cx, cy, rx, ry, rng, points=90, wobble=0.03):
    angles = np.linspace(0, 2 * np.pi, points, endpoint=False)
    noise = 1 + wobble * np.sin(angles * rng.integers(3, 6) + rng.uniform(0, 6))
    return np.stack([cx + rx * noise * np.cos(angles), cy + ry * noise * np.sin(angles)], 1)


def draw(width: int, height: int, seed: int = 7):
    """(sketch, truth, dabs): RGB, RGB and a list of (x, y, colour)."""
    rng = np.random.default_rng(seed)
    s = min(width / 1600, height / 1200)
    truth = np.full((height, width, 3), 255, np.uint8)
    lines = np.full((height, width), 255, np.uint8)
    ink, pencil = 20, 150
    thick, thin = max(2, round(6 * s)), max(1, round(3 * s))

    def px(x, y):
        return int(round(x * width)), int(round(y * height))

    def shape(points, colour, line_level, line_width, closed=True):
        polygon = np.rint(points).astype(np.int32)
        cv2.fillPoly(truth, [polygon], colour, cv2.LINE_AA)
        cv2.polylines(lines, [polygon], closed, line_level, line_width, cv2.LINE_AA)

    dabs = []
    # Body (a shirt), open at the bottom: its sides run off the page.
    shirt = np.array([px(0.25, 1.02), px(0.33, 0.62), px(0.67, 0.62), px(0.75, 1.02)], np.float64)
    shape(shirt, RED, ink, thick, closed=False)
    dabs.append((*px(0.5, 0.85), RED))
    # Ears, then the head over them.
    for side in (-1, 1):
        ear = np.array(
            [px(0.5 + side * 0.07, 0.25), px(0.5 + side * 0.17, 0.08), px(0.5 + side * 0.2, 0.33)], float
        )
        shape(ear, PINK, ink, thick)
        dabs.append((*px(0.5 + side * 0.16, 0.2), PINK))
    head = _wobbly_ellipse(0.5 * width, 0.4 * height, 0.17 * width, 0.24 * height, rng)
    shape(head, SKIN, ink, thick)
    dabs.append((*px(0.43, 0.52), SKIN))
    # Eyes: small regions, and pupils.
    for side in (-1, 1):
        eye = _wobbly_ellipse(
            (0.5 + side * 0.06) * width, 0.36 * height, 0.035 * width, 0.05 * height, rng, wobble=0.02
        )
        shape(eye, BLUE, ink, thin)
        pupil = _wobbly_ellipse(
            (0.5 + side * 0.06) * width, 0.37 * height, 0.01 * width, 0.015 * height, rng, wobble=0
        )
        shape(pupil, (20, 20, 20), ink, thin)
    dabs.append((*px(0.44, 0.34), BLUE))
    dabs.append((*px(0.56, 0.34), BLUE))
    # Nose in pencil.
    nose = np.array([px(0.49, 0.45), px(0.51, 0.45), px(0.5, 0.47)], float)
    shape(nose, BROWN, pencil, thin)
    # A flower in grey pencil, on the left: petals round a centre, a stem.
    fx, fy = 0.15 * width, 0.45 * height
    for k in range(6):
        angle = k * np.pi / 3
        petal = _wobbly_ellipse(
            fx + 0.05 * width * np.cos(angle),
            fy + 0.05 * width * np.sin(angle),
            0.03 * width,
            0.03 * width,
            rng,
        )
        shape(petal, YELLOW, pencil, thin)
    centre = _wobbly_ellipse(fx, fy, 0.025 * width, 0.025 * width, rng)
    shape(centre, ORANGE, pencil, thin)
    dabs.append((int(fx + 0.05 * width), int(fy), YELLOW))
    dabs.append((int(fx), int(fy), ORANGE))
    leaf = _wobbly_ellipse(fx + 0.05 * width, fy + 0.22 * height, 0.04 * width, 0.015 * width, rng)
    shape(leaf, GREEN, pencil, thin)
    dabs.append((int(fx + 0.05 * width), int(fy + 0.22 * height), GREEN))
    cv2.line(
        lines, (int(fx), int(fy + 0.09 * width)), (int(fx), int(0.95 * height)), pencil, thin, cv2.LINE_AA
    )
    # Gaps: the pen lifted. Round gaps 12-36 px (at 1600 px) cut at points of the outlines.
    gap_points = [
        (0.5, 0.16),
        (0.665, 0.45),
        (0.34, 0.5),
        (0.6, 0.62),
        (0.4, 0.62),
        (0.1, 0.45),
        (0.15, 0.4),
        (0.59, 0.18),
        (0.6, 0.36),
    ]
    for (gx, gy), size in zip(gap_points, (30, 24, 18, 36, 20, 14, 12, 16, 10), strict=True):
        x, y = px(gx, gy)
        r = max(1, round(size * s / 2))
        near = np.argwhere(lines[max(0, y - 40) : y + 40, max(0, x - 40) : x + 40] < 200)
        if len(near):
            dy, dx = near[np.argmin(np.hypot(near[:, 0] - 40, near[:, 1] - 40))]
            cv2.circle(lines, (max(0, x - 40) + int(dx), max(0, y - 40) + int(dy)), r, 255, -1)
    sketch = cv2.cvtColor(lines, cv2.COLOR_GRAY2RGB)
    dark = lines < 128
    truth[dark] = sketch[dark]
    return sketch, truth, dabs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1200)
    args = parser.parse_args()
    from sketch2color.image_io import encode_rgba, write_rgb
    from sketch2color.inference.user_hints import Dab, default_radius, empty_hints, paint_dab

    sketch, truth, dabs = draw(args.width, args.height)
    args.out.mkdir(parents=True, exist_ok=True)
    write_rgb(sketch, args.out / "sketch.png")
    write_rgb(truth, args.out / "truth.png")
    hints = empty_hints(args.height, args.width)
    for x, y, colour in dabs:
        paint_dab(hints, Dab(x, y, colour), default_radius(args.height, args.width))
    (args.out / "dabs.png").write_bytes(encode_rgba(hints))
    (args.out / "dabs.txt").write_text(
        "".join(f"--hint {x},{y},#{c[0]:02x}{c[1]:02x}{c[2]:02x}\n" for x, y, c in dabs), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
