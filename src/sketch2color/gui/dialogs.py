"""What the buttons open: Tk's file and colour dialogs, and the question before unsaved hints are dropped.

Each asks, then calls the window's action with the answer, so everything a
dialog leads to can also be done without one (a script, a test).
"""

from __future__ import annotations

from pathlib import Path
from tkinter import colorchooser, filedialog, messagebox
from typing import TYPE_CHECKING

from sketch2color.data.images import IMAGE_SUFFIXES
from sketch2color.gui.display import hex_color
from sketch2color.gui.hint_layer import hints_file
from sketch2color.layered import OUTPUT_SUFFIXES

if TYPE_CHECKING:
    from sketch2color.gui.window import ColorizerApp

SAVE_TYPES = [
    ("PNG picture", "*.png"),
    ("OpenRaster layers (Krita, GIMP, MyPaint)", "*.ora"),
    ("Photoshop layers", "*.psd"),
    ("JPEG picture", "*.jpg"),
    ("Any picture", " ".join(f"*{s}" for s in sorted(OUTPUT_SUFFIXES))),
]
MODEL_TYPES = [("Generators", "*.keras *.tflite saved_model.pb MLmodel formats.json"), ("All files", "*")]
FOLDER_MARKERS = ("saved_model.pb", "MLmodel", "formats.json")
"""A file that stands for its folder: a SavedModel, an MLflow model, an export folder."""


def image_types() -> list[tuple[str, str]]:
    return [("Images", " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES))), ("All files", "*")]


def open_sketch(app: ColorizerApp) -> None:
    if not hints_may_go(app):
        return
    name = filedialog.askopenfilename(parent=app.root, title="Open sketch", filetypes=image_types())
    if name:
        app.open_sketch(name)


def save_result(app: ColorizerApp) -> None:
    if app.recolored is None:
        app.error("Nothing to save yet: colourise a sketch first.")
        return
    stem = app.sketch_path.stem if app.sketch_path else "sketch"
    name = filedialog.asksaveasfilename(
        parent=app.root,
        title="Save the picture, or its layers",
        defaultextension=".png",
        initialfile=f"{stem}_color.png",
        filetypes=SAVE_TYPES,
    )
    if name:
        app.save_result(name)


def save_hints(app: ColorizerApp) -> None:
    if app.hints is None or app.hints.empty or app.sketch_path is None:
        app.error("No hints to save: paint some on the sketch first.")
        return
    default = hints_file(app.sketch_path)
    name = filedialog.asksaveasfilename(
        parent=app.root,
        title="Save hints",
        defaultextension=".png",
        initialdir=str(default.parent),
        initialfile=default.name,
        filetypes=[("Hints (PNG with alpha)", "*.png")],
    )
    if name:
        app.save_hints(name)


def hint_color(app: ColorizerApp) -> None:
    chosen, _ = colorchooser.askcolor(color=hex_color(app.hint_color), parent=app.root, title="Hint colour")
    if chosen:
        app.set_hint_color(chosen)


def open_reference(app: ColorizerApp) -> None:
    name = filedialog.askopenfilename(
        parent=app.root, title="Open a reference picture", filetypes=image_types()
    )
    if name:
        app.open_reference(name)


def choose_model(app: ColorizerApp) -> None:
    name = filedialog.askopenfilename(
        parent=app.root,
        title="Choose a generator (for a SavedModel, MLflow model or export folder: its "
        "saved_model.pb, MLmodel or formats.json)",
        filetypes=MODEL_TYPES,
    )
    if name:
        path = Path(name)
        app.choose_model(path.parent if path.name in FOLDER_MARKERS else path)


def hints_may_go(app: ColorizerApp) -> bool:
    """Ask before unsaved hints are dropped (another sketch, closing); False when the user cancels."""
    if app.hints is None or app.hints.empty or not app.hints.dirty:
        return True
    answer = messagebox.askyesnocancel(
        "Unsaved hints", "Save the hints on this sketch first?", parent=app.root
    )
    if answer is None:
        return False
    if answer:
        save_hints(app)
        return not app.hints.dirty
    return True


def close(app: ColorizerApp) -> None:
    if hints_may_go(app):
        app.close()
