"""The augment stage: one shared transform per pair, noise on the sketch only, determinism."""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np
import pytest

from sketch2color.config import AugmentConfig, Params, params_from_dict
from sketch2color.data import augment
from sketch2color.data.shards import Pair, find_shards, iterate_pairs, write_shards
from sketch2color.errors import DataError
from sketch2color.paths import ProjectPaths
from sketch2color.pipeline.augment import run as augment_stage

SIZE = 32


def line_art(seed: int, size: int = SIZE) -> np.ndarray:
    """Dark strokes on white, off-centre so that any warp visibly moves them."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size, 3), 255, np.uint8)
    for _ in range(3):
        a = tuple(int(v) for v in rng.integers(2, size - 2, 2))
        b = tuple(int(v) for v in rng.integers(2, size - 2, 2))
        cv2.line(image, a, b, (30, 30, 30), 1)
    cv2.rectangle(image, (3, 4), (size // 2, size // 3), (0, 0, 0), 1)
    return image


def colored(seed: int, size: int = SIZE) -> np.ndarray:
    """A colour image whose channels differ, so an RGB/BGR swap would show."""
    rng = np.random.default_rng(seed + 1000)
    image = np.zeros((size, size, 3), np.uint8)
    image[..., 0] = 220
    image[..., 1] = np.linspace(0, 200, size, dtype=np.uint8)[None, :]
    image[..., 2] = 40
    image[size // 4 : size // 2, size // 5 : size // 2] = rng.integers(0, 256, 3, dtype=np.uint8)
    return image


def mirror_pairs(count: int) -> list[Pair]:
    """Pairs whose colour image IS the sketch: a shared transform keeps them equal."""
    return [Pair(sketch=line_art(i), color=line_art(i), name=f"mirror-{i}.png") for i in range(count)]


def color_pairs(count: int) -> list[Pair]:
    return [Pair(sketch=line_art(i), color=colored(i), name=f"pair-{i}.png") for i in range(count)]


def make_params(seed: int = 7, **augment_overrides) -> Params:
    augment_section = {"copies": 2, "shards": 2, "preview_pairs": 3, **augment_overrides}
    return params_from_dict({"seed": seed, "data": {"image_size": SIZE}, "augment": augment_section})


def project_with(root, pairs: list[Pair], shards: int = 2) -> ProjectPaths:
    paths = ProjectPaths(root=root)
    write_shards(pairs, paths.split, "train", shards)
    return paths


def augmented_records(paths: ProjectPaths) -> dict[str, Pair]:
    records = list(iterate_pairs(find_shards(paths.augmented, "train")))
    by_name = {p.name: p for p in records}
    assert len(by_name) == len(records), "record names must be unique"
    return by_name


def shard_bytes(paths: ProjectPaths) -> list[bytes]:
    return [p.read_bytes() for p in find_shards(paths.augmented, "train")]


# ---------------------------------------------------------------- one transform, two images


def test_the_same_transform_moves_sketch_and_color(tmp_path):
    paths = project_with(tmp_path, mirror_pairs(4))
    augment_stage(make_params(copies=3, noise_std=0.0), paths)

    records = augmented_records(paths)
    copies = [p for name, p in records.items() if "#aug" in name]
    assert len(copies) == 12
    for copy in copies:
        np.testing.assert_array_equal(copy.sketch, copy.color, err_msg=copy.name)
    moved = [c for c in copies if not np.array_equal(c.sketch, records[c.name.split("#")[0]].sketch)]
    assert len(moved) == len(copies), "every copy should be geometrically changed"


def test_noise_lands_on_the_sketch_only(tmp_path):
    quiet = project_with(tmp_path / "quiet", mirror_pairs(3))
    noisy = project_with(tmp_path / "noisy", mirror_pairs(3))
    augment_stage(make_params(noise_std=0.0), quiet)
    augment_stage(make_params(noise_std=20.0), noisy)

    quiet_records, noisy_records = augmented_records(quiet), augmented_records(noisy)
    assert quiet_records.keys() == noisy_records.keys()
    for name, noisy_pair in noisy_records.items():
        quiet_pair = quiet_records[name]
        # Geometry is drawn before noise, so the colour target is the same byte for byte.
        np.testing.assert_array_equal(noisy_pair.color, quiet_pair.color, err_msg=name)
        if "#aug" in name:
            assert not np.array_equal(noisy_pair.sketch, noisy_pair.color), name
            difference = noisy_pair.sketch.astype(int) - quiet_pair.sketch.astype(int)
            assert 5 < np.abs(difference).mean() < 30, name  # std 20, partly clipped at white
            # Grey noise: the three channels of a grey sketch stay equal.
            assert np.array_equal(noisy_pair.sketch[..., 0], noisy_pair.sketch[..., 2]), name
        else:
            np.testing.assert_array_equal(noisy_pair.sketch, quiet_pair.sketch, err_msg=name)


def test_noise_is_clipped_to_uint8():
    config = AugmentConfig(
        copies=1, rotation_degrees=0, shear_degrees=0, zoom=0, shift=0, horizontal_flip=False, noise_std=100.0
    )
    black_and_white = np.zeros((SIZE, SIZE, 3), np.uint8)
    black_and_white[:, SIZE // 2 :] = 255
    pair = Pair(sketch=black_and_white, color=black_and_white.copy(), name="bw")
    out = augment.augment_pair(pair, config, np.random.default_rng(0), "bw#aug1")
    assert out.sketch.dtype == np.uint8
    # Wrapping instead of clipping would put bright pixels in the black half and vice versa.
    left, right = out.sketch[:, : SIZE // 2].astype(int), out.sketch[:, SIZE // 2 :].astype(int)
    assert (left == 0).mean() > 0.4 and (right == 255).mean() > 0.4
    assert left.mean() < 60 and right.mean() > 195
    np.testing.assert_array_equal(out.color, black_and_white)


# ---------------------------------------------------------------- geometry


def test_zero_ranges_give_back_the_original(tmp_path):
    paths = project_with(tmp_path, color_pairs(3))
    zero = dict(
        rotation_degrees=0.0, shear_degrees=0.0, zoom=0.0, shift=0.0, horizontal_flip=False, noise_std=0.0
    )
    augment_stage(make_params(**zero), paths)

    records = augmented_records(paths)
    for name, pair in records.items():
        original = records[name.split("#")[0]]
        np.testing.assert_array_equal(pair.sketch, original.sketch, err_msg=name)
        np.testing.assert_array_equal(pair.color, original.color, err_msg=name)


def test_flip_alone_mirrors_both_images_exactly():
    config = AugmentConfig(
        copies=12, rotation_degrees=0, shear_degrees=0, zoom=0, shift=0, horizontal_flip=True, noise_std=0
    )
    pair = color_pairs(1)[0]
    flipped = 0
    for copy in augment.augmented_copies(pair, 0, config, seed=3):
        if np.array_equal(copy.color, pair.color):
            np.testing.assert_array_equal(copy.sketch, pair.sketch)
        else:
            np.testing.assert_array_equal(copy.color, pair.color[:, ::-1])
            np.testing.assert_array_equal(copy.sketch, pair.sketch[:, ::-1])
            flipped += 1
    assert 0 < flipped < 12, "a fair coin over 12 seeded copies gives both outcomes"


def test_a_shift_moves_content_by_that_many_pixels():
    draw = augment.AffineDraw(
        rotation_degrees=0, shear_degrees=0, zoom=1.0, shift_x=0.25, shift_y=-0.125, flip=False
    )
    matrix = augment.affine_matrix(draw, SIZE)
    np.testing.assert_allclose(matrix, [[1, 0, 8], [0, 1, -4]], atol=1e-12)
    image = colored(0)
    moved = augment.warp(image, matrix)
    np.testing.assert_array_equal(moved[:-4, 8:], image[4:, :-8])


# ---------------------------------------------------------------- output layout


def test_copies_names_counts_and_report(tmp_path):
    pairs = color_pairs(5)
    paths = project_with(tmp_path, pairs, shards=3)
    augment_stage(make_params(copies=2, shards=3), paths)

    shards = find_shards(paths.augmented, "train")
    assert [p.name for p in shards] == [f"train-{i:05d}-of-00003.tfrecord" for i in range(3)]
    records = augmented_records(paths)
    expected = {p.name for p in pairs} | {f"{p.name}#aug{k}" for p in pairs for k in (1, 2)}
    assert set(records) == expected

    report = json.loads((paths.augmented / "augment_report.json").read_text())
    assert report["input_pairs"] == 5
    assert report["copies_per_pair"] == 2
    assert report["output_records"] == 15
    assert report["per_shard_counts"] == [5, 5, 5]
    assert report["skipped_shards"] == []
    per_shard = [sum(1 for _ in iterate_pairs([p])) for p in shards]
    assert per_shard == report["per_shard_counts"]


def test_zero_copies_keeps_just_the_originals(tmp_path):
    pairs = color_pairs(3)
    paths = project_with(tmp_path, pairs)
    augment_stage(make_params(copies=0), paths)
    assert set(augmented_records(paths)) == {p.name for p in pairs}


def test_a_smaller_shard_count_leaves_no_stale_shards(tmp_path):
    paths = project_with(tmp_path, color_pairs(3))
    augment_stage(make_params(shards=4), paths)
    augment_stage(make_params(shards=2), paths)
    assert [p.name for p in find_shards(paths.augmented, "train")] == [
        "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord",
    ]
    assert len(augmented_records(paths)) == 9


# ---------------------------------------------------------------- determinism


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    runs = {}
    for label, seed in (("a", 11), ("b", 11), ("c", 12)):
        paths = project_with(tmp_path / label, color_pairs(4))
        augment_stage(make_params(seed=seed), paths)
        runs[label] = (shard_bytes(paths), (paths.augment_preview).read_bytes())
    assert runs["a"] == runs["b"]
    assert runs["a"][0] != runs["c"][0]


def test_records_are_canonically_serialized(tmp_path):
    """Same bytes in every process, not just in this one.

    A proto map (the Example's features) is serialized in a per-process hash
    order unless asked to be deterministic, so the same pairs would hash
    differently on every `dvc repro`. Canonical (sorted-key) bytes rule that out.
    """
    import tensorflow as tf

    paths = project_with(tmp_path, color_pairs(2))
    augment_stage(make_params(copies=1), paths)
    for shard in find_shards(paths.augmented, "train"):
        for record in tf.data.TFRecordDataset(str(shard)):
            raw = record.numpy()
            canonical = tf.train.Example.FromString(raw).SerializeToString(deterministic=True)
            assert raw == canonical, shard.name


# ---------------------------------------------------------------- preview


def test_preview_grid_layout_and_color_order(tmp_path):
    pairs = color_pairs(5)
    paths = project_with(tmp_path, pairs, shards=1)
    augment_stage(make_params(copies=2, preview_pairs=3), paths)

    image = cv2.imread(str(paths.metrics / "augment_preview.png"), cv2.IMREAD_UNCHANGED)
    assert image is not None and image.dtype == np.uint8
    sep, rows, cells = augment.SEPARATOR_PX, 3, 2 * (1 + 2)
    assert image.shape == (rows * SIZE + (rows - 1) * sep, cells * SIZE + (cells - 1) * sep, 3)
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    # Row 2 starts with pair 1's original sketch then its original colour, in RGB order.
    top = 1 * (SIZE + sep)
    np.testing.assert_array_equal(rgb[top : top + SIZE, :SIZE], pairs[1].sketch)
    np.testing.assert_array_equal(rgb[top : top + SIZE, SIZE + sep : 2 * SIZE + sep], pairs[1].color)
    assert (rgb[:, SIZE : SIZE + sep] == 255).all(), "white separator between cells"
    assert (rgb[SIZE : SIZE + sep, :] == 255).all(), "white separator between rows"


def test_preview_with_fewer_pairs_than_rows(tmp_path):
    paths = project_with(tmp_path, color_pairs(2), shards=1)
    augment_stage(make_params(copies=1, preview_pairs=6), paths)
    image = cv2.imread(str(paths.metrics / "augment_preview.png"))
    assert image.shape[:2] == (2 * SIZE + augment.SEPARATOR_PX, 4 * SIZE + 3 * augment.SEPARATOR_PX)


# ---------------------------------------------------------------- bad input


def test_an_empty_training_split_is_a_data_error(tmp_path):
    paths = project_with(tmp_path, [], shards=2)
    with pytest.raises(DataError, match=str(paths.split)):
        augment_stage(make_params(), paths)
    assert find_shards(paths.augmented, "train") == []


def test_no_training_shards_is_a_data_error(tmp_path):
    paths = ProjectPaths(root=tmp_path)
    with pytest.raises(DataError, match=str(paths.split)):
        augment_stage(make_params(), paths)


def test_a_damaged_shard_is_reported_and_the_rest_kept(tmp_path):
    paths = project_with(tmp_path, color_pairs(4), shards=2)
    damaged = find_shards(paths.split, "train")[1]
    damaged.write_bytes(damaged.read_bytes()[:-40])  # cut inside the last record
    augment_stage(make_params(copies=1), paths)

    report = json.loads((paths.augmented / "augment_report.json").read_text())
    assert [s["path"] for s in report["skipped_shards"]] == [str(damaged)]
    assert report["skipped_shards"][0]["records_kept"] == 1
    assert report["input_pairs"] == 3
    assert len(augmented_records(paths)) == 6
