"""The split stage: deterministic assignment, bad files skipped and named, nothing lost."""

import json
from pathlib import Path

import numpy as np
import pytest

from sketch2color.config import params_from_dict
from sketch2color.data.shards import find_shards, iterate_pairs
from sketch2color.data.split import split_dataset
from sketch2color.errors import DataError
from sketch2color.paths import ProjectPaths

from helpers import pair_image, write_raw_pairs


def make_params(**split):
    return params_from_dict({"data": {"image_size": 16}, "split": {"workers": 1, **split}})


def read_split(paths: ProjectPaths, name: str):
    return list(iterate_pairs(find_shards(paths.split, name)))


def test_every_good_pair_lands_once_with_the_right_halves(tmp_path):
    paths = ProjectPaths(tmp_path)
    write_raw_pairs(paths.raw, 20)
    result = split_dataset(make_params(), paths)
    assert result.counts == {"train": 16, "val": 2, "test": 2}
    names = [p.name for split in ("train", "val", "test") for p in read_split(paths, split)]
    assert sorted(names) == [f"train/{i:04d}.png" for i in range(20)]
    pair = next(p for p in read_split(paths, "train"))
    index = int(Path(pair.name).stem)
    expected_color = pair_image(index)[0, 0]
    assert np.abs(pair.color.astype(int) - expected_color).max() <= 1  # left half is the colour
    assert pair.sketch.max() == 255 and pair.sketch.min() < 200  # right half: dark line on white
    manifest = json.loads((paths.split / "manifest.json").read_text())
    assert manifest["counts"] == result.counts and manifest["skipped"] == []


def test_bad_files_are_skipped_named_and_cost_no_good_pair(tmp_path):
    paths = ProjectPaths(tmp_path)
    write_raw_pairs(paths.raw, 10)
    (paths.raw / "train" / "fake.png").write_bytes(b"not an image")
    good = (paths.raw / "train" / "0001.png").read_bytes()
    (paths.raw / "train" / "cut.png").write_bytes(good[: len(good) // 2])
    (paths.raw / "train" / "empty.png").write_bytes(b"")
    (paths.raw / "train" / "notes.txt").write_text("hello")
    nested = paths.raw / "train" / "a" / "0001.png"  # same file name in a nested folder
    nested.parent.mkdir(parents=True, exist_ok=True)
    nested.write_bytes(good)
    result = split_dataset(make_params(), paths)
    assert sum(result.counts.values()) == 11
    reasons = {s["file"]: s["reason"] for s in result.skipped}
    assert set(reasons) == {"train/fake.png", "train/cut.png", "train/empty.png", "train/notes.txt"}
    assert "truncated" in reasons["train/cut.png"]
    manifest = json.loads((paths.split / "manifest.json").read_text())
    assert manifest["skipped_count"] == 4
    names = {p.name for s in ("train", "val", "test") for p in read_split(paths, s)}
    assert {"train/0001.png", "train/a/0001.png"} <= names


def test_same_seed_same_bytes_other_seed_other_assignment(tmp_path):
    outputs = []
    for run, seed in enumerate((7, 7, 8)):
        paths = ProjectPaths(tmp_path / f"run{run}")
        write_raw_pairs(paths.raw, 20)
        params = params_from_dict({"seed": seed, "data": {"image_size": 16}, "split": {"workers": 1}})
        split_dataset(params, paths)
        outputs.append({p.name: p.read_bytes() for p in sorted(paths.split.iterdir())})
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_parallel_workers_give_the_same_bytes_as_one(tmp_path):
    outputs = []
    for workers in (1, 2):
        paths = ProjectPaths(tmp_path / f"w{workers}")
        write_raw_pairs(paths.raw, 12)
        split_dataset(make_params(workers=workers), paths)
        outputs.append({p.name: p.read_bytes() for p in sorted(paths.split.iterdir())})
    assert outputs[0] == outputs[1]


def test_kaggle_val_folder_becomes_the_test_split(tmp_path):
    paths = ProjectPaths(tmp_path)
    write_raw_pairs(paths.raw, 10, "train")
    write_raw_pairs(paths.raw, 3, "val")
    result = split_dataset(make_params(test_source="kaggle_val", val_fraction=0.2), paths)
    assert result.counts == {"train": 8, "val": 2, "test": 3}
    assert all(p.name.startswith("val/") for p in read_split(paths, "test"))
    with pytest.raises(DataError, match="data/raw/val"):
        empty = ProjectPaths(tmp_path / "noval")
        write_raw_pairs(empty.raw, 4)
        split_dataset(make_params(test_source="kaggle_val"), empty)


def test_nothing_usable_stops_with_a_clear_message_and_keeps_the_old_split(tmp_path):
    paths = ProjectPaths(tmp_path)
    with pytest.raises(DataError, match="no image files"):
        split_dataset(make_params(), paths)
    write_raw_pairs(paths.raw, 6)
    split_dataset(make_params(), paths)
    before = {p.name: p.read_bytes() for p in paths.split.iterdir()}
    for png in (paths.raw / "train").glob("*.png"):
        png.write_bytes(b"garbage")
    with pytest.raises(DataError, match="no usable training pairs"):
        split_dataset(make_params(), paths)
    assert {p.name: p.read_bytes() for p in paths.split.iterdir()} == before
