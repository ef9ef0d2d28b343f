"""The side panel of hint tools: brush, eraser and picker, the colour and recent colours, the brush size,
the fill's gap, undo and redo, the reference picture to pick from, and the list of shortcuts.

The panel holds the tools' state (which tool, which colour, how big) and
calls the window for everything that changes the hints or the picture, so
the window stays the one place that knows the sketch.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from functools import partial
from tkinter import ttk

import numpy as np

from sketch2color.gui.canvas import ImageView
from sketch2color.gui.display import hex_color
from sketch2color.gui.shortcuts import SHORTCUTS
from sketch2color.gui.viewport import Viewport

DEFAULT_COLOR = (210, 47, 39)
DEFAULT_BRUSH_PX = 16
BRUSH_LIMITS = (2, 300)
RECENT_COLORS = 10
SWATCH_PX = 16
REFERENCE_SIZE = (176, 100)
GAP_LIMITS = (1, 400)
"""The Gap control's range, in sketch pixels (the default is 16 px per 512 px of the sketch)."""


class RecentColors:
    """The colours used last, newest first, each once."""

    def __init__(self, size: int = RECENT_COLORS) -> None:
        self.size = size
        self.colors: list[tuple[int, int, int]] = []

    def use(self, color: tuple[int, int, int]) -> bool:
        """Put ``color`` first; True when the row changed."""
        if self.colors and self.colors[0] == color:
            return False
        if color in self.colors:
            self.colors.remove(color)
        self.colors.insert(0, color)
        del self.colors[self.size :]
        return True


