"""The colorize error type, in its own module so every part of the command can raise it."""

from __future__ import annotations

from sketch2color.errors import Sketch2ColorError


class ColorizeError(Sketch2ColorError):
    """A request that cannot be carried out as asked (a bad -o, a bad batch size)."""
