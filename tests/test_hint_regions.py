"""A dab inside a closed shape fills the shape in the picture; what a bucket fill must not do, it does not.

The model's colour here is a flat grey, so every pixel a hint did not reach
shows grey: a test can tell the filled region from the rest exactly.
"""

from __future__ import annotations

import cv2
import numpy as np

from sketch2color.inference.colorizer import colorize_image
from sketch2color.inference.compose import WORKING_SIDE, line_faithful
from sketch2color.inference.user_hints import Dab, empty_hints, paint_dab

GREY = (128, 128, 128)
RED = (220, 30, 40)
BLUE = (30, 40, 220)


def two_boxes(side: int = 200) -> np.ndarray:
    """White paper with two black square outlines, one (left) closed, one (right) with a gap."""
    sketch = np.full((side, side, 3), 255, np.uint8)
    cv2.rectangle(sketch, (20, 60), (90, 140), (0, 0, 0), 3)
    cv2.rectangle(sketch, (110, 60), (180, 140), (0, 0, 0), 3)
    sketch[95:105, 178:183] = 255  # a gap in the right box's outline
    return sketch


def model_grey(size: int = 16) -> np.ndarray:
    return np.full((size, size, 3), GREY, np.uint8)


def dabs(side: int, *placed: tuple[int, int, tuple[int, int, int]], radius: int = 4) -> np.ndarray:
    hints = empty_hints(side, side)
    for x, y, color in placed:
        paint_dab(hints, Dab(x, y, color), radius)
    return hints


def left_inside(picture: np.ndarray) -> np.ndarray:
    return picture[66:135, 26:85].reshape(-1, 3)


def right_inside(picture: np.ndarray) -> np.ndarray:
    return picture[66:135, 116:175].reshape(-1, 3)


def test_a_dab_inside_a_closed_shape_fills_all_of_it_and_nothing_else():
    sketch = two_boxes()
    picture = line_faithful(sketch, model_grey(), dabs(200, (40, 80, RED)))
    assert (left_inside(picture) == RED).all()  # the whole shape, far from the dab too
    assert (picture[5:15, 5:195] == GREY).all()  # the paper around it keeps the model's colour
    assert (right_inside(picture) == GREY).all()  # and so does the other shape
    lines = sketch.min(axis=-1) < 128
    assert (picture[lines] == 0).all()  # the lines are still the sketch's own


def test_a_shape_whose_outline_has_a_gap_is_left_to_the_model():
    """Filled, the gap would let the colour run into the paper around the drawing."""
    picture = line_faithful(two_boxes(), model_grey(), dabs(200, (140, 100, BLUE)))
    assert (right_inside(picture) == GREY).all()
    assert (picture[5:15, 5:195] == GREY).all()


def test_a_dab_on_the_paper_around_the_drawing_does_not_paint_the_page():
    picture = line_faithful(two_boxes(), model_grey(), dabs(200, (100, 20, RED)))
    assert (picture[5:15, 5:195] == GREY).all()


def test_dabs_of_two_colours_share_the_shape_and_dabs_of_one_colour_fill_it_flat():
    sketch = two_boxes()
    shared = line_faithful(sketch, model_grey(), dabs(200, (40, 70, RED), (40, 130, BLUE)))
    assert (shared[66:95, 26:85] == RED).all()  # the half nearer the red dab
    assert (shared[106:135, 26:85] == BLUE).all()  # the half nearer the blue dab
    both_red = line_faithful(sketch, model_grey(), dabs(200, (40, 70, RED), (70, 130, RED)))
    assert (left_inside(both_red) == RED).all()


def test_a_dab_over_a_line_belongs_to_the_shape_that_holds_most_of_it():
    sketch = two_boxes()
    # Centred 3 px inside the left box's top edge (y = 60): most of the dab is inside.
    picture = line_faithful(sketch, model_grey(), dabs(200, (55, 64, RED), radius=6))
    assert (left_inside(picture) == RED).all()
    assert (picture[5:50, 5:195] == GREY).all()


def test_hints_of_another_size_fill_through_colorize_as_at_the_sketchs_size():
    """The hint image is scaled to the sketch, as the model's square is."""

    class Grey:
        input_size = 16
        takes_hints = True
        path = "grey"

        def color_batch(self, sketches, hints=None):
            return np.broadcast_to(np.array(GREY, np.uint8), sketches.shape).copy()

    sketch = two_boxes()
    picture = colorize_image(Grey(), sketch, hints=dabs(100, (20, 40, RED), radius=2))
    assert (left_inside(picture) == RED).all()
    assert (right_inside(picture) == GREY).all()
    raw = colorize_image(Grey(), sketch, output="raw", hints=dabs(100, (20, 40, RED), radius=2))
    assert (raw == GREY).all()  # the raw square, stretched, is the model's alone


def test_a_sketch_above_the_working_size_is_filled_there_and_brought_to_full_size():
    scale = 11  # 2,200 px: over WORKING_SIDE
    side = 200 * scale
    assert side > WORKING_SIDE
    sketch = cv2.resize(two_boxes(), (side, side), interpolation=cv2.INTER_NEAREST)
    picture = line_faithful(sketch, model_grey(), dabs(side, (40 * scale, 80 * scale, RED), radius=30))
    inside = picture[70 * scale : 130 * scale, 30 * scale : 80 * scale].reshape(-1, 3)
    assert (inside == RED).all()
    assert (picture[5 * scale : 15 * scale, 5 * scale : 195 * scale] == GREY).all()
