"""The window: a sketch and its colours side by side, zoomed and panned together, with the hint tools.

:class:`ColorizerApp` is the one place that knows the open sketch: its hint
layer (:mod:`.hint_layer`), the two views sharing one zoom (:mod:`.canvas`,
:mod:`.viewport`), the tool panel (:mod:`.hint_panel`) and the worker that
owns the model (:mod:`.worker`). Its public methods are what the buttons,
keys (:mod:`.shortcuts`), mouse (:mod:`.mouse`) and dialogs
(:mod:`.dialogs`) call, so a script or a test can call them too; ``idle`` is
set whenever no work is in flight.

The status bar, which carries every message, is packed before the views,
which take what is left: it keeps its line at any window size.
"""

from __future__ import annotations

import queue
import threading
import time
import tkinter as tk
from functools import partial
from pathlib import Path
from tkinter import ttk

import numpy as np

from sketch2color.data.images import BadImage, load_rgba, read_sketch
from sketch2color.gui import dialogs
from sketch2color.gui.bars import OfferBar, StatusBar, Toolbar
from sketch2color.gui.canvas import ImageView
from sketch2color.gui.display import hex_color
from sketch2color.gui.hint_layer import HintLayer, hints_file, remember_hints, save_hints, saved_hints_for
from sketch2color.gui.hint_panel import HintPanel
from sketch2color.gui.mouse import ViewControls
from sketch2color.gui.shortcuts import bind_shortcuts
from sketch2color.gui.viewport import Viewport
from sketch2color.gui.worker import (
    LoadModel,
    ModelRecolorer,
    OpenSketch,
    Recolor,
    Recolored,
    RecolorerFactory,
    RecolorResult,
    Save,
    Task,
    Worker,
)
from sketch2color.inference.backends import Backend
from sketch2color.inference.regions import default_gap
from sketch2color.inference.selection import Settings
from sketch2color.layered import OutputNameError, check_output_name
from sketch2color.paths import ProjectPaths
from sketch2color.pixels import hint_mask

RECOLOR_DELAY_MS = 300
"""How long after the last change to the hints the result is coloured again."""
POLL_MS = 40
MIN_SIZE = (760, 460)


