"""The GUI's worker thread: it owns the model, keeps what it knows about the open sketch, and saves files.

Loading, colouring and saving run here, one task at a time, off the Tk
thread; results go back through a queue that the window polls, so the
window keeps redrawing while the generator runs and Tk is only ever touched
from its own thread.

What the worker keeps for the open sketch between dabs is a
:class:`Recolorer`, made for each sketch by a factory the worker is given.
The default, :class:`ModelRecolorer`, redoes only what a change needs: the
sketch's regions (:mod:`sketch2color.inference.regions`) depend on the gap
alone, and the model's colour, spread under the lines, on the dabs only for
a model trained with hints; a dab on any other model costs the fill alone.
For a hint model the worker first sends a first look (the new dabs filled
over the model's colour for the previous ones), then the model's answer
(``make bench``'s ``recolour`` section measures both).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from sketch2color.errors import Sketch2ColorError
from sketch2color.inference.backends import Backend
from sketch2color.inference.colorizer import color_sketches
from sketch2color.inference.compose import DEFAULT_FILL, Layers, fill_layers, spread_color
from sketch2color.inference.fill import FloodCache
from sketch2color.inference.regions import Regions, find_regions
from sketch2color.inference.selection import Settings
from sketch2color.paths import ProjectPaths


@dataclass(frozen=True)
class Recolored:
    """One state of the hints coloured: the line-faithful picture's layers, and the stretched square."""

    layers: Layers
    stretched: np.ndarray


class Recolorer(Protocol):
    """What the worker keeps for one open sketch between dabs."""

    def recolor(self, hints: np.ndarray | None, version: int, gap: int | None) -> Recolored:
        """The sketch coloured with ``hints`` (RGBA at its size, or None); ``version`` names this state
        of the hints (the same version is the same hints); ``gap`` is the fill's gap setting in sketch
        pixels, or None for the inference layer's default."""
        ...


RecolorerFactory = Callable[[Backend, np.ndarray], Recolorer]


class ModelRecolorer:
    """Keeps the sketch's regions (per gap), the model's spread colour (per state of the hints the model
    saw) and the background dabs' floods between dabs, and the last answer."""

    def __init__(self, backend: Backend, sketch: np.ndarray) -> None:
        self.backend, self.sketch = backend, sketch
        self._last: tuple[tuple[int, int | None], Recolored] | None = None
        self._regions: tuple[int | None, Regions] | None = None
        # (the hints version the model saw, the stretched square, the spread colour)
        self._model: tuple[int, np.ndarray, np.ndarray] | None = None
        self._floods: FloodCache = {}  # the background dabs' floods, for these regions and this colour

    def first_look(self, hints: np.ndarray | None, version: int, gap: int | None) -> Recolored | None:
        # Only a hint model recolours its square for a dab (0.3-0.5 s at 2048 px with the spread); its
        # previous colour with the new dab filled shows the dab at once, the model's answer follows.
        if not self.backend.takes_hints or self._model is None or self._regions is None:
            return None
        if self._regions[0] != gap or self._model[0] == version:
            return None
        _, stretched, spread = self._model
        layers = fill_layers(self.sketch, self._regions[1], spread, hints, DEFAULT_FILL.rule, self._floods)
        return Recolored(layers, stretched)

    def recolor(self, hints: np.ndarray | None, version: int, gap: int | None) -> Recolored:
        if self._last is not None and self._last[0] == (version, gap):
            return self._last[1]
        if self._regions is None or self._regions[0] != gap:
            self._regions = (gap, find_regions(self.sketch, gap, DEFAULT_FILL.line_darkness))
            self._model = None  # the spread colour lives at the regions' working size
        regions = self._regions[1]
        seen = version if self.backend.takes_hints else 0  # a model without hints never sees them
        if self._model is None or self._model[0] != seen:
            given = hints if self.backend.takes_hints else None
            colored = color_sketches(self.backend, [self.sketch], [given])[0]
            self._model = (seen, colored.picture("raw"), spread_color(regions.sketch, colored.color))
            self._floods = {}  # they follow the model's colour
        _, stretched, spread = self._model
        layers = fill_layers(self.sketch, regions, spread, hints, DEFAULT_FILL.rule, self._floods)
        result = Recolored(layers, stretched)
        self._last = ((version, gap), result)
        return result


# ---------------------------------------------------------------- tasks


@dataclass(frozen=True)
class LoadModel:
    spec: str | None  # a path or model URI; None: the places model_choice looks at


