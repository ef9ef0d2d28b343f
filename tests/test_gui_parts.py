"""The window's parts that need no screen: zoom and pan arithmetic, the hint layer's history and files,
and what a view shows (dabs outlined so a pale one shows on white)."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from sketch2color.gui.display import OUTLINE_DARK, OUTLINE_LIGHT, over_picture, render_view
from sketch2color.gui.hint_layer import HintLayer, hints_file, remember_hints, save_hints, saved_hints_for
from sketch2color.gui.viewport import MAX_SCALE, Viewport

SKIN = (250, 222, 200)


def test_zooming_keeps_the_point_under_the_pointer_and_pan_moves_the_picture():
    view = Viewport()
    view.show_image(2000, 4000, 400, 300)  # a wide picture in a 400x300 view
    assert view.scale == pytest.approx(0.1)
    assert view.pixel_at(200, 150, 400, 300) == (2000, 1000)
    assert view.pixel_at(5, 5, 400, 300) is None  # above the picture: paper-less margin
    before = view.to_image(300, 120, 400, 300)
    view.zoom_at(4.0, 300, 120, 400, 300)
    assert view.scale == pytest.approx(0.4)
    assert np.allclose(view.to_image(300, 120, 400, 300), before)
    for _ in range(40):
        view.zoom_at(2.0, 0, 0, 400, 300)
    assert view.scale == MAX_SCALE
    view.fit(400, 300)
    view.pan(-100, 0)  # drag the picture left: the view looks further right
    assert view.centre_x == pytest.approx(2000 + 100 / 0.1)
    view.pan(-1e9, -1e9)
    assert (view.centre_x, view.centre_y) == (4000, 2000)  # never past the picture's edge


def test_a_view_crops_before_it_scales_and_shows_each_pixel_as_a_square_when_zoomed_in():
    picture = np.zeros((4000, 3000, 3), np.uint8)
    picture[1000, 1000] = (255, 0, 0)
    view = Viewport()
    view.show_image(4000, 3000, 200, 100)
    view.scale, view.centre_x, view.centre_y = 8.0, 1000.5, 1000.5
    shown = render_view(picture, view, 200, 100)
    assert shown.shape == (100, 200, 3)
    red = np.argwhere((shown == (255, 0, 0)).all(axis=-1))
    assert len(red) == 64 and red.min(axis=0).tolist() == [46, 96]  # an 8x8 square in the middle


def test_a_pale_dab_on_white_is_ringed_dark_then_light_and_keeps_its_colour():
    picture = np.full((40, 40, 3), 255, np.uint8)
    picture[:, 30:] = 0  # a black area on the right
    hints = np.zeros((40, 40, 4), np.uint8)
    hints[10:20, 10:20] = (*SKIN, 255)
    hints[10:20, 22:32] = (*SKIN, 255)  # a second dab reaching into the black
    shown = over_picture(picture, hints)
    assert (shown[10:20, 10:20] == SKIN).all()  # the dab whole, however small
    assert tuple(shown[15, 9]) == OUTLINE_DARK and tuple(shown[15, 8]) == OUTLINE_LIGHT
    assert tuple(shown[15, 33]) == OUTLINE_LIGHT  # the light ring shows on black
    assert (over_picture(picture, np.zeros_like(hints)) == picture).all()


def test_brush_eraser_undo_and_redo():
    layer = HintLayer(100, 120)
    assert layer.empty and not layer.dirty and layer.hints_or_none() is None
    layer.begin(20, 20, (200, 30, 30), 4)
    layer.extend(60, 20)
    assert not layer.empty and tuple(layer.render()[20, 40]) == (200, 30, 30, 255)
    layer.begin(40, 20, None, 6)  # the eraser through the middle of the stroke
    assert layer.render()[20, 40, 3] == 0 and layer.render()[20, 20, 3] == 255
    assert layer.undo() and layer.render()[20, 40, 3] == 255  # the erasing taken back
    assert layer.redo() and layer.render()[20, 40, 3] == 0
    assert layer.undo() and layer.undo() and layer.empty and not layer.undo()
    assert layer.redo()
    layer.begin(90, 90, (0, 0, 255), 2)  # a new step after an undo: nothing left to redo
    assert not layer.redo()
    assert layer.clear() and layer.empty and layer.undo() and not layer.empty  # clearing is a step too
    copy = layer.hints_or_none()
    copy[:] = 0
    assert not layer.empty  # the model gets a copy


def test_an_eraser_that_takes_the_last_dab_leaves_the_layer_empty():
    layer = HintLayer(50, 50)
    layer.begin(25, 25, (10, 200, 10), 3)
    layer.begin(20, 25, None, 10)
    layer.extend(30, 25)
    assert layer.empty


def test_hint_files_are_written_when_saved_and_the_newest_is_offered(tmp_path):
    sketch = tmp_path / "art" / "cat.png"
    sketch.parent.mkdir()
    sketch.write_bytes(b"")
    assert saved_hints_for(sketch) is None
    layer = HintLayer(30, 30)
    layer.begin(10, 10, (1, 2, 3), 2)
    assert layer.dirty
    beside = hints_file(sketch)
    save_hints(layer, beside)
    assert not layer.dirty and saved_hints_for(sketch) == beside
    elsewhere = tmp_path / "hints" / "cat-v2.png"
    save_hints(layer, elsewhere)
    later = time.time() + 5
    os.utime(elsewhere, (later, later))
    remember_hints(sketch, elsewhere)
    assert saved_hints_for(sketch) == elsewhere  # where they were saved last, newer than the one beside
    elsewhere.unlink()
    assert saved_hints_for(sketch) == beside


# ---------------------------------------------------------------- what the worker keeps between dabs


def _box_sketch() -> np.ndarray:
    sketch = np.full((96, 96, 3), 255, np.uint8)
    sketch[20:23, 20:76] = sketch[73:76, 20:76] = sketch[20:76, 20:23] = sketch[20:76, 73:76] = 0
    return sketch


def _dab(hints: np.ndarray, x: int, y: int, color) -> np.ndarray:
    marked = hints.copy()
    marked[y - 2 : y + 3, x - 2 : x + 3] = (*color, 255)
    return marked


def test_a_hint_model_shows_a_new_dab_at_once_then_its_own_answer(tmp_path):
    """The recolorer's first look fills the new dab over the model's colour for the previous dabs;
    recolor then runs the model with them, and keeps the regions it found."""
    from sketch2color.gui.worker import ModelRecolorer
    from sketch2color.inference.backends import KerasBackend

    from tiny_generators import save_hint_identity, save_identity

    hinted = ModelRecolorer(KerasBackend(save_hint_identity(tmp_path / "h.keras"), "eval"), _box_sketch())
    empty = np.zeros((96, 96, 4), np.uint8)
    assert hinted.first_look(empty, 0, None) is None  # nothing coloured yet to show a dab over
    hinted.recolor(empty, 0, None)
    regions = hinted._regions
    red = _dab(empty, 48, 48, (200, 30, 40))
    look = hinted.first_look(red, 1, None)
    assert look is not None and (look.layers.flat[30:66, 30:66] == (200, 30, 40)).all()
    answer = hinted.recolor(red, 1, None)
    assert (answer.layers.flat[30:66, 30:66] == (200, 30, 40)).all()
    assert hinted._regions is regions  # the segmentation was kept
    assert hinted.first_look(red, 1, None) is None  # the model has seen these dabs already

    plain = ModelRecolorer(KerasBackend(save_identity(tmp_path / "p.keras"), "eval"), _box_sketch())
    plain.recolor(empty, 0, None)
    assert plain.first_look(red, 1, None) is None  # its colour never depends on the dabs
    assert (plain.recolor(red, 1, None).layers.flat[30:66, 30:66] == (200, 30, 40)).all()
