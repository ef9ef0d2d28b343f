"""The window's keyboard and mouse shortcuts: one table, bound and listed in the window from here.

Each row is one line of the list in the window. Its key sequences are bound
on the window and call the row's handler with the window and the key event
(a handler tells the keys of its row apart by ``event.keysym``); a row with
no sequences is a mouse gesture (:mod:`sketch2color.gui.mouse`), listed only.
"""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from tkinter import ttk
from typing import TYPE_CHECKING

from sketch2color.gui import dialogs
from sketch2color.gui.viewport import ZOOM_STEP

if TYPE_CHECKING:
    from sketch2color.gui.window import ColorizerApp

Handler = Callable[["ColorizerApp", tk.Event], None]
TYPING_WIDGETS = (tk.Entry, ttk.Entry, ttk.Spinbox)
CONTROL = 0x4
SHIFT = 0x1


def _tool(app: ColorizerApp, event: tk.Event) -> None:
    app.panel.tool.set({"b": "brush", "e": "eraser", "i": "pick"}[event.keysym.lower()])


def _brush_size(app: ColorizerApp, event: tk.Event) -> None:
    app.panel.resize_brush(grow=event.keysym == "bracketright")


def _zoom(app: ColorizerApp, event: tk.Event) -> None:
    if event.keysym == "0":
        app.fit_view()
    elif event.keysym == "1":
        app.actual_pixels()
    else:
        app.zoom(ZOOM_STEP if event.keysym in ("plus", "equal", "KP_Add") else 1 / ZOOM_STEP)


def _history(app: ColorizerApp, event: tk.Event) -> None:
    redo = event.keysym in ("Z", "y") or bool(int(event.state) & SHIFT)
    app.redo_hint() if redo else app.undo_hint()


def _files(app: ColorizerApp, event: tk.Event) -> None:
    {"o": dialogs.open_sketch, "s": dialogs.save_result, "h": dialogs.save_hints}[event.keysym.lower()](app)


@dataclass(frozen=True)
class Shortcut:
    keys: str  # as the window lists it
    does: str
    sequences: tuple[str, ...] = ()
    handler: Handler | None = None


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("B  E  I", "brush, eraser, picker", ("<Key-b>", "<Key-e>", "<Key-i>"), _tool),
    Shortcut("Alt+click", "pick a colour"),
    Shortcut("[  ]", "brush size", ("<bracketleft>", "<bracketright>"), _brush_size),
    Shortcut(
        "wheel + - 0 1",
        "zoom, fit, 100%",
        ("<plus>", "<equal>", "<minus>", "<KP_Add>", "<KP_Subtract>", "<Key-0>", "<Key-1>"),
        _zoom,
    ),
    Shortcut("Space+drag", "pan (or middle drag)"),
    Shortcut("Ctrl+Z  Ctrl+Y", "undo, redo", ("<Control-z>", "<Control-Z>", "<Control-y>"), _history),
    Shortcut("Enter", "colourise", ("<Return>", "<KP_Enter>"), lambda app, _e: app.colorize()),
    Shortcut("Ctrl+O S H", "open, save, save hints", ("<Control-o>", "<Control-s>", "<Control-h>"), _files),
)


def bind_shortcuts(app: ColorizerApp) -> None:
    """Bind every row's keys on the window; unmodified keys typed into a box stay in the box."""

    def call(handler: Handler, event: tk.Event) -> None:
        if isinstance(event.widget, TYPING_WIDGETS) and not int(event.state) & CONTROL:
            return
        handler(app, event)

    for shortcut in SHORTCUTS:
        if shortcut.handler is None:
            continue
        for sequence in shortcut.sequences:
            app.root.bind(sequence, partial(call, shortcut.handler))
