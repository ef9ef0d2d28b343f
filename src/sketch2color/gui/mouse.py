"""The mouse on the views: paint or erase with the left button, Alt-click to pick, pan with Space+drag or
the middle button, zoom with the wheel around the pointer, and the brush cursor that follows it.

What a gesture does to the hints, the colour or the zoom is the window's
(:class:`~sketch2color.gui.window.ColorizerApp`); this module turns the
events of a view into those calls, and keeps the little state a gesture
needs: whether a drag paints or pans, and whether Space is held.
"""

from __future__ import annotations

import math
import tkinter as tk
from tkinter import ttk
from typing import TYPE_CHECKING

from sketch2color.gui.canvas import ImageView
from sketch2color.gui.viewport import ZOOM_STEP

if TYPE_CHECKING:
    from sketch2color.gui.window import ColorizerApp

SPACE_RELEASE_MS = 60
"""X repeats a held key as release-press pairs: a release counts only with no press this soon after."""
FOCUS_TAKERS = (tk.Entry, ttk.Entry, ttk.Spinbox, ttk.Button, ttk.Checkbutton, ttk.Radiobutton)


class ViewControls:
    def __init__(self, app: ColorizerApp) -> None:
        self.app = app
        self._drag: tuple[str, float, float] | None = None  # ("paint" | "pan", x, y) of the last event
        self.space_down = False
        self._space_release: str | None = None
        app.root.bind("<KeyPress-space>", self._space_pressed)
        app.root.bind("<KeyRelease-space>", self._space_released)

    def attach(self, view: ImageView, source: str) -> None:
        """Bind ``view``'s mouse; ``source`` names its picture for picking ("sketch" or "result")."""
        view.bind("<ButtonPress-1>", lambda e: self._press(view, source, e))
        view.bind("<B1-Motion>", lambda e: self._drag_to(view, e))
        view.bind("<ButtonRelease-1>", lambda _e: self._release())
        view.bind("<Alt-ButtonPress-1>", lambda e: self._pick(view, source, e))
        view.bind("<ButtonPress-2>", lambda e: self._start_pan(e))
        view.bind("<B2-Motion>", lambda e: self._pan_to(e))
        view.bind("<ButtonRelease-2>", lambda _e: self._release())
        view.bind("<Button-4>", lambda e: self.app.zoom(ZOOM_STEP, view, e.x, e.y))  # X11: wheel up
        view.bind("<Button-5>", lambda e: self.app.zoom(1 / ZOOM_STEP, view, e.x, e.y))
        view.bind(
            "<MouseWheel>", lambda e: self.app.zoom(ZOOM_STEP ** (1 if e.delta > 0 else -1), view, e.x, e.y)
        )
        view.bind("<Motion>", lambda e: self.show_cursor(view, e.x, e.y))
        view.bind("<Leave>", lambda _e: view.hide_cursor())

    def show_cursor(self, view: ImageView, x: float, y: float) -> None:
        tool = self.app.panel.tool.get()
        if self.app.sketch is None or tool == "pick" or self.space_down:
            view.hide_cursor()
        else:
            view.show_cursor(x, y, self.app.brush_px(), eraser=tool == "eraser")

    # ------------------------------------------------------------ buttons

    def _press(self, view: ImageView, source: str, event) -> None:
        view.focus_set()  # keys now go to the window, not to a button or the brush box
        if self.space_down:
            self._start_pan(event)
            return
        pixel = view.pixel_at(event.x, event.y)
        if pixel is None:
            return
        if self.app.panel.tool.get() == "pick":
            self.app.pick_color(source, *pixel)
            return
        self._drag = ("paint", event.x, event.y)
        self.app.paint_at(*pixel, start=True)

    def _drag_to(self, view: ImageView, event) -> None:
        self.show_cursor(view, event.x, event.y)
        if self._drag is None:
            return
        if self._drag[0] == "pan":
            self._pan_to(event)
            return
        x, y = view.viewport.to_image(event.x, event.y, *view.view_size)
        self.app.paint_at(math.floor(x), math.floor(y), start=False)  # off the picture: clipped there

    def _release(self) -> None:
        painted = self._drag is not None and self._drag[0] == "paint"
        self._drag = None
        if painted:
            self.app.stroke_done()

    def _pick(self, view: ImageView, source: str, event) -> None:
        pixel = view.pixel_at(event.x, event.y)
        if pixel is not None:
            self.app.pick_color(source, *pixel)

    def _start_pan(self, event) -> None:
        self._drag = ("pan", event.x, event.y)

    def _pan_to(self, event) -> None:
        if self._drag is None or self._drag[0] != "pan":
            return
        _, x, y = self._drag
        self._drag = ("pan", event.x, event.y)
        self.app.pan(event.x - x, event.y - y)

    # ------------------------------------------------------------ Space held

    def _space_pressed(self, event) -> None:
        if isinstance(event.widget, FOCUS_TAKERS):  # Space presses a focused button or types a space
            return
        if self._space_release is not None:  # a key repeat, not a new press
            self.app.root.after_cancel(self._space_release)
            self._space_release = None
        self.space_down = True

    def _space_released(self, _event) -> None:
        def release() -> None:
            self.space_down, self._space_release = False, None

        self._space_release = self.app.root.after(SPACE_RELEASE_MS, release)
