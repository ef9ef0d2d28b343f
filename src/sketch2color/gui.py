"""The paper's desktop window (its Figure 5): open a sketch, steer its colours, colour it, compare, save.

With a model trained with hints (``train.hints.enabled``) the user paints
dabs of colour on the sketch: pick a colour (the dialog, or a click on the
result or on a reference picture), set the brush, click or drag on the
sketch; undo and clear take dabs back. The result is coloured again in the
worker a moment after each change, and the dabs are kept beside the sketch
(``drawing.hints.png``) and come back when it is opened again.

Tkinter draws the window. Decoding, colouring, display resizing and saving
go through the same functions as the pipeline and the ``colorize`` command
(:func:`~sketch2color.data.images.load_rgb`, the inference layer's
:class:`~sketch2color.inference.colorizer.Colored`,
:func:`~sketch2color.data.images.resize_rgb`,
:func:`~sketch2color.image_io.write_rgb`), so a picture here is the one the
command writes. The result is line-faithful; the "Stretched output" toggle
shows the model's square stretched instead, for comparison, without running
the model again. Arrays are RGB throughout; the only BGR is inside
``write_rgb``, at the cv2 boundary.

Model loading and colouring run in one worker thread that owns the model;
results come back through a queue that the Tk thread polls with
``root.after``, so the window keeps redrawing while the generator runs and
Tk is only ever touched from its own thread. ``ColorizerApp.idle`` is set
whenever no work is in flight, which is what tests and scripts wait on.
"""

from __future__ import annotations

import queue
import threading
import time
import tkinter as tk
from dataclasses import dataclass
from pathlib import Path
from tkinter import filedialog, ttk

import numpy as np

from sketch2color.data.images import IMAGE_SUFFIXES, BadImage, read_sketch, resize_rgb
from sketch2color.errors import Sketch2ColorError
from sketch2color.image_io import write_rgb
from sketch2color.inference.backends import Backend
from sketch2color.inference.colorizer import Colored, OutputMode, color_sketches
from sketch2color.inference.selection import Settings, choose_backend
from sketch2color.inference.user_hints import HintLayer, default_radius, hints_file, over_sketch
from sketch2color.paths import ProjectPaths

PANEL_SIZE = 384
RECOLOR_DELAY_MS = 300
"""How long after the last change to the hints the result is coloured again."""
DEFAULT_HINT_COLOR = (210, 47, 39)
POLL_MS = 40
ERROR_COLOR = "#b00020"
TEXT_COLOR = "#202020"
PANEL_BACKGROUND = "#f4f4f4"


# ---------------------------------------------------------------- worker thread


@dataclass(frozen=True)
class _Load:
    model_path: Path | None


@dataclass(frozen=True)
class _Color:
    sketch: np.ndarray
    generation: int  # which opened sketch this is: a late result for an older one is dropped
    output: OutputMode
    hints: np.ndarray | None = None  # RGBA at the sketch's size, for a model trained with hints
    hint_version: int = 0  # which state of the hint layer these are: the model's answer is reused


class _Worker(threading.Thread):
    """Owns the generator; loads and colours off the Tk thread, one task at a time."""

    def __init__(self, paths: ProjectPaths, settings: Settings, results: queue.Queue):
        super().__init__(name="sketch2color-worker", daemon=True)
        self.tasks: queue.Queue = queue.Queue()
        self._paths = paths
        self._settings = settings
        self._results = results
        self._backend: Backend | None = None
        self._model_path: Path | None = None
        self._last: tuple[tuple[int, int], Colored] | None = None  # the model's answer for the sketch

    def run(self) -> None:
        while (task := self.tasks.get()) is not None:
            try:
                if isinstance(task, _Load):
                    self._load(task.model_path)
                else:
                    self._color(task)
            except Sketch2ColorError as exc:
                self._results.put(("error", str(exc)))
            except Exception as exc:  # noqa: BLE001 - shown in the status bar; the window stays usable
                self._results.put(("error", f"{type(exc).__name__}: {exc}"))
            finally:
                self._results.put(("done", None))  # exactly one per task: the window counts them

    def _load(self, model_path: Path | None) -> None:
        # Never keep colouring with a model other than the one the user chose.
        self._backend, self._model_path, self._last = None, model_path, None
        try:
            self._backend = choose_backend(
                model_path,
                self._paths,
                None,
                lambda line: self._results.put(("note", line)),
                self._settings.inference_mode,
            )
        finally:
            self._results.put(("model", self._backend))

    def _color(self, task: _Color) -> None:
        if self._backend is None:
            self._load(self._model_path)
        started = time.perf_counter()
        key = (task.generation, task.hint_version)
        if self._last is None or self._last[0] != key:
            hints = task.hints if self._backend.takes_hints else None
            self._last = (key, color_sketches(self._backend, [task.sketch], [hints])[0])
        result = self._last[1].picture(task.output)  # a new output mode reuses the model's answer
        self._results.put(("result", (result, time.perf_counter() - started, task.generation)))


