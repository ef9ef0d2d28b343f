"""The desktop window under a private Xvfb display: open, colourise, show, save, refuse unsafe models.

Needs the Debian package ``xvfb``; without it these tests are skipped with
that reason (CI installs it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from gui_screen import capture_window, virtual_display, xvfb_installed
from PIL import Image

from sketch2color.paths import ProjectPaths

from tiny_generators import RED, save_hint_echo, save_lambda_model, save_pickle_payload, save_red

pytestmark = pytest.mark.skipif(not xvfb_installed(), reason="Xvfb is not installed (Debian package: xvfb)")

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
BLUE = (0, 0, 255)
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def screen():
    with virtual_display() as name:
        yield name


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gui-models")
    return {"red": save_red(folder / "red.keras"), "lambda": save_lambda_model(folder / "lambda.keras")}


@pytest.fixture
def window(screen, tmp_path):
    """A started app factory; every window it opens is closed after the test."""
    from sketch2color.gui import ColorizerApp, open_window

    apps = []

    def start(model: Path | None):
        app = ColorizerApp(open_window(screen), model, paths=ProjectPaths(tmp_path))
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.close()


def blue_sketch(path: Path) -> Path:
    """A 50x30 sketch: white, a pure blue left third, a black line."""
    image = np.full((30, 50, 3), 255, np.uint8)
    image[:, :16] = BLUE
    image[15, :] = 0
    Image.fromarray(image).save(path)
    return path


def test_open_colorize_show_and_save_in_true_colors(window, screen, models, tmp_path):

    app = window(models["red"])
    assert app.wait_until_idle(TIMEOUT_S), "the model did not load"
    assert app.backend is not None and app.last_error is None

    assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
    assert app.sketch_view.cget("image") == str(app.sketch_photo)
    shown = app.sketch_photo
    assert shown.get(5, shown.height() // 4) == BLUE  # the sketch on screen is not channel-swapped

    app.colorize()
    # Colouring happens in the worker; its result is only applied by the Tk loop.
    assert not app.idle.is_set() and app.result_photo is None
    assert app.wait_until_idle(TIMEOUT_S), "colourising did not finish"

    assert app.last_error is None
    assert app.result_view.cget("image") == str(app.result_photo)
    photo = app.result_photo
    assert photo.width() > 0 and photo.get(3 * photo.width() // 4, photo.height() // 4) == RED

    target = tmp_path / "saved" / "result.png"
    assert app.save_result(target)
    saved = np.asarray(Image.open(target))
    assert saved.shape == (30, 50, 3)  # the sketch's own size, not the model's
    # Line-faithful: the red fill on the paper, the sketch's line (and its blue, multiplied) over it.
    assert (saved[:14, 16:] == RED).all() and (saved[15] == 0).all()

    app.set_stretched(True)  # the toggle: the model's square stretched, nothing laid over it
    assert app.wait_until_idle(TIMEOUT_S) and app.last_error is None
    assert (app.result == RED).all()
    app.set_stretched(False)
    assert app.wait_until_idle(TIMEOUT_S)
    assert np.array_equal(app.result, saved)

    picture = np.asarray(Image.open(capture_window(app.root, tmp_path / "window.png", screen)).convert("RGB"))
    assert picture.shape[:2] == (app.root.winfo_height(), app.root.winfo_width())
    assert ((picture == RED).all(axis=2)).sum() > 1000  # the result is really on screen, in red


def test_a_lambda_layer_model_is_refused_in_the_window(window, models, tmp_path):
    app = window(models["lambda"])
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.backend is None
    assert "refused" in app.last_error and "lambda.keras" in app.last_error
    assert app.status.get() == app.last_error  # the user sees it in the status bar

    assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.result is None and "refused" in app.last_error


def test_choosing_a_pickle_as_model_is_refused_and_a_good_one_works_again(window, models, tmp_path):
    marker = tmp_path / "pwned"
    app = window(models["red"])
    assert app.wait_until_idle(TIMEOUT_S) and app.backend is not None

    app.choose_model(save_pickle_payload(tmp_path / "evil.keras", marker))
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.backend is None and "evil.keras" in app.last_error and not marker.exists()

    app.choose_model(models["red"])
    assert app.wait_until_idle(TIMEOUT_S) and app.backend is not None


def test_a_bad_sketch_file_is_named_and_changes_nothing(window, models, tmp_path):
    app = window(models["red"])
    bad = tmp_path / "broken.png"
    bad.write_text("not an image")
    assert not app.open_sketch(bad)
    assert "broken.png" in app.last_error and app.sketch is None
    assert not app.save_result(tmp_path / "nothing.png") and not (tmp_path / "nothing.png").exists()


def click(widget, x: int, y: int, drag_to: tuple[int, int] | None = None) -> None:
    """A real press (and drag) and release on ``widget`` at its own pixel coordinates."""
    widget.event_generate("<ButtonPress-1>", x=x, y=y, warp=True)
    if drag_to is not None:
        widget.event_generate("<B1-Motion>", x=drag_to[0], y=drag_to[1])
    widget.event_generate("<ButtonRelease-1>", x=drag_to[0] if drag_to else x, y=drag_to[1] if drag_to else y)


def on_panel(app, view, photo, image_x: int, image_y: int) -> tuple[int, int]:
    """Where pixel (x, y) of the shown image is on its panel (the picture is centred and scaled)."""
    scale = photo.width() / app.sketch.shape[1]
    left = (view.winfo_width() - photo.width()) / 2
    top = (view.winfo_height() - photo.height()) / 2
    return round(left + image_x * scale), round(top + image_y * scale)


def test_a_dab_placed_with_the_mouse_recolors_the_result_there_and_is_kept_with_the_sketch(window, tmp_path):
    app = window(save_hint_echo(tmp_path / "echo.keras"))  # paints each hint's colour, black elsewhere
    assert app.wait_until_idle(TIMEOUT_S) and app.backend.takes_hints
    sketch = tmp_path / "drawing.png"
    drawing = np.full((120, 160, 3), 255, np.uint8)
    drawing[40:43, 60:101] = drawing[78:81, 60:101] = drawing[40:81, 60:63] = drawing[40:81, 98:101] = 0
    Image.fromarray(drawing).save(sketch)  # a closed outline; the dab goes inside it
    assert app.open_sketch(sketch)
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.result[40:80, 60:100].max() < 40  # no hints yet: black everywhere

    # The stretched output shows the model's own answer: this one paints only where a hint is.
    app.set_stretched(True)
    assert app.wait_until_idle(TIMEOUT_S)
    app.set_hint_color((30, 200, 60))
    app.brush.set(6)
    app.root.update()
    click(app.sketch_view, *on_panel(app, app.sketch_view, app.sketch_photo, 80, 60))
    # The dab is drawn over the sketch at once; the result follows in the worker a moment later.
    shown = app.sketch_photo.get(*[round(v * app.sketch_photo.width() / 160) for v in (80, 60)])
    assert shown == (30, 200, 60)
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline and (app.result[60, 80].astype(int)[1] < 120 or not app.idle.is_set()):
        app.root.update()
        time.sleep(0.02)
    green = app.result[57:64, 77:84].reshape(-1, 3).mean(axis=0)
    assert green[1] > 120 and green[0] < 100, green  # the result changed colour where the dab is
    assert app.result[5:20, 5:20].max() < 40  # and nowhere else
    app.set_stretched(False)  # line-faithful: the dab's colour spreads inside its outline, not past it
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.result[50:70, 70:90, 1].mean() > 50 and app.result[5:20, 5:20].max() < 40

    # The dabs are kept beside the sketch and come back with it; undo takes the last one away.
    assert (tmp_path / "drawing.hints.png").is_file()
    again = window(save_hint_echo(tmp_path / "echo2.keras"))
    assert again.wait_until_idle(TIMEOUT_S) and again.open_sketch(sketch)
    assert not again.hints.empty
    again.undo_hint()
    assert again.hints.empty and not (tmp_path / "drawing.hints.png").exists()


def test_a_color_is_picked_from_the_result_and_from_a_reference(window, tmp_path, models):
    app = window(models["red"])
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    app.root.update()
    click(app.result_view, *on_panel(app, app.result_view, app.result_photo, 40, 5))
    assert app.hint_color == RED
    reference = tmp_path / "reference.png"
    Image.fromarray(np.full((50, 50, 3), (10, 120, 240), np.uint8)).save(reference)
    assert app.open_reference(reference)
    app.root.update()
    view, photo = app.reference_view, app.reference_photo
    click(view, view.winfo_width() // 2, view.winfo_height() // 2)
    assert app.hint_color == (10, 120, 240)
    assert photo.width() > 0
