"""The desktop window (the paper's Figure 5, grown for artists): open a sketch, dab colours, colour it, save.

The sketch and its colours sit side by side and zoom and pan together; the
brush and eraser paint dabs of colour (hints) on the sketch, with undo and
redo; Alt-click picks a colour from the sketch, the result or a reference
picture; the result colours again in the background a moment after each
change; the picture saves flat or as layers for a paint program (.ora,
.psd), with the hints beside it. Decoding, colouring and saving go through
the same functions as the ``colorize`` command, so a picture here is the one
the command writes.

* :mod:`.window` - the window: layout, the actions, the mouse and keys;
* :mod:`.canvas` and :mod:`.viewport` - a view that zooms and pans with its twin;
* :mod:`.display` - the pixels a view shows, with the dabs outlined;
* :mod:`.hint_panel` - the tools: brush, eraser, picker, colours, sizes, reference, keys;
* :mod:`.hint_layer` - the dabs over one sketch: strokes, undo and redo, their files;
* :mod:`.shortcuts` - the keys, bound and listed from one table;
* :mod:`.worker` - the thread that owns the model, keeps the open sketch's state and saves.
"""

from __future__ import annotations

import tkinter as tk
from pathlib import Path

from sketch2color.errors import Sketch2ColorError
from sketch2color.gui.window import ColorizerApp

__all__ = ["ColorizerApp", "open_window", "run_gui"]


def open_window(screen: str | None = None) -> tk.Tk:
    """A Tk root on ``screen`` (default: $DISPLAY), or a clear error when there is no display."""
    try:
        return tk.Tk(screenName=screen, className="sketch2color")
    except tk.TclError as exc:
        raise Sketch2ColorError(
            f"cannot open a window ({exc}); on a machine without a screen run it under a virtual "
            "display, e.g. `xvfb-run sketch2color gui`"
        ) from None


def run_gui(model: str | Path | None = None) -> int:
    """``sketch2color gui``: open the window and run until it is closed."""
    root = open_window()
    ColorizerApp(root, model)
    root.mainloop()
    return 0
