"""Sketches drawn from colour images: dark lines on white, same size, grey."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from sketch2color.data.fetch.line_extraction import extract_sketch

METHODS = ["xdog", "adaptive"]


def cartoon(height: int = 56, width: int = 64) -> np.ndarray:
    """A white page with a dark-blue filled square and an orange disc."""
    image = np.full((height, width, 3), 255, np.uint8)
    cv2.rectangle(image, (6, 6), (30, 40), (20, 30, 120), thickness=-1)
    cv2.circle(image, (46, 30), 12, (240, 140, 30), thickness=-1)
    return image


@pytest.mark.parametrize("method", METHODS)
def test_sketch_is_grey_uint8_of_the_same_size(method):
    color = cartoon(56, 64)
    sketch = extract_sketch(color, method)
    assert sketch.shape == color.shape and sketch.dtype == np.uint8
    assert np.array_equal(sketch[:, :, 0], sketch[:, :, 1])
    assert np.array_equal(sketch[:, :, 0], sketch[:, :, 2])


@pytest.mark.parametrize("method", METHODS)
def test_lines_are_dark_on_white_and_follow_the_outlines(method):
    sketch = extract_sketch(cartoon(), method)[:, :, 0]
    assert np.mean(sketch > 200) > 0.6  # mostly paper
    assert sketch.min() < 80  # with real ink
    square_edge = sketch[8:38, 4:9]  # a band across the square's left edge (x = 6)
    assert square_edge.min() < 100
    assert sketch[20, 18] > 200  # inside the dark square: no fill, just outline
    assert sketch[2, 60] > 200  # far from any shape: blank paper
    assert sketch[50, 2] > 200


@pytest.mark.parametrize("method", METHODS)
def test_flat_image_gives_a_blank_page(method):
    for value in (0, 90, 255):
        flat = np.full((40, 48, 3), value, np.uint8)
        assert extract_sketch(flat, method).min() > 200


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("shape", [(1, 1, 3), (3, 17, 3), (33, 50, 3)])
def test_tiny_and_odd_sizes_keep_their_shape(method, shape):
    rgb = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    assert extract_sketch(rgb, method).shape == shape


@pytest.mark.parametrize(
    "bad",
    [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 3), np.float32)],
)
def test_wrong_input_is_refused(bad):
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        extract_sketch(bad, "xdog")


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown sketch method"):
        extract_sketch(cartoon(), "canny")  # type: ignore[arg-type]