class ColorizerApp:
    """The window's state and actions."""

    def __init__(
        self,
        root: tk.Tk,
        model: str | Path | None = None,
        paths: ProjectPaths | None = None,
        recolorer_factory: RecolorerFactory = ModelRecolorer,
    ):
        self.root = root
        self.paths = paths or ProjectPaths.discover()
        self.model_spec = None if model is None else str(model)
        self.sketch: np.ndarray | None = None
        self.sketch_path: Path | None = None
        self.hints: HintLayer | None = None
        self.recolored: Recolored | None = None
        self.backend: Backend | None = None
        self.last_error: str | None = None
        self.offered_hints: Path | None = None
        self.viewport = Viewport()
        self.idle = threading.Event()
        self.idle.set()
        self._in_flight = 0
        self._closed = False
        self._generation = 0
        self._recolor_id: str | None = None
        self._recolor_pending = False
        self._fit_pending = False

        notes: list[str] = []
        self.settings = Settings.from_project(self.paths, notes.append)
        self._results: queue.Queue = queue.Queue()
        self._worker = Worker(self.paths, self.settings, self._results, recolorer_factory)
        self._build()
        self._worker.start()
        self._poll_id = root.after(POLL_MS, self._poll)
        root.protocol("WM_DELETE_WINDOW", lambda: dialogs.close(self))
        self.say(" ".join(notes) or "Open a sketch to begin (Ctrl+O).")
        self._submit(LoadModel(self.model_spec), "Loading the model…")

    def _build(self) -> None:
        root = self.root
        root.title("sketch2color")
        root.minsize(*MIN_SIZE)
        root.configure(padx=6, pady=6)
        self.toolbar = Toolbar(
            root,
            {
                "Open sketch…": lambda: dialogs.open_sketch(self),
                "Colourise": self.colorize,
                "Save…": lambda: dialogs.save_result(self),
                "Save hints…": lambda: dialogs.save_hints(self),
                "Model…": lambda: dialogs.choose_model(self),
            },
            on_stretched=self._show_result,
        )
        self.toolbar.pack(side=tk.TOP, fill=tk.X, pady=(0, 6))
        self.status_bar = StatusBar(root)  # before the views: it keeps its line at any size
        self.status_bar.pack(side=tk.BOTTOM, fill=tk.X, pady=(6, 0))

        main = ttk.Frame(root)
        main.pack(side=tk.TOP, fill=tk.BOTH, expand=True)
        self.panel = HintPanel(
            main,
            on_undo=self.undo_hint,
            on_redo=self.redo_hint,
            on_clear=self.clear_hints,
            on_choose_color=lambda: dialogs.hint_color(self),
            on_open_reference=lambda: dialogs.open_reference(self),
            on_pick_reference=lambda x, y: self.pick_color("reference", x, y),
            on_gap_changed=self._hints_changed,
            gap_default=default_gap(512, 512),
        )
        self.panel.pack(side=tk.LEFT, fill=tk.Y)
        views = ttk.Frame(main)
        views.pack(side=tk.LEFT, fill=tk.BOTH, expand=True)
        self.offer_bar = OfferBar(views, on_load=self.accept_offered_hints)
        pictures = ttk.Frame(views)
        pictures.pack(side=tk.BOTTOM, fill=tk.BOTH, expand=True)
        pictures.columnconfigure((0, 1), weight=1, uniform="views")
        pictures.rowconfigure(1, weight=1)
        ttk.Label(pictures, text="Sketch").grid(row=0, column=0, sticky=tk.W)
        ttk.Label(pictures, text="Result").grid(row=0, column=1, sticky=tk.W, padx=(6, 0))
        self.sketch_view = ImageView(
            pictures,
            self.viewport,
            lambda: self.sketch,
            lambda: None if self.hints is None or self.hints.empty else self.hints.render(),
            placeholder="Open a sketch (Ctrl+O)",
        )
        self.result_view = ImageView(
            pictures, self.viewport, lambda: self.result, placeholder="Colourise it (Enter)"
        )
        self.sketch_view.grid(row=1, column=0, sticky=tk.NSEW)
        self.result_view.grid(row=1, column=1, sticky=tk.NSEW, padx=(6, 0))
        self.controls = ViewControls(self)
        for view, source in ((self.sketch_view, "sketch"), (self.result_view, "result")):
            self.controls.attach(view, source)
            view.bind("<Configure>", partial(self._on_view_configure, view))
        bind_shortcuts(self)
        self._update_buttons()

    # -------------------------------------------------------- the sketch and its result

    @property
    def result(self) -> np.ndarray | None:
        """The picture the result view shows: line-faithful, or the model's square stretched."""
        if self.recolored is None:
            return None
        return self.recolored.stretched if self.toolbar.stretched.get() else self.recolored.layers.picture

    def open_sketch(self, path: str | Path) -> bool:
        """Load and show a sketch, offering its saved hints; a bad file is named and changes nothing."""
        path = Path(path)
        try:
            sketch = read_sketch(path, self.settings.max_image_pixels)
        except BadImage as exc:
            self.error(f"{path}: {exc}")
            return False
        self.sketch, self.sketch_path, self.recolored = sketch, path, None
        height, width = sketch.shape[:2]
        self.hints = HintLayer(height, width)
        self.panel.gap.set(default_gap(height, width))
        self._generation += 1
        self._submit(OpenSketch(sketch, self._generation), f"Opened {path.name} ({width}x{height} px).")
        self.root.update_idletasks()
        self.viewport.show_image(height, width, *self.sketch_view.view_size)
        self._fit_pending = self.sketch_view.view_size[0] <= 1  # not laid out yet: fit when it is
        self._redraw()
        self.offer_bar.hide()
        self.offered_hints = saved_hints_for(path)
        if self.offered_hints is not None:
            self.offer_bar.offer(f"{path.name} has saved hints: {self.offered_hints}")
        return True

    def colorize(self, _event=None) -> None:
        """Start colouring the open sketch in the worker; returns at once (wait on ``idle``)."""
        if self.sketch is None or self.hints is None:
            self.error("Open a sketch first.")
            return
        if self._in_flight:
            self._recolor_pending = True  # once the model is free: the window never waits for it
            return
        try:
            gap: int | None = max(1, int(self.panel.gap.get()))
        except (tk.TclError, ValueError):  # the box holds no number while it is being typed in
            gap = None
        task = Recolor(self._generation, self.hints.hints_or_none(), self.hints.version, gap)
        name = self.sketch_path.name if self.sketch_path is not None else "the sketch"
        self._submit(task, f"Colourising {name}…")

    def set_stretched(self, stretched: bool) -> None:
        """The "Stretched output" toggle: the model's square stretched, or the line-faithful picture."""
        self.toolbar.stretched.set(stretched)
        self._show_result()

    def save_result(self, path: str | Path) -> bool:
        """Save in the worker by the name's extension: the picture, or its layers (.ora, .psd), with the
        hints beside it (``<name>.hints.png``). False, and nothing written, for a name it cannot write."""
        if self.recolored is None or self.result is None:
            self.error("Nothing to save yet: colourise a sketch first.")
            return False
        path = Path(path)
        try:
            check_output_name(path)
        except OutputNameError as exc:
            self.error(f"Cannot save {exc}")
            return False
        hints = None if self.hints is None or self.hints.empty else self.hints.render().copy()
        version = self.hints.version if self.hints is not None else 0
        target = hints_file(path) if hints is not None else None
        self._submit(
            Save(path, self.recolored.layers, self.result, hints, target, version), f"Saving {path.name}…"
        )
        return True

    def choose_model(self, spec: str | Path | None) -> None:
        """Switch to another model (a file, a folder or a registered model URI); loads in the worker."""
        self.model_spec = None if spec is None else str(spec)
        self.backend = None
        self._submit(LoadModel(self.model_spec), f"Loading {self.model_spec or 'the default model'}…")

    # -------------------------------------------------------- hints

    def paint_at(self, x: int, y: int, start: bool = True) -> None:
        """The brush or eraser at sketch pixel (x, y): a new stroke, or the current one dragged on."""
        if self.hints is None:
            self.error("Open a sketch first, then paint on it to place colour hints.")
            return
        if start:
            eraser = self.panel.tool.get() == "eraser"
            self.hints.begin(x, y, None if eraser else self.panel.color, self.brush_radius())
            if not eraser:
                self.panel.use_color()
        else:
            self.hints.extend(x, y)
        self.sketch_view.redraw()

    def stroke_done(self) -> None:
        self._hints_changed()

    def brush_px(self) -> int:
        return self.panel.brush_px()

    def brush_radius(self) -> int:
        """The brush's radius in sketch pixels: its size is in screen pixels, at the current zoom."""
        return max(0, round(self.brush_px() / 2 / self.viewport.scale))

    def undo_hint(self) -> None:
        if self.hints is not None and self.hints.undo():
            self._hints_changed()

    def redo_hint(self) -> None:
        if self.hints is not None and self.hints.redo():
            self._hints_changed()

    def clear_hints(self) -> None:
        if self.hints is not None and self.hints.clear():
            self._hints_changed()

    @property
    def hint_color(self) -> tuple[int, int, int]:
        return self.panel.color

    def set_hint_color(self, color) -> None:
        self.panel.set_color(color)

    def pick_color(self, source: str, x: int, y: int) -> bool:
        """The hint colour from pixel (x, y) of the "sketch" (as shown, with its dabs), the "result" or
        the "reference"."""
        picture = {"sketch": self.sketch, "result": self.result, "reference": self.panel.reference}[source]
        if picture is None:
            return False
        y, x = min(max(0, y), picture.shape[0] - 1), min(max(0, x), picture.shape[1] - 1)
        color = picture[y, x]
        if source == "sketch" and self.hints is not None and hint_mask(self.hints.render()[y, x]):
            color = self.hints.render()[y, x, :3]
        self.set_hint_color(color)
        if self.panel.tool.get() == "pick":
            self.panel.tool.set("brush")  # a pick is one click: back to painting with it
        self.say(f"Hint colour {hex_color(self.hint_color)} picked from the {source}.")
        return True

    def open_reference(self, path: str | Path) -> bool:
        """Show a picture in the panel to pick hint colours from."""
        path = Path(path)
        try:
            picture = read_sketch(path, self.settings.max_image_pixels)
        except BadImage as exc:
            self.error(f"{path}: {exc}")
            return False
        self.panel.show_reference(picture)
        self.say(f"Reference {path.name}: click it to pick a hint colour.")
        return True

    def load_hints(self, path: str | Path) -> bool:
        """Hints from an RGBA file on the sketch (scaled to it), as one step that undo takes back."""
        if self.hints is None:
            self.error("Open a sketch first, then load its hints.")
            return False
        path = Path(path)
        try:
            loaded = load_rgba(path, self.settings.max_image_pixels)
        except BadImage as exc:
            self.error(f"{path}: {exc}")
            return False
        self.hints.replace(loaded)
        self.hints.saved_version = self.hints.version  # they are in a file already
        self.offer_bar.hide()
        self._hints_changed()
        self.say(f"Hints loaded from {path}.")
        return True

    def accept_offered_hints(self) -> bool:
        return self.offered_hints is not None and self.load_hints(self.offered_hints)

    def save_hints(self, path: str | Path) -> bool:
        """Write the hints as an RGBA PNG where the user chose, and remember it for the sketch."""
        if self.hints is None or self.hints.empty or self.sketch_path is None:
            self.error("No hints to save: paint some on the sketch first.")
            return False
        path = Path(path)
        try:
            save_hints(self.hints, path)
        except OSError as exc:
            self.error(f"Could not save {path}: {exc.strerror or exc}")
            return False
        remember_hints(self.sketch_path, path)
        self.say(f"Hints saved in {path}.")
        return True

    def _hints_changed(self) -> None:
        """Redraw, and colour again shortly after the last change (debounced)."""
        if self.hints is None:
            return
        self.sketch_view.redraw()
        if self._recolor_id is not None:
            self.root.after_cancel(self._recolor_id)
        self._recolor_id = self.root.after(RECOLOR_DELAY_MS, self._recolor)

    def _recolor(self) -> None:
        self._recolor_id = None
        self.colorize()

    # -------------------------------------------------------- zoom and pan (both views together)

    def zoom(
        self, factor: float, view: ImageView | None = None, x: float | None = None, y: float | None = None
    ):
        """Zoom by ``factor`` around point (x, y) of ``view`` (default: the middle of the views)."""
        view = view or self.sketch_view
        width, height = view.view_size
        self.viewport.zoom_at(
            factor, width / 2 if x is None else x, height / 2 if y is None else y, width, height
        )
        self._redraw()

    def fit_view(self) -> None:
        self.viewport.fit(*self.sketch_view.view_size)
        self._redraw()

    def actual_pixels(self) -> None:
        self.viewport.actual_pixels()
        self._redraw()

    def pan(self, dx: float, dy: float) -> None:
        self.viewport.pan(dx, dy)
        self._redraw()

    # -------------------------------------------------------- messages and waiting

    def say(self, message: str) -> None:
        self.status_bar.say(message)

    def error(self, message: str) -> None:
        self.last_error = message
        self.status_bar.say(message, error=True)

    @property
    def status(self) -> str:
        return self.status_bar.message.get()

    def wait_until_idle(self, timeout: float = 60.0) -> bool:
        """Run the Tk event loop until no work is in flight or due; False on timeout."""
        deadline = time.monotonic() + timeout
        while not self.idle.is_set() or self._recolor_id is not None:
            if time.monotonic() > deadline:
                return False
            self.root.update()
            time.sleep(0.01)
        self.root.update()
        return True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.status_bar.busy(False)  # its animation would run on after the window is gone
        self.root.after_cancel(self._poll_id)
        if self._recolor_id is not None:
            self.root.after_cancel(self._recolor_id)
        self._worker.tasks.put(None)
        self.root.destroy()

    # -------------------------------------------------------- plumbing

    def _submit(self, task: Task, message: str) -> None:
        self._in_flight += 1
        self.idle.clear()
        self._worker.tasks.put(task)
        self.say(message)
        self.status_bar.busy(True)
        self._update_buttons()

    def _poll(self) -> None:
        """Apply what the worker finished; runs on the Tk thread every POLL_MS."""
        while True:
            try:
                kind, payload = self._results.get_nowait()
            except queue.Empty:
                break
            if kind == "note":
                self.say(payload)
            elif kind == "model":
                self._show_model(payload)
            elif kind == "result":
                self._take_result(payload)
            elif kind == "saved":
                self._saved(payload)
            elif kind == "error":
                self.error(payload)
            else:  # "done": one task finished
                self._in_flight -= 1
                if self._in_flight == 0 and self._recolor_pending:
                    self._recolor_pending = False
                    self.colorize()
                if self._in_flight == 0:
                    self.status_bar.busy(False)
                    self._update_buttons()
                    self.idle.set()
        if not self._closed:
            self._poll_id = self.root.after(POLL_MS, self._poll)

    def _show_model(self, backend: Backend | None) -> None:
        self.backend = backend
        if backend is None:
            self.status_bar.model.configure(text="model: none")
            return
        seeing = "sees the dabs too" if backend.takes_hints else "dabs fill their regions after it"
        self.status_bar.model.configure(
            text=f"model: {backend.path.name} ({backend.format}, {backend.input_size} px; {seeing})"
        )
        self.say(f"Model ready: {backend.path}.")

    def _take_result(self, done: RecolorResult) -> None:
        if done.generation != self._generation:
            return  # another sketch was opened meanwhile; this result is not for it
        self.recolored = done.recolored
        self._show_result()
        if not done.final:
            self.say(f"Dabs shown in {done.seconds:.2f} s; the model is colouring with them…")
            return
        name = self.sketch_path.name if self.sketch_path else "sketch"
        self.say(f"Colourised {name} in {done.seconds:.2f} s. Save it with Save… (Ctrl+S).")

    def _show_result(self) -> None:
        self.result_view.redraw()
        self._update_buttons()

    def _saved(self, task: Save) -> None:
        also = ""
        if task.hints_target is not None and self.hints is not None and self.sketch_path is not None:
            self.hints.saved_version = task.hints_version
            remember_hints(self.sketch_path, task.hints_target)
            also = f", and its hints in {task.hints_target.name}"
        self.say(f"Saved {task.target}{also}.")

    def _on_view_configure(self, view: ImageView, _event: tk.Event) -> None:
        self._view_resized(view)

    def _view_resized(self, view: ImageView) -> None:
        if self._fit_pending and view is self.sketch_view and view.view_size[0] > 1:
            self._fit_pending = False
            self.fit_view()
            return
        view.redraw()

    def _redraw(self) -> None:
        self.sketch_view.redraw()
        self.result_view.redraw()
        if self.sketch is not None:
            self.status_bar.zoom.configure(text=f"zoom {self.viewport.scale * 100:.0f}%")

    def _update_buttons(self) -> None:
        buttons = self.toolbar.buttons
        buttons["Colourise"].state(["disabled"] if self.sketch is None else ["!disabled"])
        buttons["Model…"].state(["disabled"] if self._in_flight else ["!disabled"])
        buttons["Save…"].state(["disabled"] if self.recolored is None else ["!disabled"])
