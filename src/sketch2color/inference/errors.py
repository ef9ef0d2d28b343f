"""The inference layer's errors and how it reports what it skipped."""

from __future__ import annotations

from collections.abc import Callable

from sketch2color.errors import Sketch2ColorError

# Where notes go: stderr above the progress bar for the command, the status bar for the GUI.
Report = Callable[[str], None]


class ModelLoadError(Sketch2ColorError):
    """A model file that is missing, unreadable or refused as unsafe."""


class NoModelFound(ModelLoadError):
    """No model where one was looked for (as opposed to one that is there and cannot be used)."""


class InferenceError(Sketch2ColorError):
    """A request the loaded model cannot carry out (a bad mode for a format, a wrong output)."""
