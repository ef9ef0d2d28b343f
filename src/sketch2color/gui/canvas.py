"""A view of a picture that zooms and pans with its twin, and shows the brush where the pointer is.

The sketch and the result are each an :class:`ImageView`; both draw through
one shared :class:`~sketch2color.gui.viewport.Viewport`. The brush cursor is
a circle of the brush's real size on screen (a dark and a light ring, so it
shows on paper and on lines alike; dashed for the eraser). What a click
does is the window's business: a view only says which picture pixel is
under the pointer.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable

import numpy as np

from sketch2color.gui.display import BACKGROUND, hex_color, photo_from_rgb, render_view
from sketch2color.gui.viewport import Viewport

PLACEHOLDER_COLOR = "#808080"


class ImageView(tk.Canvas):
    def __init__(
        self,
        master: tk.Misc,
        viewport: Viewport,
        picture: Callable[[], np.ndarray | None],
        hints: Callable[[], np.ndarray | None] = lambda: None,
        placeholder: str = "",
    ) -> None:
        super().__init__(
            master, background=hex_color(BACKGROUND), highlightthickness=0, width=200, height=200
        )
        self.viewport = viewport
        self._picture, self._hints = picture, hints
        self.placeholder = placeholder
        self.photo: tk.PhotoImage | None = None  # kept: Tk shows nothing once Python drops the image
        self.shown: np.ndarray | None = None  # the view's pixels as last drawn
        self._image_item = self.create_image(0, 0, anchor=tk.NW)
        self._text_item = self.create_text(0, 0, text=placeholder, fill=PLACEHOLDER_COLOR)
        self._cursor = (
            self.create_oval(0, 0, 0, 0, outline="#ffffff", width=3, state=tk.HIDDEN),
            self.create_oval(0, 0, 0, 0, outline="#202020", width=1, state=tk.HIDDEN),
        )
        self.bind("<Configure>", lambda _e: self.redraw())

    @property
    def view_size(self) -> tuple[int, int]:
        return max(1, self.winfo_width()), max(1, self.winfo_height())

    def redraw(self) -> None:
        width, height = self.view_size
        picture = self._picture()
        self.coords(self._text_item, width / 2, height / 2)
        if picture is None:
            self.itemconfigure(self._image_item, image="")
            self.itemconfigure(self._text_item, text=self.placeholder, state=tk.NORMAL)
            self.photo = self.shown = None
            return
        self.itemconfigure(self._text_item, state=tk.HIDDEN)
        self.shown = render_view(picture, self.viewport, width, height, self._hints())
        self.photo = photo_from_rgb(self, self.shown)
        self.itemconfigure(self._image_item, image=self.photo)

    def pixel_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The picture pixel under view point (x, y), or None off the picture."""
        return self.viewport.pixel_at(x, y, *self.view_size)

    def screen_point(self, column: float, row: float) -> tuple[float, float]:
        """Where picture pixel (column, row)'s centre is in this view."""
        return self.viewport.to_screen(column + 0.5, row + 0.5, *self.view_size)

    def show_cursor(self, x: float, y: float, diameter: float, eraser: bool) -> None:
        radius = max(1.0, diameter / 2)
        dash = (3, 3) if eraser else ()
        for ring in self._cursor:
            self.coords(ring, x - radius, y - radius, x + radius, y + radius)
            self.itemconfigure(ring, state=tk.NORMAL, dash=dash)
            self.tag_raise(ring)

    def hide_cursor(self) -> None:
        for ring in self._cursor:
            self.itemconfigure(ring, state=tk.HIDDEN)