@dataclass(frozen=True)
class OpenSketch:
    sketch: np.ndarray
    generation: int  # which opened sketch this is: a late result for an older one is dropped


@dataclass(frozen=True)
class Recolor:
    generation: int
    hints: np.ndarray | None
    hints_version: int
    gap: int | None = None


@dataclass(frozen=True)
class Save:
    target: Path
    layers: Layers
    picture: np.ndarray  # what the window shows: the flat file's pixels
    hints: np.ndarray | None = None  # written beside the picture as <name>.hints.png
    hints_target: Path | None = None
    hints_version: int = 0  # the hint layer's version that was saved


Task = LoadModel | OpenSketch | Recolor | Save


@dataclass(frozen=True)
class RecolorResult:
    """A result for the window: which sketch and hints it is for, and how long it took."""

    recolored: Recolored
    generation: int
    hints_version: int
    seconds: float
    final: bool = True  # False: a first look, over the model's colour for the previous dabs


class Worker(threading.Thread):
    """Owns the generator; loads, colours and saves off the Tk thread, one task at a time.

    Every task ends with exactly one ``("done", None)`` on the results queue:
    the window counts them to know when nothing is in flight.
    """

    def __init__(
        self,
        paths: ProjectPaths,
        settings: Settings,
        results: queue.Queue,
        recolorer_factory: RecolorerFactory = ModelRecolorer,
    ):
        super().__init__(name="sketch2color-worker", daemon=True)
        self.tasks: queue.Queue[Task | None] = queue.Queue()
        self._paths = paths
        self._settings = settings
        self._results = results
        self._factory = recolorer_factory
        self._backend: Backend | None = None
        self._spec: str | None = None
        self._sketch: tuple[int, np.ndarray] | None = None
        self._recolorer: Recolorer | None = None

    def run(self) -> None:
        while (task := self.tasks.get()) is not None:
            try:
                self._run(task)
            except Sketch2ColorError as exc:
                self._results.put(("error", str(exc)))
            except Exception as exc:  # noqa: BLE001 - shown in the status bar; the window stays usable
                self._results.put(("error", f"{type(exc).__name__}: {exc}"))
            finally:
                self._results.put(("done", None))

    def _run(self, task: Task) -> None:
        if isinstance(task, LoadModel):
            self._load(task.spec)
        elif isinstance(task, OpenSketch):
            self._sketch, self._recolorer = (task.generation, task.sketch), None
        elif isinstance(task, Recolor):
            self._recolor(task)
        else:
            self._save(task)

    def _load(self, spec: str | None) -> None:
        from sketch2color.model_choice import choose_model

        # Never keep colouring with a model other than the one the user chose.
        self._backend, self._spec, self._recolorer = None, spec, None
        try:
            self._backend = choose_model(
                spec,
                self._paths,
                None,
                lambda line: self._results.put(("note", line)),
                self._settings.inference_mode,
            )
        finally:
            self._results.put(("model", self._backend))

    def _recolor(self, task: Recolor) -> None:
        if self._backend is None:
            self._load(self._spec)
        if self._backend is None:
            return  # loading failed, and said why
        if self._sketch is None or self._sketch[0] != task.generation:
            return  # another sketch was opened meanwhile
        if self._recolorer is None:
            self._recolorer = self._factory(self._backend, self._sketch[1])
        started = time.perf_counter()
        if isinstance(self._recolorer, ModelRecolorer):  # the kept colour shows a dab at once
            first = self._recolorer.first_look(task.hints, task.hints_version, task.gap)
            if first is not None:
                seconds = time.perf_counter() - started
                self._results.put(
                    (
                        "result",
                        RecolorResult(first, task.generation, task.hints_version, seconds, final=False),
                    )
                )
        recolored = self._recolorer.recolor(task.hints, task.hints_version, task.gap)
        seconds = time.perf_counter() - started
        self._results.put(("result", RecolorResult(recolored, task.generation, task.hints_version, seconds)))

    def _save(self, task: Save) -> None:
        from sketch2color.atomic import write_bytes
        from sketch2color.image_io import encode_rgba
        from sketch2color.layered import write_result

        try:
            write_result(task.target, task.layers, task.picture)
            if task.hints is not None and task.hints_target is not None:
                write_bytes(task.hints_target, encode_rgba(task.hints))
        except OSError as exc:
            raise Sketch2ColorError(
                f"could not save {exc.filename or task.target}: {exc.strerror or exc}"
            ) from None
        self._results.put(("saved", task))
