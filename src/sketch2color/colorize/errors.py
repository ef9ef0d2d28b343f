"""The colorize error type, in its own module so every part of the package can raise it."""

from __future__ import annotations

from collections.abc import Callable

from sketch2color.errors import Sketch2ColorError

# Where notes and per-file problems go: stderr above the progress bar for the
# command, the status bar for the GUI.
Report = Callable[[str], None]


class ColorizeError(Sketch2ColorError):
    """A request that cannot be carried out as asked (bad -o, bad mode for a format)."""
