"""The desktop window under a private Xvfb display, driven as a user drives it.

The artist's session at the end sends real X mouse and key events with
xdotool (zoom with the wheel, pan, dab, erase, undo, redo, Alt-click), then
saves an .ora and a .psd and reads both back. The other tests call the
window's actions as its buttons do. Needs the Debian packages ``xvfb`` and
``xdotool`` (``make system-deps``); without them these tests are skipped
with that reason.
"""

from __future__ import annotations

import gc
import io
import os
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from gui_screen import Pointer, capture_window, virtual_display, xdotool_installed, xvfb_installed
from PIL import Image

from sketch2color.paths import ProjectPaths

from tiny_generators import (
    RED,
    save_hint_echo,
    save_hint_identity,
    save_lambda_model,
    save_pickle_payload,
    save_red,
)

pytestmark = pytest.mark.skipif(not xvfb_installed(), reason="Xvfb is not installed (Debian package: xvfb)")
needs_xdotool = pytest.mark.skipif(
    not xdotool_installed(), reason="xdotool is not installed (Debian: xdotool)"
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
BLUE = (0, 0, 255)
GREEN = (30, 200, 60)
TIMEOUT_S = 120


@pytest.fixture(scope="module")
def screen():
    with virtual_display(1280, 800) as name:
        yield name


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gui-models")
    return {
        "red": save_red(folder / "red.keras"),
        "lambda": save_lambda_model(folder / "lambda.keras"),
        "echo": save_hint_echo(folder / "echo.keras"),
        "hint_identity": save_hint_identity(folder / "hint_identity.keras"),
    }


@pytest.fixture
def window(screen, tmp_path):
    """A factory of started windows, each closed after the test."""
    from sketch2color.gui import ColorizerApp, open_window

    apps = []

    def start(model: Path | None, geometry: str = "1024x600+0+0"):
        root = open_window(screen)
        root.geometry(geometry)
        app = ColorizerApp(root, model, paths=ProjectPaths(tmp_path))
        apps.append(app)
        assert app.wait_until_idle(TIMEOUT_S), "the model did not load"
        return app

    yield start
    for app in apps:
        app.close()
    apps.clear()
    gc.collect()  # here, on Tk's thread: collected later on the worker's, Tk objects complain


def blue_sketch(path: Path) -> Path:
    """A 50x30 sketch: white, a pure blue left third, a black line."""
    image = np.full((30, 50, 3), 255, np.uint8)
    image[:, :16] = BLUE
    image[15, :] = 0
    Image.fromarray(image).save(path)
    return path


def boxes(path: Path, side: int = 160) -> Path:
    """White paper with two closed boxes side by side, as line art of ``side`` px."""
    image = np.full((side, side, 3), 255, np.uint8)
    unit = side // 16
    for left in (2 * unit, 9 * unit):
        image[4 * unit : 12 * unit, left : left + 5 * unit] = 0
        image[4 * unit + 2 : 12 * unit - 2, left + 2 : left + 5 * unit - 2] = 255
    Image.fromarray(image).save(path)
    return path


def shown_at(view, column: float, row: float) -> tuple[int, int, int]:
    """The colour a view shows at picture pixel (column, row)."""
    x, y = view.screen_point(column, row)
    return tuple(int(c) for c in view.shown[int(y), int(x)])


# ---------------------------------------------------------------- the actions, as the buttons call them


def test_open_colorize_show_and_save_in_true_colors(window, screen, models, tmp_path):
    app = window(models["red"])
    assert app.backend is not None and app.last_error is None
    assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
    assert shown_at(app.sketch_view, 5, 5) == BLUE  # not channel-swapped on screen

    app.colorize()
    assert not app.idle.is_set() and app.result is None  # the worker colours; Tk applies it later
    assert app.wait_until_idle(TIMEOUT_S) and app.last_error is None
    assert shown_at(app.result_view, 40, 5) == RED

    target = tmp_path / "saved" / "result.png"
    assert app.save_result(target) and app.wait_until_idle(TIMEOUT_S) and app.last_error is None
    saved = np.asarray(Image.open(target))
    assert saved.shape == (30, 50, 3)  # the sketch's own size, not the model's
    assert (saved[:14, 16:] == RED).all() and (saved[15] == 0).all()  # line-faithful: lines over colour

    app.set_stretched(True)  # the toggle shows the model's square stretched: nothing laid over it
    assert (app.result == RED).all() and shown_at(app.result_view, 40, 15) == RED
    app.set_stretched(False)
    assert np.array_equal(app.result, saved)

    picture = np.asarray(Image.open(capture_window(app.root, tmp_path / "window.png", screen)).convert("RGB"))
    assert ((picture == RED).all(axis=2)).sum() > 1000  # the result is really on screen, in red


def test_a_name_that_cannot_be_written_is_refused_by_its_extension(window, models, tmp_path):
    app = window(models["red"])
    assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    assert not app.save_result(tmp_path / "picture.tga")
    assert ".tga" in app.last_error and app.status == app.last_error
    assert not (tmp_path / "picture.tga").exists() and not (tmp_path / "picture.tga.png").exists()


def test_a_lambda_layer_model_is_refused_in_the_window(window, models, tmp_path):
    app = window(models["lambda"])
    assert app.backend is None
    assert "refused" in app.last_error and "lambda.keras" in app.last_error
    assert app.status == app.last_error  # the user sees it in the status bar
    assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.result is None and "refused" in app.last_error


def test_choosing_a_pickle_as_model_is_refused_and_a_good_one_works_again(window, models, tmp_path):
    marker = tmp_path / "pwned"
    app = window(models["red"])
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


def test_hints_are_saved_where_the_user_says_and_offered_when_the_sketch_is_reopened(
    window, models, tmp_path
):
    app = window(models["echo"])
    sketch = boxes(tmp_path / "drawing.png")
    assert app.open_sketch(sketch) and app.offered_hints is None
    app.set_hint_color(GREEN)
    app.paint_at(50, 80)
    app.stroke_done()
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.hints.dirty and list(tmp_path.glob("*.hints.png")) == []  # nothing written per stroke

    elsewhere = tmp_path / "my hints" / "cat hints.png"
    assert app.save_hints(elsewhere) and elsewhere.is_file() and not app.hints.dirty
    again = window(models["echo"])
    assert again.open_sketch(sketch) and again.offered_hints == elsewhere  # remembered where they went
    again.root.update()
    assert again.offer_bar.winfo_ismapped()
    assert again.accept_offered_hints() and not again.hints.empty
    again.root.update()
    assert not again.offer_bar.winfo_ismapped()
    again.undo_hint()  # loading them was one step
    assert again.hints.empty

    picture = tmp_path / "out" / "drawing_color.png"
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.save_result(picture) and app.wait_until_idle(TIMEOUT_S) and app.last_error is None
    beside = tmp_path / "out" / "drawing_color.hints.png"
    assert beside.is_file()  # the hints go beside the picture too
    assert np.array_equal(np.asarray(Image.open(beside)), app.hints.render())


def test_a_color_is_picked_from_the_sketch_the_result_and_a_reference(window, tmp_path, models):
    app = window(models["red"])
    assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    assert app.pick_color("result", 40, 5) and app.hint_color == RED
    assert app.pick_color("sketch", 5, 5) and app.hint_color == BLUE
    reference = tmp_path / "reference.png"
    Image.fromarray(np.full((50, 80, 3), (10, 120, 240), np.uint8)).save(reference)
    assert app.open_reference(reference)
    view = app.panel.reference_view
    view.event_generate("<Button-1>", x=view.winfo_width() // 2, y=view.winfo_height() // 2)
    app.root.update()
    assert app.hint_color == (10, 120, 240)


def test_at_1024x600_and_at_its_smallest_the_status_bar_and_every_tool_are_on_screen(
    window, models, tmp_path
):
    for geometry in ("1024x600+0+0", "760x460+0+0"):
        app = window(models["red"], geometry)
        assert app.open_sketch(blue_sketch(tmp_path / "sketch.png"))
        app.root.update()
        height, width = app.root.winfo_height(), app.root.winfo_width()
        assert (width, height) == tuple(int(v) for v in geometry.split("+")[0].split("x"))
        bar = app.status_bar.label
        assert (
            bar.winfo_ismapped() and bar.winfo_rooty() + bar.winfo_height() <= app.root.winfo_rooty() + height
        )
        keys = app.panel.winfo_children()[-1]  # the list of shortcuts, last in the panel
        assert keys.winfo_rooty() + keys.winfo_height() <= bar.winfo_rooty(), geometry
        assert app.sketch_view.winfo_width() > 150 and app.result_view.winfo_width() > 150


# ---------------------------------------------------------------- an artist's session, with real events


@needs_xdotool
def test_an_artists_session_zoom_pan_dab_erase_undo_redo_pick_and_save_layers(
    window, screen, models, tmp_path
):
    """On a 2048 px drawing: zoom in on a small box, dab it, erase the dab, undo and redo, pick a colour
    with Alt-click, pan, and save the picture as .ora and .psd, each read back."""
    app = window(models["hint_identity"])
    side = 2048
    drawing = np.full((side, side, 3), 255, np.uint8)
    drawing[1000:1004, 1000:1064] = drawing[1060:1064, 1000:1064] = 0  # a small box: 64 px of 2048
    drawing[1000:1064, 1000:1004] = drawing[1000:1064, 1060:1064] = 0
    drawing[200:230, 200:230] = (250, 200, 160)  # a patch of skin colour to pick
    Image.fromarray(drawing).save(tmp_path / "big.png")
    assert app.open_sketch(tmp_path / "big.png")
    app.colorize()
    assert app.wait_until_idle(TIMEOUT_S)
    you = Pointer(screen, app.root)
    app.sketch_view.focus_force()  # the window has the keyboard, as after a first click in it
    view = app.sketch_view
    fitted = app.viewport.scale
    assert fitted < 0.25  # the whole 2048 px drawing fits a 1024x600 window

    # Zoom in with the wheel, on the box: it stays under the pointer.
    x, y = view.screen_point(1032, 1032)
    for _ in range(8):
        you.click(view, x, y, button=4)
    assert app.viewport.scale == pytest.approx(fitted * 1.25**8, rel=1e-6)
    assert np.allclose(view.screen_point(1032, 1032), (x, y), atol=2)
    assert (
        max(shown_at(view, 1001, 1032)) < 60 and max(shown_at(app.result_view, 1001, 1032)) < 60
    )  # together

    # Alt-click picks the skin colour, after panning there with the middle button and back with Space.
    px, py = view.screen_point(215, 215)
    assert not (0 <= px < view.view_size[0] and 0 <= py < view.view_size[1])  # off screen at this zoom
    you.key("minus", "minus", "minus", "minus")  # zoom out with keys
    assert app.viewport.scale == pytest.approx(fitted * 1.25**4, rel=1e-6)
    cx, cy = view.view_size[0] / 2, view.view_size[1] / 2

    def drag_into_middle(column: int, row: int, **how) -> None:
        """Pan with drags that start inside the view until picture pixel (column, row) is in its middle."""
        for _ in range(20):
            x, y = view.screen_point(column, row)
            dx, dy = np.clip(cx - x, -150, 150), np.clip(cy - y, -150, 150)
            if abs(dx) < 1 and abs(dy) < 1:
                return
            you.drag(view, [(cx - dx, cy - dy), (cx - dx / 2, cy - dy / 2), (cx, cy)], **how)

    drag_into_middle(215, 215, button=2)  # the middle button
    assert np.allclose(view.screen_point(215, 215), (cx, cy), atol=2)
    you.click(view, cx, cy, modifier="alt")
    assert app.hint_color == (250, 200, 160)
    drag_into_middle(1032, 1032, hold="space")  # Space held and the left button
    assert np.allclose(view.screen_point(1032, 1032), (cx, cy), atol=2)
    assert app.hints.empty  # panning never paints

    # A dab inside the small box, with the brush's size in screen pixels.
    you.key("bracketleft")
    brush = app.brush_px()
    radius = app.brush_radius()
    assert radius == round(brush / 2 / app.viewport.scale)
    you.click(view, cx, cy)
    assert not app.hints.empty and tuple(app.hints.render()[1032, 1032]) == (250, 200, 160, 255)
    assert shown_at(view, 1032, 1032) == (250, 200, 160)  # the dab on screen at once
    assert app.wait_until_idle(TIMEOUT_S)
    assert tuple(app.result[1032, 1032]) == (250, 200, 160)  # the box took the dab's colour
    assert tuple(app.result[1800, 1800]) == (255, 255, 255)  # the paper outside did not
    assert app.panel.recent.colors[0] == (250, 200, 160)

    # Erase it (E, a stroke over it), undo the erasing (Ctrl+Z), redo it (Ctrl+Y), undo again.
    you.key("e")
    assert app.panel.tool.get() == "eraser"
    you.drag(view, [(cx - 15, cy), (cx + 15, cy)])
    assert app.hints.empty
    you.key("ctrl+z")
    assert not app.hints.empty
    you.key("ctrl+y")
    assert app.hints.empty
    you.key("ctrl+z")
    assert tuple(app.hints.render()[1032, 1032]) == (250, 200, 160, 255)
    assert app.wait_until_idle(TIMEOUT_S)
    assert tuple(app.result[1032, 1032]) == (250, 200, 160)

    # Save the layers, and read both files back.
    you.key("b")
    assert app.save_result(tmp_path / "big.ora") and app.save_result(tmp_path / "big.psd")
    assert app.wait_until_idle(TIMEOUT_S) and app.last_error is None, app.last_error
    with zipfile.ZipFile(tmp_path / "big.ora") as archive:
        layers = ElementTree.fromstring(archive.read("stack.xml")).find("stack").findall("layer")
        assert [layer.get("name") for layer in layers] == ["Dabs", "Line art", "Flat colour", "Paper"]
        dabs = np.asarray(Image.open(io.BytesIO(archive.read(layers[0].get("src")))))
        flat = np.asarray(Image.open(io.BytesIO(archive.read(layers[2].get("src")))))
    assert dabs.shape == flat.shape == (side, side, 4)
    assert tuple(dabs[1032, 1032]) == (250, 200, 160, 255) and dabs[1800, 1800, 3] == 0
    assert tuple(flat[1032, 1032]) == (250, 200, 160, 255) and flat[1800, 1800, 3] == 0
    from psd_tools import PSDImage

    document = PSDImage.open(tmp_path / "big.psd")
    assert [layer.name for layer in document] == ["Paper", "Flat colour", "Line art", "Dabs"]
    assert document.size == (side, side) and not document[3].visible
    assert tuple(np.rint(document[1].numpy()[1032, 1032] * 255).astype(int)) == (250, 200, 160, 255)
    assert (tmp_path / "big.hints.png").is_file()