class HintPanel(ttk.Frame):
    def __init__(
        self,
        master: tk.Misc,
        *,
        on_undo: Callable[[], None],
        on_redo: Callable[[], None],
        on_clear: Callable[[], None],
        on_choose_color: Callable[[], None],
        on_open_reference: Callable[[], None],
        on_pick_reference: Callable[[int, int], object],
        on_gap_changed: Callable[[], None],
        gap_default: int,
    ) -> None:
        super().__init__(master, padding=(0, 0, 8, 0))
        self.tool = tk.StringVar(master=self, value="brush")
        self.brush = tk.IntVar(master=self, value=DEFAULT_BRUSH_PX)
        self.color: tuple[int, int, int] = DEFAULT_COLOR
        self.recent = RecentColors()
        self.reference: np.ndarray | None = None

        tools = ttk.Frame(self)
        tools.pack(fill=tk.X)
        self.tool_buttons = {}
        for value, label in (("brush", "Brush"), ("eraser", "Eraser"), ("pick", "Pick")):
            button = ttk.Radiobutton(tools, text=label, value=value, variable=self.tool, style="Toolbutton")
            button.pack(side=tk.LEFT, expand=True, fill=tk.X)
            self.tool_buttons[value] = button

        color_row = ttk.Frame(self)
        color_row.pack(fill=tk.X, pady=(6, 0))
        self.swatch = tk.Label(color_row, width=4, relief=tk.SUNKEN, bg=hex_color(self.color))
        self.swatch.pack(side=tk.LEFT, fill=tk.Y)
        self.color_button = ttk.Button(color_row, text="Colour…", command=on_choose_color)
        self.color_button.pack(side=tk.LEFT, padx=(4, 0), expand=True, fill=tk.X)
        self.recent_row = tk.Frame(self)
        self.recent_row.pack(fill=tk.X, pady=(4, 0))
        self.recent_swatches: list[tk.Label] = []
        self._show_recent()

        size_row = ttk.Frame(self)
        size_row.pack(fill=tk.X, pady=(6, 0))
        ttk.Label(size_row, text="Brush px").pack(side=tk.LEFT)
        self.brush_box = ttk.Spinbox(
            size_row, from_=BRUSH_LIMITS[0], to=BRUSH_LIMITS[1], width=5, textvariable=self.brush
        )
        self.brush_box.pack(side=tk.RIGHT)
        # The fill's gap: how wide a gap in an outline a dab's fill still closes, in sketch pixels.
        # Each opened sketch sets it to the inference layer's default for its size.
        gap_row = ttk.Frame(self)
        gap_row.pack(fill=tk.X, pady=(4, 0))
        ttk.Label(gap_row, text="Gap px").pack(side=tk.LEFT)
        self.gap = tk.IntVar(master=self, value=gap_default)
        self.gap_box = ttk.Spinbox(
            gap_row,
            from_=GAP_LIMITS[0],
            to=GAP_LIMITS[1],
            width=5,
            textvariable=self.gap,
            command=on_gap_changed,
        )
        self.gap_box.pack(side=tk.RIGHT)
        self.gap_box.bind("<Return>", lambda _event: on_gap_changed())
        self.gap_box.bind("<FocusOut>", lambda _event: on_gap_changed())

        history = ttk.Frame(self)
        history.pack(fill=tk.X, pady=(6, 0))
        self.undo_button = ttk.Button(history, text="Undo", width=5, command=on_undo)
        self.redo_button = ttk.Button(history, text="Redo", width=5, command=on_redo)
        self.clear_button = ttk.Button(history, text="Clear", width=5, command=on_clear)
        for history_button in (self.undo_button, self.redo_button, self.clear_button):
            history_button.pack(side=tk.LEFT, expand=True, fill=tk.X)

        reference = ttk.LabelFrame(self, text="Reference", padding=2)
        reference.pack(fill=tk.X, pady=(6, 0))
        self.reference_view = ImageView(
            reference,
            Viewport(),
            lambda: self.reference,
            placeholder="Open a picture\nto pick from",
        )
        self.reference_view.configure(width=REFERENCE_SIZE[0], height=REFERENCE_SIZE[1])
        self.reference_view.pack(fill=tk.X)
        self.reference_view.bind("<Configure>", lambda _e: self._fit_reference(), add=False)
        for sequence in ("<Button-1>", "<Alt-Button-1>"):
            self.reference_view.bind(sequence, lambda e: self._pick_reference(e, on_pick_reference))
        ttk.Button(reference, text="Open reference…", command=on_open_reference).pack(fill=tk.X)

        keys = ttk.LabelFrame(self, text="Keys", padding=2)
        keys.pack(fill=tk.X, pady=(6, 0))
        small = ("TkDefaultFont", 8)
        for row, shortcut in enumerate(SHORTCUTS):
            ttk.Label(keys, text=shortcut.keys, font=small).grid(row=row, column=0, sticky=tk.W)
            ttk.Label(keys, text=shortcut.does, font=small, foreground="#505050").grid(
                row=row, column=1, sticky=tk.W, padx=(6, 0)
            )

    def brush_px(self) -> int:
        """The brush's diameter on screen."""
        try:
            return max(BRUSH_LIMITS[0], int(self.brush.get()))
        except (tk.TclError, ValueError):  # the box is being edited
            return BRUSH_LIMITS[0]

    def resize_brush(self, grow: bool) -> None:
        """A step of about a fifth bigger or smaller, at least a pixel."""
        size = round(self.brush_px() * (1.25 if grow else 0.8)) + (1 if grow else -1)
        self.brush.set(min(BRUSH_LIMITS[1], max(BRUSH_LIMITS[0], size)))

    # ------------------------------------------------------------ colour

    def set_color(self, color) -> None:
        red, green, blue = (int(c) for c in tuple(color)[:3])
        self.color = (red, green, blue)
        self.swatch.configure(bg=hex_color(self.color))

    def _choose_recent(self, color: tuple[int, int, int], _event: tk.Event) -> None:
        self.set_color(color)

    def use_color(self) -> None:
        """The current colour was just painted with: it joins the recent colours."""
        if self.recent.use(self.color):
            self._show_recent()

    def _show_recent(self) -> None:
        for swatch in self.recent_swatches:
            swatch.destroy()
        self.recent_swatches = []
        for color in self.recent.colors:
            swatch = tk.Label(self.recent_row, width=2, bg=hex_color(color), relief=tk.RAISED, bd=1)
            swatch.pack(side=tk.LEFT, padx=(0, 1))
            swatch.bind("<Button-1>", partial(self._choose_recent, color))
            self.recent_swatches.append(swatch)
        if not self.recent.colors:
            label = tk.Label(self.recent_row, text="recent colours", fg="#909090")
            label.pack(side=tk.LEFT)
            self.recent_swatches.append(label)

    # ------------------------------------------------------------ reference

    def show_reference(self, picture: np.ndarray) -> None:
        self.reference = picture
        self._fit_reference()

    def _fit_reference(self) -> None:
        view = self.reference_view
        if self.reference is not None:
            height, width = self.reference.shape[:2]
            view.viewport.show_image(height, width, *view.view_size)
        view.redraw()

    def _pick_reference(self, event: tk.Event, pick: Callable[[int, int], object]) -> None:
        pixel = self.reference_view.pixel_at(event.x, event.y)
        if pixel is not None:
            pick(*pixel)
