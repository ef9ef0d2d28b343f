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


def side_by_side(wall: int = 3) -> np.ndarray:
    """Two closed boxes that share one vertical wall at x = 100."""
    sketch = np.full((200, 200, 3), 255, np.uint8)
    cv2.rectangle(sketch, (20, 60), (180, 140), (0, 0, 0), 3)
    sketch[60:141, 100 - wall // 2 : 100 - wall // 2 + wall] = 0
    return sketch


def test_a_dab_over_a_line_colours_only_the_shape_that_holds_most_of_it():
    # Centred 3 px left of the shared wall: most of the dab is in the left box, some in the right.
    picture = line_faithful(side_by_side(), model_grey(), dabs(200, (96, 100, RED), radius=8))
    assert (picture[66:135, 26:95] == RED).all()
    assert (picture[66:135, 105:175] == GREY).all()


def test_dabs_of_two_colours_that_touch_across_a_thin_line_each_fill_their_own_shape():
    # Red reaches over the wall and the blue dab, painted after it, starts right there.
    touching = dabs(200, (96, 100, RED), (106, 100, BLUE), radius=5)
    picture = line_faithful(side_by_side(wall=1), model_grey(), touching)
    assert (picture[66:135, 26:98] == RED).all()
    assert (picture[66:135, 102:175] == BLUE).all()


def test_a_thin_diagonal_outline_closes_its_shape():
    """A 1 px diamond's pixels touch only at their corners: still a wall, not a gap."""
    sketch = np.full((200, 200, 3), 255, np.uint8)
    corners = [(100, 30), (170, 100), (100, 170), (30, 100)]
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        cv2.line(sketch, a, b, (0, 0, 0), 1, lineType=cv2.LINE_8)
    picture = line_faithful(sketch, model_grey(), dabs(200, (100, 100, RED)))
    assert (picture[80:121, 80:121] == RED).all()
    assert (picture[5:25, 5:195] == GREY).all()


def test_the_soft_edge_of_an_anti_aliased_dab_does_not_tint_the_fill():
    hints = dabs(200, (40, 80, RED), radius=6)
    ring = (cv2.circle(np.zeros((200, 200), np.uint8), (40, 80), 9, 1, -1) > 0) & (hints[..., 3] == 0)
    hints[ring] = (240, 150, 150, 60)  # the brush's edge: red blended into the white paper, mostly clear
    picture = line_faithful(two_boxes(), model_grey(), hints)
    assert (left_inside(picture) == RED).all()


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
    direct = line_faithful(sketch, model_grey(), dabs(100, (20, 40, RED), radius=2))
    assert (left_inside(direct) == RED).all()  # the composition scales a hint image itself


def test_a_sketch_above_the_working_size_is_filled_at_its_own_size():
    """Its 1 px outline would break up at the 2,048 px working size; at full size it closes."""
    side = 4100
    assert side > 2 * WORKING_SIDE
    sketch = np.full((side, side, 3), 255, np.uint8)
    cv2.rectangle(sketch, (400, 1200), (1800, 2800), (0, 0, 0), 1)
    picture = line_faithful(sketch, model_grey(), dabs(side, (800, 1600, RED), radius=30))
    assert (picture[1201:2800, 401:1800] == RED).all()
    assert (picture[100:300, 100:4000] == GREY).all()
    assert (picture[sketch.min(axis=-1) == 0] == 0).all()
