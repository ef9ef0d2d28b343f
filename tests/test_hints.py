"""Colour hints: the simulated-hint sampler's statistics, a tiny model that learns to follow hints,
and the hint curve on the picture a user gets.

The learning test trains through the project's own loop (prepare_training,
run_training) on a set where one drawing comes in two colours: without hints
the colour cannot be told from the lines, with hints it can.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
import tensorflow as tf

from sketch2color.config import HintsConfig
from sketch2color.data.hints import as_rgba, patch_sides, sample_hints
from sketch2color.data.images import join_halves
from sketch2color.data.shards import Pair, write_shards
from sketch2color.evaluation.hint_curve import Originals, score_hint_curve, write_csv
from sketch2color.image_io import write_rgb
from sketch2color.inference.backends import KerasBackend
from sketch2color.lineart import line_mask_tensor, paper_mask_tensor
from sketch2color.paths import ProjectPaths
from sketch2color.pixels import from_model_output, to_model_input
from sketch2color.training.loop import run_training
from sketch2color.training.plan import prepare_training

from tiny_training import RecordingTracker, tiny_params

SIZE = 32


def drawings(count: int, size: int = SIZE) -> tuple[np.ndarray, np.ndarray]:
    """(ground truths, sketches) in [-1, 1]: white paper with a black-outlined block, its fill a
    random colour covering a tenth of each image in the ground truth, its outline 4%."""
    rng = np.random.default_rng(0)
    truths = np.full((count, size, size, 3), 255, np.uint8)
    sketches = truths.copy()
    side = int(size * 0.4)
    for truth, sketch in zip(truths, sketches, strict=True):
        top, left = rng.integers(0, size - side, 2)
        truth[top : top + side, left : left + side] = rng.integers(0, 200, 3)
        sketch[top : top + side, left : left + side] = 0
        sketch[top + 1 : top + side - 1, left + 1 : left + side - 1] = 255
        truth[sketch.min(axis=-1) == 0] = 0
    return to_model_input(truths), to_model_input(sketches)


def sample(count: int, seed: list[int], config: HintsConfig, exact: int | None = None):
    truths, sketches = drawings(count)
    return sample_hints(tf.constant(truths), tf.constant(sketches), tf.constant(seed), config, count=exact)


def test_counts_are_geometric_with_some_pairs_getting_none():
    config = HintsConfig(stop_probability=0.125, max_hints=60)
    hints = sample(4000, [1, 2], config)
    counts = hints.active.numpy().sum(axis=1)
    assert counts.mean() == pytest.approx((1 - 0.125) / 0.125, rel=0.08)  # 7 on average
    assert (counts == 0).mean() == pytest.approx(0.125, abs=0.02)
    assert counts.max() <= 60
    capped = sample(500, [1, 2], HintsConfig(max_hints=5))
    assert capped.active.numpy().sum(axis=1).max() == 5


def test_patches_lie_inside_the_image_at_the_scaled_size_and_favor_fill_pixels():
    truths, sketches = drawings(800)
    hints = sample_hints(
        tf.constant(truths), tf.constant(sketches), tf.constant([3, 4]), HintsConfig(stop_probability=0.1)
    )
    boxes, active = hints.boxes.numpy(), hints.active.numpy()
    top, left, bottom, right = (boxes[..., i][active] for i in range(4))
    assert (top >= 0).all() and (left >= 0).all() and (bottom <= SIZE).all() and (right <= SIZE).all()
    sides = bottom - top
    assert (sides == right - left).all()  # square patches
    assert set(np.unique(sides)) == set(range(patch_sides(SIZE)[0], patch_sides(SIZE)[1] + 1))
    assert patch_sides(256) == (1, 9) and patch_sides(64) == (1, 2)
    # Weighted 9:1, about half the hints start on the fill (a tenth of the image) and about 2.4%
    # on the outline (4%), where a dab tells the model nothing new; if lines weighed as colour,
    # 18% would.
    centres = np.stack([(top + bottom) // 2, (left + right) // 2], axis=-1)
    image = np.nonzero(active)[0]
    on_line = line_mask_tensor(sketches).numpy()[image, centres[:, 0], centres[:, 1]]
    on_paper = paper_mask_tensor(truths).numpy()[image, centres[:, 0], centres[:, 1]]
    on_fill = ~on_paper & ~on_line
    assert on_fill.mean() > 0.4
    assert on_line.mean() < 0.05


def test_each_patch_holds_the_ground_truths_mean_over_it():
    rng = np.random.default_rng(5)
    truths = rng.uniform(-1, 1, (16, SIZE, SIZE, 3)).astype(np.float32)
    sketches = np.ones_like(truths)
    hints = sample_hints(
        tf.constant(truths), tf.constant(sketches), tf.constant([5, 6]), HintsConfig(stop_probability=0.2)
    )
    boxes, colors, active = hints.boxes.numpy(), hints.box_colors.numpy(), hints.active.numpy()
    painted, mask = hints.colors.numpy(), hints.mask.numpy()[..., 0]
    for image, slot in zip(*np.nonzero(active), strict=True):
        top, left, bottom, right = boxes[image, slot]
        expected = truths[image, top:bottom, left:right].reshape(-1, 3).mean(axis=0)
        np.testing.assert_allclose(colors[image, slot], expected, atol=1e-4)
    assert ((mask == 1) == (np.abs(painted).sum(axis=-1) > 0) | (mask == 1)).all()
    assert (painted[mask == 0] == 0).all()
    # The last active patch is on top where patches overlap.
    image, slot = max(zip(*np.nonzero(active), strict=True))
    top, left, bottom, right = boxes[image, slot]
    np.testing.assert_allclose(painted[image, top, left], colors[image, slot], atol=1e-6)


def test_the_same_seed_gives_the_same_hints_and_another_seed_others():
    first = sample(32, [9, 0], HintsConfig())
    again = sample(32, [9, 0], HintsConfig())
    other = sample(32, [9, 1], HintsConfig())
    assert np.array_equal(first.colors.numpy(), again.colors.numpy())
    assert not np.array_equal(first.boxes.numpy(), other.boxes.numpy())
    exact = sample(32, [9, 0], HintsConfig(), exact=5)
    assert (exact.active.numpy().sum(axis=1) == 5).all()
    rgba = as_rgba(exact)
    assert rgba.dtype == np.uint8 and rgba.shape == (32, SIZE, SIZE, 4)
    assert set(np.unique(rgba[..., 3])) <= {0, 255}


# ---------------------------------------------------------------- learning to follow


RED, BLUE = (220, 30, 30), (30, 60, 220)


def two_color_pairs(count: int) -> list[Pair]:
    """One drawing, a square outline, filled red in half the pairs and blue in the other half."""
    sketch = np.full((SIZE, SIZE, 3), 255, np.uint8)
    sketch[6:26, 6] = sketch[6:26, 25] = sketch[6, 6:26] = sketch[25, 6:26] = 0
    pairs = []
    for index in range(count):
        color = sketch.copy()
        color[7:25, 7:25] = RED if index % 2 else BLUE
        pairs.append(Pair(sketch, color, f"pair-{index:03d}"))
    return pairs


@pytest.mark.slow
def test_a_tiny_hint_model_follows_two_different_hints_on_the_same_sketch(tmp_path):
    paths = ProjectPaths(tmp_path)
    pairs = two_color_pairs(64)
    write_shards(pairs, paths.augmented, "train", 2)
    write_shards(pairs[:2], paths.split, "val", 1)
    params = tiny_params(
        epochs=60,
        batch_size=8,
        ngf=16,
        ndf=8,
        lambda_l1=1000.0,
        learning_rate=2e-3,
        decay_epochs=12,
        checkpoint_every_steps=1000,
        log_every_steps=50,
        hints={"enabled": True, "stop_probability": 0.1, "colored_weight": 20.0},
    )
    plan = prepare_training(params, paths)
    outcome = run_training(plan, RecordingTracker())
    plan.store.close()
    outcome.generator.save(tmp_path / "hints.keras")
    backend = KerasBackend(tmp_path / "hints.keras", "eval")
    assert backend.takes_hints

    sketch = pairs[0].sketch[None]
    outputs = {}
    for name, color in (("red", RED), ("blue", BLUE)):
        hint = np.zeros((1, SIZE, SIZE, 4), np.uint8)
        hint[0, 14:17, 14:17] = (*color, 255)  # one dab in the middle of the square
        outputs[name] = backend.color_batch(sketch, hint)[0].astype(int)
    near = (slice(10, 21), slice(10, 21))  # around the dab, inside the outline
    red_there, blue_there = outputs["red"][near].mean(axis=(0, 1)), outputs["blue"][near].mean(axis=(0, 1))
    assert red_there[0] > red_there[2] + 60, red_there  # red where the red dab is
    assert blue_there[2] > blue_there[0] + 60, blue_there  # blue where the blue dab is
    assert np.abs(outputs["red"] - outputs["blue"]).mean() > 20  # two different pictures


def dab_painting_generator(size: int = SIZE):
    """A stand-in hint model that paints each hint's colour on the hint's own pixels and nothing
    more: per channel, sketch + hint colour - mask (a white sketch pixel under a hint becomes the
    hint's colour), so any spreading of a dab over its shape is the picture's doing."""
    import keras

    inputs = keras.Input((size, size, 7))
    outputs = keras.layers.Conv2D(3, 1, use_bias=False, name="paint")(inputs)
    model = keras.Model(inputs, outputs)
    kernel = np.zeros((1, 1, 7, 3), np.float32)
    for channel in range(3):
        kernel[0, 0, channel, channel] = 1.0  # the sketch
        kernel[0, 0, 3 + channel, channel] = 1.0  # the hint's colour
        kernel[0, 0, 6, channel] = -1.0  # minus the mask
    model.get_layer("paint").set_weights([kernel])
    return model


def test_the_hint_curve_scores_the_picture_where_a_dab_fills_its_shape(tmp_path):
    truths, sketches = (from_model_output(images) for images in drawings(12))
    pairs = [Pair(s, t, f"pair-{i:02d}.png") for i, (s, t) in enumerate(zip(sketches, truths, strict=True))]
    write_shards(pairs, tmp_path / "split", "test", 2)
    raw = tmp_path / "raw"
    for pair in pairs:  # the originals at twice the model's size, as fetch leaves them
        halves = [np.repeat(np.repeat(image, 2, axis=0), 2, axis=1) for image in (pair.color, pair.sketch)]
        write_rgb(join_halves(*halves), raw / pair.name)
    dab_painting_generator().save(tmp_path / "dabs.keras")
    backend = KerasBackend(tmp_path / "dabs.keras", "eval")
    names = [pair.name for pair in pairs]

    curve = score_hint_curve(
        backend, tmp_path / "split", SIZE, HintsConfig(enabled=True), 5, Originals(raw, names, 10**7, (8,))
    )

    report = curve.to_dict()
    assert report["images"] == report["picture_images"] == len(pairs)
    rows = {row["hints"]: row for row in report["table"]}
    assert rows[0]["picture_fill_delta_e"] > 20  # without hints, white paper where the colour goes
    # The model paints a few pixels; a dab in the shape fills all of it in the picture. (At 10
    # hints nearly every image has one there: a tenth of each image is its shape.)
    assert rows[10]["fill_delta_e"] > 0.7 * rows[0]["fill_delta_e"]
    assert rows[10]["picture_fill_delta_e"] < 0.3 * rows[0]["picture_fill_delta_e"]
    # With 8 px gaps cut into the shapes' outlines, the dabs still fill them, and the page stays paper.
    assert rows[10]["gap8_fill_delta_e"] < 0.4 * rows[0]["gap8_fill_delta_e"]
    assert all(row[f"{kind}_leak"] < 0.01 for row in rows.values() for kind in ("picture", "gap8"))
    write_csv(curve, tmp_path / "curve.csv")
    header = (tmp_path / "curve.csv").read_text().splitlines()[0].split(",")
    assert {"gap8_fill_delta_e", "gap8_leak", "picture_leak", "picture_tint"} <= set(header)
    assert rows[10]["picture_psnr"] > rows[0]["picture_psnr"] + 5
