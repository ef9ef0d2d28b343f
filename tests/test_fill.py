"""Dabs fill the region the artist meant, across gaps in its outline, and nothing else.

The model's colour here is a flat grey, so every pixel a dab did not reach
shows grey: a test can tell the filled region from the rest exactly.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sketch2color.inference.colorizer import colorize_image
from sketch2color.inference.compose import FillSettings, compose_layers, line_faithful
from sketch2color.inference.regions import WORKING_SIDE, default_gap, find_regions
from sketch2color.inference.user_hints import Dab, empty_hints, paint_dab

GREY = (128, 128, 128)
WHITE = (255, 255, 255)
RED = (220, 30, 40)
BLUE = (30, 40, 220)


def two_boxes(side: int = 200) -> np.ndarray:
    """White paper with two black square outlines, one (left) closed, one (right) with a 10 px gap."""
    sketch = np.full((side, side, 3), 255, np.uint8)
    cv2.rectangle(sketch, (20, 60), (90, 140), (0, 0, 0), 3)
    cv2.rectangle(sketch, (110, 60), (180, 140), (0, 0, 0), 3)
    sketch[95:105, 178:183] = 255
    return sketch


def gapped_circle(side: int = 512, gap: int = 12) -> np.ndarray:
    """A circle of radius 150 drawn with a soft 3 px line, with a ``gap`` px opening on its right."""
    sketch = np.full((side, side, 3), 255, np.uint8)
    cv2.circle(sketch, (side // 2, side // 2), 150, (0, 0, 0), 3, lineType=cv2.LINE_AA)
    y = side // 2
    sketch[y - gap // 2 : y + gap - gap // 2, side // 2 + 140 : side // 2 + 160] = 255
    return sketch


def model_color(color=GREY, size: int = 16) -> np.ndarray:
    return np.full((size, size, 3), color, np.uint8)


def dabs(side: int, *placed: tuple[int, int, tuple[int, int, int]], radius: int = 4) -> np.ndarray:
    hints = empty_hints(side, side)
    for x, y, color in placed:
        paint_dab(hints, Dab(x, y, color), radius)
    return hints


def left_inside(picture: np.ndarray) -> np.ndarray:
    return picture[66:135, 26:85].reshape(-1, 3)


def right_inside(picture: np.ndarray) -> np.ndarray:
    return picture[66:135, 116:175].reshape(-1, 3)


def disc(side: int, radius: int) -> np.ndarray:
    return cv2.circle(np.zeros((side, side), np.uint8), (side // 2, side // 2), radius, 1, -1) > 0


def test_a_dab_in_a_circle_whose_outline_has_a_gap_fills_the_circle_and_not_the_paper():
    sketch = gapped_circle()
    assert default_gap(512, 512) > 12
    for model in (GREY, WHITE):
        layers = compose_layers(sketch, model_color(model), dabs(512, (256, 256, RED)))
        picture = layers.picture
        assert (picture[disc(512, 146)] == RED).all()  # the whole circle, up to the line
        outside = ~disc(512, 156)
        assert (picture[outside] == model).all()  # the paper keeps the model's colour (white: paper)
        lines = sketch.min(axis=-1) < 250
        # Under the line's soft edge the flat colour is the dab's: no white fringe.
        assert (layers.flat[disc(512, 149) & lines] == RED).all()


def test_the_gap_setting_decides_whether_an_outline_with_a_gap_holds_a_dab():
    """A shape whose gap is wider than the setting is part of the background: the dab follows the
    model's colour out through the gap (here the model's grey is everywhere)."""
    sketch = gapped_circle()
    hints = dabs(512, (256, 256, RED))
    held = line_faithful(sketch, model_color(), hints)
    assert (held[disc(512, 146)] == RED).all() and (held[~disc(512, 156)] == GREY).all()
    opened = line_faithful(sketch, model_color(), hints, FillSettings(gap=4))
    assert (opened[~disc(512, 156)] == RED).all()
    # Where the model left the shape paper, the dab takes its basin: up to the gap, not the page.
    white = line_faithful(sketch, model_color(WHITE), hints, FillSettings(gap=4))
    assert (white[disc(512, 140)] == RED).mean() > 0.95 and (white[~disc(512, 170)] == WHITE).all()


def test_the_line_pixels_stay_the_sketchs_own():
    sketch = two_boxes()
    picture = line_faithful(sketch, model_color(), dabs(200, (40, 80, RED)))
    lines = sketch.min(axis=-1) == 0
    assert (picture[lines] == 0).all()


def test_a_dab_in_a_closed_shape_fills_it_and_leaves_the_paper_and_the_other_shape_alone():
    picture = line_faithful(two_boxes(), model_color(), dabs(200, (40, 80, RED)))
    assert (left_inside(picture) == RED).all()
    assert (picture[5:15, 5:195] == GREY).all()
    assert (right_inside(picture) == GREY).all()


def test_two_dabs_of_different_colours_in_one_region_split_it_and_one_colour_fills_it_flat():
    sketch = two_boxes()
    sketch[99:101, 20:90] = 0  # a line across the left box, with a 12 px gap in its middle
    sketch[99:101, 49:61] = 255
    two = dabs(200, (40, 75, RED), (40, 125, BLUE))
    shared = line_faithful(sketch, model_color(), two, FillSettings(gap=16))
    assert (shared[66:95, 26:85] == RED).all()
    assert (shared[106:135, 26:85] == BLUE).all()
    both_red = line_faithful(sketch, model_color(), dabs(200, (40, 75, RED), (70, 125, RED)))
    assert (both_red[66:98, 26:85] == RED).all() and (both_red[102:135, 26:85] == RED).all()


def test_a_dab_on_the_paper_colours_only_the_paper():
    sketch = two_boxes()
    picture = line_faithful(sketch, model_color(WHITE), dabs(200, (100, 20, RED)))
    red = (picture == RED).all(axis=-1)
    assert (
        red[18:23, 98:103].all() and red.sum() > 300
    )  # the dab and its basin, up to where the page border meets it
    assert not (left_inside(picture) == RED).all(axis=-1).any()  # never in the boxes,
    assert not (right_inside(picture) == RED).all(axis=-1).any()  # the open one (a 10 px gap) too


def test_a_dab_over_a_line_colours_only_the_shape_that_holds_most_of_it():
    sketch = np.full((200, 200, 3), 255, np.uint8)
    cv2.rectangle(sketch, (20, 60), (180, 140), (0, 0, 0), 3)
    sketch[60:141, 99:102] = 0
    model = model_color()
    model[:, 8:] = (100, 160, 100)  # the model tells the boxes apart (alike, the dab would reach both)
    picture = line_faithful(sketch, model, dabs(200, (96, 100, RED), radius=8))
    assert (picture[66:135, 26:95] == RED).all()
    assert not (picture[66:135, 105:175] == RED).all(axis=-1).any()


@pytest.mark.parametrize("level", [160, 60])
def test_grey_pencil_strokes_are_walls_and_the_darkness_setting_decides_which(level):
    sketch = two_boxes()
    sketch[sketch.min(axis=-1) == 0] = level  # a grey (pencil) outline
    default = line_faithful(sketch, model_color(), dabs(200, (40, 80, RED)))
    assert (left_inside(default) == RED).all()
    assert (picture_row := default[5:15, 5:195]).size and (picture_row != RED).all(axis=-1).all()
    lighter = FillSettings(line_darkness=255 - level + 1)
    strict = line_faithful(sketch, model_color(), dabs(200, (40, 80, RED)), lighter)
    # Lighter than the wall darkness: no walls, and the dab runs as far as the model's grey goes.
    assert (strict[5:15, 5:195] == RED).all()


def test_hints_of_another_size_are_scaled_and_transparent_hints_change_nothing():
    sketch = two_boxes()
    small = line_faithful(sketch, model_color(), dabs(100, (20, 40, RED), radius=2))
    assert (left_inside(small) == RED).all()
    assert (right_inside(small) == GREY).all()
    clear = empty_hints(37, 53)
    clear[..., :3] = RED  # colour everywhere, but alpha 0
    assert (line_faithful(sketch, model_color(), clear) == line_faithful(sketch, model_color())).all()


def test_the_same_dabs_always_give_the_same_bytes():
    sketch = gapped_circle()
    hints = dabs(512, (256, 256, RED), (40, 40, BLUE), (256, 100, BLUE))
    first = line_faithful(sketch, model_color(), hints)
    again = line_faithful(sketch.copy(), model_color(), hints.copy())
    assert first.tobytes() == again.tobytes()


def test_a_sketch_above_the_working_size_keeps_its_thin_lines_as_walls():
    side = 4100
    assert side > 4 * WORKING_SIDE
    sketch = np.full((side, side, 3), 255, np.uint8)
    cv2.rectangle(sketch, (400, 1200), (1800, 2800), (0, 0, 0), 1)
    picture = line_faithful(sketch, model_color(), dabs(side, (800, 1600, RED), radius=30))
    assert (picture[1210:2790, 410:1790] == RED).all()
    # Within a working pixel of the line the colour blends with the next region's, never paper.
    assert (picture[1201:2800, 401:1800] != 255).any(axis=-1).all()
    assert (picture[100:300, 100:4000] == GREY).all()
    assert (picture[sketch.min(axis=-1) == 0] == 0).all()


def test_the_regions_do_not_depend_on_the_dabs():
    """The GUI keeps them between dabs: given or found, the picture is the same."""
    sketch = gapped_circle()
    regions = find_regions(sketch)
    hints = dabs(512, (256, 256, RED))
    kept = compose_layers(sketch, model_color(), hints, regions=regions).picture
    assert kept.tobytes() == line_faithful(sketch, model_color(), hints).tobytes()


def test_a_model_without_hint_channels_takes_dabs_in_the_picture():
    class GreyWithoutHints:
        """A backend whose model has no hint channels: it must never be handed the dabs."""

        input_size = 16
        takes_hints = False
        path = "grey"

        def color_batch(self, sketches, hints=None):
            assert hints is None
            return np.broadcast_to(np.array(GREY, np.uint8), sketches.shape).copy()

    picture = colorize_image(GreyWithoutHints(), two_boxes(), hints=dabs(200, (40, 80, RED)))
    assert (left_inside(picture) == RED).all()
    assert (right_inside(picture) == GREY).all()