# ---------------------------------------------------------------- display helpers


def _hex(color) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in color))


def fit_for_display(rgb: np.ndarray, box: int = PANEL_SIZE) -> np.ndarray:
    """Scale an RGB image to fit a box x box panel, keeping its aspect ratio."""
    height, width = rgb.shape[:2]
    scale = min(box / height, box / width)
    return resize_rgb(rgb, max(1, round(height * scale)), max(1, round(width * scale)))


def photo_from_rgb(master: tk.Misc, rgb: np.ndarray) -> tk.PhotoImage:
    """A Tk image from RGB pixels via binary PPM: no BGR, no extra imaging toolkit."""
    height, width = rgb.shape[:2]
    header = f"P6 {width} {height} 255\n".encode()
    return tk.PhotoImage(
        master=master, data=header + np.ascontiguousarray(rgb, np.uint8).tobytes(), format="PPM"
    )


# ---------------------------------------------------------------- the window


class ColorizerApp:
    """The window. Methods are what the buttons call, so tests can drive them directly."""

    def __init__(self, root: tk.Tk, model_path: Path | None = None, paths: ProjectPaths | None = None):
        self.root = root
        self.paths = paths or ProjectPaths.discover()
        self.model_path = Path(model_path) if model_path else None
        self.sketch: np.ndarray | None = None
        self.sketch_path: Path | None = None
        self.result: np.ndarray | None = None
        self.sketch_photo: tk.PhotoImage | None = None
        self.result_photo: tk.PhotoImage | None = None
        self.reference: np.ndarray | None = None
        self.reference_photo: tk.PhotoImage | None = None
        self.hints: HintLayer | None = None
        self.hint_color: tuple[int, int, int] = DEFAULT_HINT_COLOR
        self._hint_version = 0
        self._recolor_id: str | None = None
        self._recolor_pending = False
        self.backend: Backend | None = None
        self.last_error: str | None = None
        self.idle = threading.Event()
        self.idle.set()
        self._in_flight = 0
        self._closed = False
        self._generation = 0

        notes: list[str] = []
        self.settings = Settings.from_project(self.paths, notes.append)
        self._results: queue.Queue = queue.Queue()
        self._worker = _Worker(self.paths, self.settings, self._results)
        self._build()
        self._worker.start()
        self._poll_id = root.after(POLL_MS, self._poll)
        root.protocol("WM_DELETE_WINDOW", self.close)
        self._set_status(" ".join(notes) or "Open a sketch to begin.")
        self._submit(_Load(self.model_path), "Loading the model…")

    # -------------------------------------------------------- layout

    def _build(self) -> None:
        root = self.root
        root.title("sketch2color: sketch to colour")
        root.configure(padx=8, pady=8)
        toolbar = ttk.Frame(root)
        toolbar.pack(side=tk.TOP, fill=tk.X)
        self.open_button = ttk.Button(toolbar, text="Open sketch…", command=self._ask_open_sketch)
        self.color_button = ttk.Button(toolbar, text="Colourise", command=self.colorize)
        self.save_button = ttk.Button(toolbar, text="Save result…", command=self._ask_save_result)
        self.model_button = ttk.Button(toolbar, text="Choose model…", command=self._ask_model)
        for button in (self.open_button, self.color_button, self.save_button, self.model_button):
            button.pack(side=tk.LEFT, padx=(0, 6), pady=(0, 8))
        self.stretched = tk.BooleanVar(master=root, value=False)
        self.stretched_toggle = ttk.Checkbutton(
            toolbar, text="Stretched output", variable=self.stretched, command=self._output_changed
        )
        self.stretched_toggle.pack(side=tk.LEFT, padx=(6, 0), pady=(0, 8))

        hint_bar = ttk.Frame(root)
        hint_bar.pack(side=tk.TOP, fill=tk.X)
        ttk.Label(hint_bar, text="Hints:").pack(side=tk.LEFT, padx=(0, 6))
        self.swatch = tk.Label(hint_bar, width=3, relief=tk.SUNKEN, bg=_hex(self.hint_color))
        self.swatch.pack(side=tk.LEFT, padx=(0, 4), pady=(0, 8))
        self.pick_button = ttk.Button(hint_bar, text="Colour…", command=self._ask_hint_color)
        self.reference_button = ttk.Button(hint_bar, text="Open reference…", command=self._ask_reference)
        for button in (self.pick_button, self.reference_button):
            button.pack(side=tk.LEFT, padx=(0, 6), pady=(0, 8))
        ttk.Label(hint_bar, text="Brush").pack(side=tk.LEFT)
        self.brush = tk.IntVar(master=root, value=4)
        self.brush_box = ttk.Spinbox(hint_bar, from_=1, to=200, width=4, textvariable=self.brush)
        self.brush_box.pack(side=tk.LEFT, padx=(2, 6), pady=(0, 8))
        self.undo_button = ttk.Button(hint_bar, text="Undo", command=self.undo_hint)
        self.clear_button = ttk.Button(hint_bar, text="Clear", command=self.clear_hints)
        for button in (self.undo_button, self.clear_button):
            button.pack(side=tk.LEFT, padx=(0, 6), pady=(0, 8))
        ttk.Label(
            hint_bar,
            text="click the sketch to dab; click the result or the reference to pick",
            foreground="#707070",
        ).pack(side=tk.LEFT, padx=(6, 0), pady=(0, 8))

        panels = ttk.Frame(root)
        panels.pack(side=tk.TOP, fill=tk.BOTH, expand=True)
        self.sketch_view = self._panel(panels, "Sketch", "Open a sketch (Ctrl+O)")
        self.result_view = self._panel(panels, "Colourised result", "Colourise it (Enter)")
        self.reference_view = self._panel(panels, "Reference", "Open a picture to pick colours from")
        self.sketch_view.bind("<ButtonPress-1>", lambda e: self._dab_event(e, start=True))
        self.sketch_view.bind("<B1-Motion>", lambda e: self._dab_event(e, start=False))
        self.sketch_view.bind("<ButtonRelease-1>", lambda _e: self._hints_changed())
        self.result_view.bind("<Button-1>", lambda e: self._pick_event(e, self.result))
        self.reference_view.bind("<Button-1>", lambda e: self._pick_event(e, self.reference))

        bar = ttk.Frame(root)
        bar.pack(side=tk.BOTTOM, fill=tk.X, pady=(8, 0))
        self.status = tk.StringVar(master=root)
        self.status_label = tk.Label(bar, textvariable=self.status, anchor=tk.W, fg=TEXT_COLOR)
        self.status_label.pack(side=tk.LEFT, fill=tk.X, expand=True)
        self.progress = ttk.Progressbar(bar, mode="indeterminate", length=120)
        self.progress.pack(side=tk.RIGHT)
        self.model_label = tk.Label(bar, text="model: (loading)", anchor=tk.E, fg="#606060")
        self.model_label.pack(side=tk.RIGHT, padx=8)

        root.bind("<Control-z>", lambda _e: self.undo_hint())
        root.bind("<Control-o>", lambda _e: self._ask_open_sketch())
        root.bind("<Control-s>", lambda _e: self._ask_save_result())
        root.bind("<Return>", lambda _e: self.colorize())
        self._update_buttons()

    def _panel(self, parent: ttk.Frame, title: str, placeholder: str) -> tk.Label:
        frame = ttk.LabelFrame(parent, text=title, padding=6)
        frame.pack(side=tk.LEFT, padx=(0, 8), fill=tk.BOTH, expand=True)
        holder = tk.Frame(frame, width=PANEL_SIZE, height=PANEL_SIZE, bg=PANEL_BACKGROUND)
        holder.pack_propagate(False)
        holder.pack(fill=tk.BOTH, expand=True)
        view = tk.Label(holder, text=placeholder, bg=PANEL_BACKGROUND, fg="#808080")
        view.pack(fill=tk.BOTH, expand=True)
        return view

    # -------------------------------------------------------- actions

    def open_sketch(self, path: str | Path) -> bool:
        """Load and show a sketch; a bad file is named in the status bar and changes nothing."""
        path = Path(path)
        try:
            sketch = read_sketch(path, self.settings.max_image_pixels)
        except BadImage as exc:
            self._error(f"{path}: {exc}")
            return False
        self.sketch, self.sketch_path, self.result = sketch, path, None
        self._generation += 1
        height, width = sketch.shape[:2]
        self.hints = HintLayer.for_sketch(path, height, width, self.settings.max_image_pixels)
        self._hint_version += 1
        self.brush.set(default_radius(height, width))
        self._show_sketch()
        self.result_photo = None
        self.result_view.configure(image="", text="Colourise it (Enter)")
        loaded = "" if self.hints.empty else f" with its hints from {hints_file(path).name}"
        self._set_status(f"Opened {path.name} ({width}x{height} px){loaded}.")
        self._update_buttons()
        return True

    # -------------------------------------------------------- hints

    def paint_hint(self, x: int, y: int, start: bool = True) -> None:
        """A dab at pixel (x, y) of the sketch: a new stroke, or the current one dragged on."""
        if self.hints is None:
            self._error("Open a sketch first, then click on it to place colour hints.")
            return
        x, y = min(max(0, x), self.hints.width - 1), min(max(0, y), self.hints.height - 1)
        if start:
            self.hints.begin(x, y, self.hint_color, max(1, int(self.brush.get())))
        else:
            self.hints.extend(x, y)
        self._show_sketch()

    def undo_hint(self) -> None:
        if self.hints is not None and self.hints.undo():
            self._hints_changed()

    def clear_hints(self) -> None:
        if self.hints is not None and not self.hints.empty:
            self.hints.clear()
            self._hints_changed()

    def set_hint_color(self, color: tuple[int, int, int]) -> None:
        self.hint_color = tuple(int(c) for c in color)
        self.swatch.configure(bg=_hex(self.hint_color))

    def pick_color(self, image: np.ndarray | None, x: int, y: int) -> bool:
        """Take the hint colour from pixel (x, y) of ``image`` (the result or the reference)."""
        if image is None:
            return False
        height, width = image.shape[:2]
        self.set_hint_color(image[min(max(0, y), height - 1), min(max(0, x), width - 1)])
        self._set_status(f"Hint colour {_hex(self.hint_color)} picked.")
        return True

    def open_reference(self, path: str | Path) -> bool:
        """Show a picture to pick hint colours from."""
        path = Path(path)
        try:
            self.reference = read_sketch(path, self.settings.max_image_pixels)
        except BadImage as exc:
            self._error(f"{path}: {exc}")
            return False
        self.reference_photo = self._show(self.reference_view, self.reference)
        self._set_status(f"Reference {path.name}: click it to pick a hint colour.")
        return True

    def _hints_changed(self) -> None:
        """Redraw, keep the hints beside the sketch, and recolour shortly after (debounced)."""
        if self.hints is None:
            return
        self._hint_version += 1
        self._show_sketch()
        try:
            saved = self.hints.save(self.sketch_path)
        except OSError as exc:
            self._error(f"Could not keep the hints beside the sketch: {exc.strerror or exc}")
        else:
            if saved is not None:
                self._set_status(f"Hints kept in {saved.name}.")
        if self.backend is not None and not self.backend.takes_hints and not self.hints.empty:
            self._set_status(f"{self.backend.path.name} was not trained with hints: they change nothing.")
        if self._recolor_id is not None:
            self.root.after_cancel(self._recolor_id)
        self._recolor_id = self.root.after(RECOLOR_DELAY_MS, self._recolor)

    def _recolor(self) -> None:
        self._recolor_id = None
        if self._in_flight:
            self._recolor_pending = True  # once the model is free: the window never waits for it
            return
        self.colorize()

    def _dab_event(self, event: tk.Event, start: bool) -> None:
        position = self._image_position(self.sketch_view, self.sketch_photo, self.sketch, event)
        if position is not None:
            self.paint_hint(*position, start=start)

    def _pick_event(self, event: tk.Event, image: np.ndarray | None) -> None:
        photo = self.result_photo if image is self.result else self.reference_photo
        view = self.result_view if image is self.result else self.reference_view
        position = self._image_position(view, photo, image, event)
        if position is not None:
            self.pick_color(image, *position)

    @staticmethod
    def _image_position(view: tk.Label, photo, image, event) -> tuple[int, int] | None:
        """The image pixel under a click on a panel (the picture is centred in it, scaled to fit)."""
        if photo is None or image is None:
            return None
        left = (view.winfo_width() - photo.width()) / 2
        top = (view.winfo_height() - photo.height()) / 2
        scale = image.shape[1] / photo.width()
        return int((event.x - left) * scale), int((event.y - top) * scale)

    def _show_sketch(self) -> None:
        shown = self.sketch if self.hints is None else over_sketch(self.sketch, self.hints.render())
        self.sketch_photo = self._show(self.sketch_view, shown)

    def colorize(self) -> None:
        """Start colouring the open sketch in the worker; returns at once (wait on ``idle``)."""
        if self.sketch is None:
            self._error("Open a sketch first.")
            return
        if self._in_flight:
            return
        hints = None if self.hints is None or self.hints.empty else self.hints.render()
        task = _Color(self.sketch, self._generation, self.output_mode, hints, self._hint_version)
        self._submit(task, f"Colourising {self.sketch_path.name}…")

    @property
    def output_mode(self) -> OutputMode:
        """line_faithful, unless the "Stretched output" toggle asks for the raw square stretched."""
        return "raw" if self.stretched.get() else "line_faithful"

    def set_stretched(self, stretched: bool) -> None:
        """What the toggle does: show the other output of the same model answer."""
        self.stretched.set(stretched)
        self._output_changed()

    def _output_changed(self) -> None:
        if self.result is not None:
            self.colorize()

    def save_result(self, path: str | Path) -> bool:
        """Write the result at the sketch's own size; an unknown extension becomes .png."""
        if self.result is None:
            self._error("Nothing to save yet: colourise a sketch first.")
            return False
        path = Path(path)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            path = path.with_name(path.name + ".png")
        try:
            write_rgb(self.result, path)
        except OSError as exc:
            self._error(f"Could not save {path}: {exc.strerror or exc}")
            return False
        self._set_status(f"Saved {path}.")
        return True

    def choose_model(self, path: str | Path | None) -> None:
        """Switch to another generator (.keras, .tflite, SavedModel folder); loads in the worker."""
        self.model_path = Path(path) if path else None
        self.backend = None
        self._submit(_Load(self.model_path), f"Loading {self.model_path or 'the default model'}…")

    def wait_until_idle(self, timeout: float = 60.0) -> bool:
        """Run the Tk event loop until no work is in flight; False on timeout."""
        deadline = time.monotonic() + timeout
        while not self.idle.is_set():
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
        self.root.after_cancel(self._poll_id)
        self._worker.tasks.put(None)
        self.root.destroy()

    # -------------------------------------------------------- dialogs (what the buttons open)

    def _ask_open_sketch(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        name = filedialog.askopenfilename(
            parent=self.root, title="Open sketch", filetypes=[("Images", patterns), ("All files", "*")]
        )
        if name:
            self.open_sketch(name)

    def _ask_save_result(self) -> None:
        if self.result is None:
            self._error("Nothing to save yet: colourise a sketch first.")
            return
        stem = self.sketch_path.stem if self.sketch_path else "sketch"
        name = filedialog.asksaveasfilename(
            parent=self.root,
            title="Save result",
            defaultextension=".png",
            initialfile=f"{stem}_color.png",
            filetypes=[("PNG", "*.png"), ("JPEG", "*.jpg")],
        )
        if name:
            self.save_result(name)

    def _ask_hint_color(self) -> None:
        from tkinter import colorchooser

        chosen, _ = colorchooser.askcolor(color=_hex(self.hint_color), parent=self.root, title="Hint colour")
        if chosen:
            self.set_hint_color(chosen)

    def _ask_reference(self) -> None:
        patterns = " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))
        name = filedialog.askopenfilename(
            parent=self.root,
            title="Open a reference picture",
            filetypes=[("Images", patterns), ("All files", "*")],
        )
        if name:
            self.open_reference(name)

    def _ask_model(self) -> None:
        name = filedialog.askopenfilename(
            parent=self.root,
            title="Choose a generator (for a SavedModel, pick its saved_model.pb)",
            filetypes=[("Generators", "*.keras *.tflite saved_model.pb"), ("All files", "*")],
        )
        if name:
            self.choose_model(name)

    # -------------------------------------------------------- plumbing

    def _submit(self, task: _Load | _Color, message: str) -> None:
        self._in_flight += 1
        self.idle.clear()
        self._worker.tasks.put(task)
        self._set_status(message)
        self.progress.configure(mode="indeterminate")
        self.progress.start(12)
        self._update_buttons()

    def _poll(self) -> None:
        """Apply what the worker finished; runs on the Tk thread every POLL_MS."""
        while True:
            try:
                kind, payload = self._results.get_nowait()
            except queue.Empty:
                break
            if kind == "note":
                self._set_status(payload)
            elif kind == "model":
                self._show_model(payload)
            elif kind == "result":
                self._show_result(*payload)
            elif kind == "error":
                self._error(payload)
            else:  # "done": one task finished
                self._in_flight -= 1
                if self._in_flight == 0 and self._recolor_pending:
                    self._recolor_pending = False
                    self.root.after_idle(self.colorize)
                if self._in_flight == 0:
                    self.progress.stop()
                    self.progress.configure(mode="determinate", value=0)  # empty, not a frozen block
                    self._update_buttons()
                    self.idle.set()
        if not self._closed:
            self._poll_id = self.root.after(POLL_MS, self._poll)

    def _show_model(self, backend: Backend | None) -> None:
        self.backend = backend
        if backend is None:
            self.model_label.configure(text="model: none")
            return
        self.model_label.configure(
            text=f"model: {backend.path.name} ({backend.format}, {backend.input_size} px)"
        )
        self._set_status(f"Model ready: {backend.path}.")

    def _show_result(self, result: np.ndarray, seconds: float, generation: int) -> None:
        if generation != self._generation:
            return  # another sketch was opened meanwhile; this result is not for it
        self.result = result
        self.result_photo = self._show(self.result_view, result)
        name = self.sketch_path.name if self.sketch_path else "sketch"
        self._set_status(f"Colourised {name} in {seconds:.2f} s. Save it with Save result… (Ctrl+S).")

    def _show(self, view: tk.Label, rgb: np.ndarray) -> tk.PhotoImage:
        photo = photo_from_rgb(self.root, fit_for_display(rgb))
        view.configure(image=photo, text="")
        return photo  # the caller keeps it: Tk shows nothing once Python drops the image

    def _set_status(self, message: str) -> None:
        self.status.set(message)
        self.status_label.configure(fg=TEXT_COLOR)

    def _error(self, message: str) -> None:
        self.last_error = message
        self.status.set(message)
        self.status_label.configure(fg=ERROR_COLOR)

    def _update_buttons(self) -> None:
        busy = self._in_flight > 0
        self.color_button.state(["disabled"] if busy or self.sketch is None else ["!disabled"])
        self.model_button.state(["disabled"] if busy else ["!disabled"])
        self.save_button.state(["disabled"] if self.result is None else ["!disabled"])


# ---------------------------------------------------------------- entry points


def open_window(screen: str | None = None) -> tk.Tk:
    """A Tk root on ``screen`` (default: $DISPLAY), or a clear error when there is no display."""
    try:
        return tk.Tk(screenName=screen, className="sketch2color")
    except tk.TclError as exc:
        raise Sketch2ColorError(
            f"cannot open a window ({exc}); on a machine without a screen run it under a virtual "
            "display, e.g. `xvfb-run sketch2color gui`"
        ) from None


def run_gui(model_path: Path | None = None) -> int:
    """``sketch2color gui``: open the window and run until it is closed."""
    root = open_window()
    ColorizerApp(root, model_path)
    root.mainloop()
    return 0
