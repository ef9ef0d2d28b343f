"""Zoom and pan: which part of the picture a view shows, at what scale, and where a click lands.

One :class:`Viewport` is shared by the sketch and the result views, so both
always show the same part of the drawing at the same zoom: a dab placed on
one lands where the other shows it. It is plain arithmetic, with no Tk in
it: screen coordinates are a view's own pixels, image coordinates the
picture's, and ``(centre_x, centre_y)`` is the image point at the middle of
every view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ZOOM_STEP = 1.25
MAX_SCALE = 32.0
"""At most 32 screen pixels per picture pixel: a single pixel is then big enough to hit."""
MIN_SCALE_OF_FIT = 0.25
"""Zooming out stops at a quarter of the size that fits the view."""


@dataclass
class Viewport:
    scale: float = 1.0  # screen pixels per picture pixel
    centre_x: float = 0.0
    centre_y: float = 0.0
    image_width: int = 0
    image_height: int = 0

    def show_image(self, height: int, width: int, view_width: int, view_height: int) -> None:
        """A new picture: remember its size and fit it in the view."""
        self.image_height, self.image_width = height, width
        self.fit(view_width, view_height)

    def fit_scale(self, view_width: int, view_height: int) -> float:
        if not self.image_width or not self.image_height:
            return 1.0
        return min(view_width / self.image_width, view_height / self.image_height)

    def fit(self, view_width: int, view_height: int) -> None:
        """The whole picture in the view, centred."""
        self.scale = self.fit_scale(view_width, view_height)
        self.centre_x, self.centre_y = self.image_width / 2, self.image_height / 2

    def actual_pixels(self) -> None:
        """One screen pixel per picture pixel, around the same centre."""
        self.scale = 1.0

    def zoom_at(self, factor: float, x: float, y: float, view_width: int, view_height: int) -> None:
        """Zoom by ``factor`` keeping the picture point under screen point (x, y) where it is."""
        low = MIN_SCALE_OF_FIT * min(1.0, self.fit_scale(view_width, view_height))
        scale = min(MAX_SCALE, max(low, self.scale * factor))
        image_x, image_y = self.to_image(x, y, view_width, view_height)
        self.scale = scale
        self.centre_x = image_x - (x - view_width / 2) / scale
        self.centre_y = image_y - (y - view_height / 2) / scale

    def pan(self, dx: float, dy: float) -> None:
        """Move the picture by (dx, dy) screen pixels, as a hand dragging it; it never leaves the view
        entirely (its centre stays within the picture)."""
        self.centre_x = min(max(0.0, self.centre_x - dx / self.scale), float(self.image_width))
        self.centre_y = min(max(0.0, self.centre_y - dy / self.scale), float(self.image_height))

    def to_image(self, x: float, y: float, view_width: int, view_height: int) -> tuple[float, float]:
        return (
            (x - view_width / 2) / self.scale + self.centre_x,
            (y - view_height / 2) / self.scale + self.centre_y,
        )

    def to_screen(self, x: float, y: float, view_width: int, view_height: int) -> tuple[float, float]:
        return (
            (x - self.centre_x) * self.scale + view_width / 2,
            (y - self.centre_y) * self.scale + view_height / 2,
        )

    def pixel_at(self, x: float, y: float, view_width: int, view_height: int) -> tuple[int, int] | None:
        """The picture pixel under screen point (x, y), or None off the picture."""
        image_x, image_y = self.to_image(x, y, view_width, view_height)
        column, row = math.floor(image_x), math.floor(image_y)
        if 0 <= column < self.image_width and 0 <= row < self.image_height:
            return column, row
        return None

    def visible(self, view_width: int, view_height: int) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
        """The picture's visible pixels (left, top, right, bottom; empty when none) and the screen
        point where that region's top-left corner is drawn."""
        left, top = self.to_image(0, 0, view_width, view_height)
        right, bottom = self.to_image(view_width, view_height, view_width, view_height)
        left, top = max(0, math.floor(left)), max(0, math.floor(top))
        right = min(self.image_width, math.ceil(right))
        bottom = min(self.image_height, math.ceil(bottom))
        screen_x, screen_y = self.to_screen(left, top, view_width, view_height)
        return (left, top, max(left, right), max(top, bottom)), (round(screen_x), round(screen_y))
