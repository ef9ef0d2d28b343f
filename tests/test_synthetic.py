"""The embedded procedural dataset: format, line art, learnable colour, determinism."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from sketch2color.config import SyntheticConfig
from sketch2color.data.synthetic import (
    PALETTE,
    Background,
    Cloud,
    Fish,
    Flower,
    House,
    PineTree,
    Pond,
    RoundTree,
    Scene,
    Sun,
    generate_pair,
    plan_scene,
    render_scene,
    write_synthetic_dataset,
)

SIZE = 64


def _halves(pair: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = pair.shape[1] // 2
    return pair[:, :half], pair[:, half:]


def _saturation(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2HSV)[..., 1]


def _plain_background() -> Background:
    return Background(horizon=0.6, amplitude=0.0, frequency=1.0, phase=0.0)


def _render(*objects, size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    scene = Scene(background=_plain_background(), ink=30, width=3.0, sky=tuple(objects))
    return render_scene(scene, size)


def _near(pixel: np.ndarray, rgb: tuple[int, int, int], tolerance: float = 30.0) -> bool:
    return float(np.abs(pixel.astype(float) - np.asarray(rgb, float)).max()) <= tolerance


def test_pair_has_kaggle_layout_color_left_sketch_right():
    pair = generate_pair(0, seed=1, height=48)
    assert pair.shape == (48, 96, 3)
    assert pair.dtype == np.uint8
    color, sketch = _halves(pair)
    # the sketch is grey line art: all three channels equal; the colour half is not
    assert np.array_equal(sketch[..., 0], sketch[..., 1])
    assert np.array_equal(sketch[..., 0], sketch[..., 2])
    assert not np.array_equal(color[..., 0], color[..., 1])


@pytest.mark.parametrize("index", range(4))
def test_sketch_is_dark_lines_on_white_and_color_half_is_colorful(index):
    color, sketch = _halves(generate_pair(index, seed=3, height=SIZE))
    grey = sketch[..., 0]
    assert (grey > 230).mean() > 0.5, "the sketch should be mostly white paper"
    dark = (grey < 100).mean()
    assert 0.02 < dark < 0.35, f"dark line fraction {dark:.3f} out of the sane band"
    assert grey.min() < 90, "lines should be near-black, not pale grey"
    assert _saturation(sketch).max() == 0
    assert np.median(_saturation(color)) > 80, "the colour half should be saturated"


@pytest.mark.parametrize("index", range(4))
def test_color_half_carries_the_same_outlines(index):
    color, sketch = _halves(generate_pair(index, seed=4, height=SIZE))
    lines = sketch[..., 0] < 80
    color_value = color.max(axis=2)
    assert (color_value[lines] < 130).mean() > 0.9, "sketch lines must be dark in the colour half too"


def test_sky_on_top_and_ground_at_the_bottom_by_position():
    for index in range(6):
        color, _ = _halves(generate_pair(index, seed=5, height=SIZE).astype(int))
        top = np.median(color[:4].reshape(-1, 3), axis=0)
        bottom = np.median(color[-4:].reshape(-1, 3), axis=0)
        r, g, b = top
        assert b > r + 40 and b > g, f"pair {index}: top rows {top} are not sky blue"
        r, g, b = bottom
        assert g > b + 20 or r > b + 40, f"pair {index}: bottom rows {bottom} are not grass or soil"


def test_sun_color_follows_its_ray_style():
    common = dict(x=0.5, y=0.3, radius=0.15, ray_count=10, rotation=0.0, face=False, width=3.0)
    straight_color, straight_sketch = _render(Sun(rays="straight", **common))
    triangle_color, triangle_sketch = _render(Sun(rays="triangle", **common))
    centre = (int(0.3 * 128), int(0.5 * 128))
    assert _near(straight_color[centre], PALETTE["sun_straight_rays"])
    assert _near(triangle_color[centre], PALETTE["sun_triangle_rays"])
    # the cue is in the lines: the two sketches differ around the disc
    assert not np.array_equal(straight_sketch, triangle_sketch)


@pytest.mark.parametrize(
    "variant, point, expected",
    [
        (Cloud(puffs=((0.5, 0.3, 0.12),), rain=False, width=3.0), (0.3, 0.5), "cloud"),
        (Cloud(puffs=((0.5, 0.3, 0.12),), rain=True, width=3.0), (0.3, 0.5), "rain_cloud"),
        (PineTree(x=0.5, base=0.55, height=0.45, tiers=2, width=3.0), (0.4, 0.5), "pine_two_tiers"),
        (PineTree(x=0.5, base=0.55, height=0.45, tiers=3, width=3.0), (0.4, 0.5), "pine_three_tiers"),
        (
            RoundTree(x=0.5, base=0.58, height=0.5, puffs=((0.0, 0.0, 0.2),), fruit=(), width=3.0),
            (0.3, 0.45),
            "canopy_autumn",
        ),
        (
            House(
                x=0.5,
                base=0.58,
                body_width=0.5,
                body_height=0.3,
                roof_height=0.15,
                style="wood",
                windows=1,
                door_left=True,
                width=3.0,
            ),
            (0.2, 0.5),
            "roof_wood",
        ),
        (
            House(
                x=0.5,
                base=0.58,
                body_width=0.5,
                body_height=0.3,
                roof_height=0.15,
                style="plain",
                windows=1,
                door_left=True,
                width=3.0,
            ),
            (0.5, 0.5),
            "house_plain",
        ),
        (
            Flower(
                x=0.5,
                base=0.58,
                height=0.5,
                petals=6,
                petal_shape="long",
                rotation=0.0,
                leaf_side=1,
                width=3.0,
            ),
            (0.19, 0.5),
            "flower_centre",
        ),
        (Pond(x=0.5, y=0.3, rx=0.3, ry=0.12, fish=(), width=3.0), (0.32, 0.6), "water"),
        (Fish(x=0.5, y=0.3, length=0.4, facing=1, striped=True, width=3.0), (0.3, 0.36), "fish_striped"),
        (Fish(x=0.5, y=0.3, length=0.4, facing=1, striped=False, width=3.0), (0.32, 0.45), "fish_plain"),
    ],
)
def test_each_kind_is_filled_with_the_palette_its_lines_select(variant, point, expected):
    color, sketch = _render(variant)
    y, x = (int(point[0] * 128), int(point[1] * 128))
    assert sketch[y, x] > 200, "the probe point should be inside the shape, away from its lines"
    assert _near(color[y, x], PALETTE[expected]), f"{color[y, x]} is not {expected}"


def test_one_seed_gives_the_same_scene_at_every_size():
    small_color, _ = _halves(generate_pair(7, seed=11, height=32))
    large_color, _ = _halves(generate_pair(7, seed=11, height=128))
    shrunk = cv2.resize(large_color, (32, 32), interpolation=cv2.INTER_AREA)
    assert np.abs(shrunk.astype(int) - small_color.astype(int)).mean() < 20


def test_pairs_do_not_depend_on_generation_order():
    later = generate_pair(3, seed=9, height=32)
    for index in range(3):
        generate_pair(index, seed=9, height=32)
    assert np.array_equal(generate_pair(3, seed=9, height=32), later)
    assert plan_scene(np.random.default_rng([9, 3])) == plan_scene(np.random.default_rng([9, 3]))


def _written(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "train").iterdir())}


def test_write_names_files_and_round_trips_the_pixels(tmp_path):
    cfg = SyntheticConfig(count=3, pair_width=64, pair_height=32, workers=1)
    assert write_synthetic_dataset(tmp_path, cfg, seed=2) == 3
    files = sorted((tmp_path / "train").iterdir())
    assert [p.name for p in files] == ["000000.png", "000001.png", "000002.png"]
    decoded = cv2.imread(str(files[1]), cv2.IMREAD_COLOR)[..., ::-1]
    assert np.array_equal(decoded, generate_pair(1, seed=2, height=32))


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path):
    one = SyntheticConfig(count=4, pair_width=64, pair_height=32, workers=1)
    two = SyntheticConfig(count=4, pair_width=64, pair_height=32, workers=2)
    write_synthetic_dataset(tmp_path / "a", one, seed=42)
    write_synthetic_dataset(tmp_path / "b", one, seed=42)
    write_synthetic_dataset(tmp_path / "c", two, seed=42)
    write_synthetic_dataset(tmp_path / "d", one, seed=43)
    a = _written(tmp_path / "a")
    assert len(a) == 4
    assert a == _written(tmp_path / "b")
    assert a == _written(tmp_path / "c")
    other = _written(tmp_path / "d")
    assert all(a[name] != other[name] for name in a)


def test_too_small_a_pair_is_refused():
    with pytest.raises(ValueError, match="at least 16"):
        generate_pair(0, seed=0, height=8)
