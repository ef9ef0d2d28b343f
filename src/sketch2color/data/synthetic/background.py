"""The background regions: sky above a wavy horizon, grass below it, an optional soil band.

Gradients run by row, so a pixel's colour follows its height and the side of
the drawn lines it lies on: the region lines are cues the model can see.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sketch2color.data.synthetic.painter import Painter
from sketch2color.data.synthetic.palette import PALETTE, RGB


@dataclass(frozen=True)
class Background:
    """Sky above a wavy horizon, grass below it, optionally a soil band at the front."""

    horizon: float
    amplitude: float
    frequency: float
    phase: float
    soil: float | None = None
    soil_amplitude: float = 0.0
    soil_phase: float = 0.0

    def horizon_at(self, x: np.ndarray) -> np.ndarray:
        return self.horizon + self.amplitude * np.sin(2 * np.pi * self.frequency * x + self.phase)

    def soil_at(self, x: np.ndarray) -> np.ndarray:
        assert self.soil is not None
        return self.soil + self.soil_amplitude * np.sin(2 * np.pi * 1.3 * x + self.soil_phase)

    def paint(self, p: Painter) -> None:
        """Gradients run by row from the mean horizon, so a pixel's colour follows its
        height and the side of the drawn lines it lies on."""
        coords = np.arange(p.size, dtype=np.float32) / p.size
        rows = coords[:, None]
        p.color[:] = _lerp(PALETTE["sky_top"], PALETTE["sky_horizon"], np.clip(rows / self.horizon, 0, 1))[
            :, None, :
        ]
        ground = _lerp(
            PALETTE["grass_far"],
            PALETTE["grass_near"],
            np.clip((rows - self.horizon) / (1.0 - self.horizon), 0, 1),
        )
        _paint_below(p.color, coords, self.horizon_at(coords).astype(np.float32), ground)
        if self.soil is not None:
            red, green, blue = PALETTE["soil"]
            dark_soil = (int(red * 0.8), int(green * 0.8), int(blue * 0.8))
            soil = _lerp(PALETTE["soil"], dark_soil, np.clip((rows - self.soil) / 0.12, 0, 1))
            _paint_below(p.color, coords, self.soil_at(coords).astype(np.float32), soil)

    def stroke_lines(self, p: Painter, width: float) -> None:
        xs = np.linspace(-0.02, 1.02, 105)
        p.stroke([np.stack([xs, self.horizon_at(xs)], axis=1)], width)
        if self.soil is not None:
            p.stroke([np.stack([xs, self.soil_at(xs)], axis=1)], width)


def _paint_below(image: np.ndarray, coords: np.ndarray, line: np.ndarray, row_colors: np.ndarray) -> None:
    """Paint each row's colour on every pixel at or below a wavy line.

    Only the narrow band the line wanders through needs a per-pixel choice;
    the rows wholly below it are a plain broadcast copy (the cheap part).
    """
    first_full = int(np.searchsorted(coords, line.max(), side="left"))
    band = slice(int(np.searchsorted(coords, line.min(), side="left")), first_full)
    below = (coords[band, None] >= line[None, :])[..., None]
    image[band] = np.where(below, row_colors[band, None, :], image[band])
    image[first_full:] = row_colors[first_full:, None, :]


def _lerp(a: RGB, b: RGB, t: np.ndarray) -> np.ndarray:
    """Per-row colours (rows x 3, uint8) from a column of blend weights."""
    a_ = np.asarray(a, np.float32)
    b_ = np.asarray(b, np.float32)
    return (a_ + (b_ - a_) * t + 0.5).astype(np.uint8)
