"""The fetch stage, source by source, on tiny hostile and friendly inputs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import zipfile
from pathlib import Path
from typing import get_args

import numpy as np
import pytest
from PIL import Image

from sketch2color.config import PATH_SOURCES, FetchSource, params_from_dict
from sketch2color.data.fetch import SOURCES, fetch, find_kaggle_layout
from sketch2color.errors import DataError, Sketch2ColorError
from sketch2color.paths import ProjectPaths

from helpers import serve_folder

# ---------------------------------------------------------------- helpers


def pair_png(path: Path, seed: int = 0, height: int = 32) -> Path:
    """A tiny Kaggle-format pair (colour | sketch) with distinct content per seed."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, 2 * height, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def params_for(source: str, **fetch) -> object:
    return params_from_dict({"fetch": {"source": source, **fetch}})


def project(tmp_path: Path) -> ProjectPaths:
    root = tmp_path / "project"
    root.mkdir()
    return ProjectPaths(root)


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def read_report(paths: ProjectPaths) -> dict:
    return json.loads((paths.raw / ProjectPaths.FETCH_REPORT).read_text())


def kaggle_tree(root: Path) -> Path:
    """``root/data/{train,val}`` with duplicate names in nested folders and clutter."""
    data = root / "data"
    pair_png(data / "train" / "001.png", 1)
    pair_png(data / "train" / "002.png", 2)
    pair_png(data / "train" / "part_a" / "001.png", 3)
    pair_png(data / "train" / "part_b" / "001.png", 4)
    pair_png(data / "val" / "101.png", 5)
    (data / "train" / "notes.txt").write_text("not an image")
    (data / "train" / "._001.png").write_bytes(b"\0\5\26\7 AppleDouble")
    (data / "val" / "empty.png").write_bytes(b"")
    return root


EXPECTED_RAW = {
    "train/001.png",
    "train/002.png",
    "train/part_a/001.png",
    "train/part_b/001.png",
    "val/101.png",
    ProjectPaths.FETCH_REPORT,
}


def test_the_sources_params_allow_are_the_sources_fetch_builds():
    assert set(SOURCES) == set(get_args(FetchSource))
    assert set(PATH_SOURCES) < set(SOURCES)


# ---------------------------------------------------------------- kaggle_local


def test_kaggle_folder_nested_one_level_deeper(tmp_path):
    source = kaggle_tree(tmp_path / "download" / "anime-pairs")
    paths = project(tmp_path)
    report = fetch(params_for("kaggle_local", path=str(tmp_path / "download")), paths)

    assert files_under(paths.raw) == EXPECTED_RAW
    assert report.counts == {"train": 4, "val": 1}
    for name in ("001.png", "part_a/001.png", "part_b/001.png"):  # same names, all kept
        original = source / "data" / "train" / name
        assert (paths.raw / "train" / name).read_bytes() == original.read_bytes()
    saved = read_report(paths)
    assert saved["source"] == "kaggle_local"
    assert saved["counts"] == {"train": 4, "val": 1} and saved["total"] == 5
    reasons = {s["item"]: s["reason"] for s in saved["skipped"]}
    assert "not an image" in reasons["anime-pairs/data/train/notes.txt"]
    assert "AppleDouble" in reasons["anime-pairs/data/train/._001.png"]
    assert "empty" in reasons["anime-pairs/data/val/empty.png"]
    assert saved["skipped_count"] == 3


def test_user_files_are_copied_not_linked(tmp_path):
    source = kaggle_tree(tmp_path / "src")
    paths = project(tmp_path)
    fetch(params_for("kaggle_local", path=str(source)), paths)
    copied = paths.raw / "train" / "001.png"
    assert copied.stat().st_ino != (source / "data/train/001.png").stat().st_ino
    os.chmod(copied, stat.S_IRUSR)  # what DVC's cache does; must not reach the user's file
    assert os.access(source / "data/train/001.png", os.W_OK)


def test_train_and_val_at_the_top_of_the_folder(tmp_path):
    pair_png(tmp_path / "src" / "Train" / "a.png")
    pair_png(tmp_path / "src" / "val" / "b.png")
    paths = project(tmp_path)
    report = fetch(params_for("kaggle_local", path=str(tmp_path / "src")), paths)
    assert files_under(paths.raw) == {"train/a.png", "val/b.png", ProjectPaths.FETCH_REPORT}
    assert report.counts == {"train": 1, "val": 1}


def test_val_is_optional(tmp_path):
    pair_png(tmp_path / "src" / "data" / "train" / "a.png")
    paths = project(tmp_path)
    report = fetch(params_for("kaggle_local", path=str(tmp_path / "src")), paths)
    assert report.counts == {"train": 1}


def test_kaggle_zip_nested_deeper_with_hostile_members(tmp_path):
    source = kaggle_tree(tmp_path / "tree")
    archive = tmp_path / "pairs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(source.rglob("*")):
            if file.is_file():
                zf.write(file, "wrapper/" + file.relative_to(source).as_posix())
        zf.writestr("../escaped.png", b"x")
        zf.writestr("/tmp/absolute.png", b"x")
        link = zipfile.ZipInfo("wrapper/data/train/link.png")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    paths = project(tmp_path)
    report = fetch(params_for("kaggle_local", path=str(archive)), paths)

    assert files_under(paths.raw) == EXPECTED_RAW
    assert report.counts == {"train": 4, "val": 1}
    assert not (tmp_path / "escaped.png").exists() and not (paths.root / "escaped.png").exists()
    reasons = {s["item"]: s["reason"] for s in read_report(paths)["skipped"]}
    assert "escapes" in reasons["pairs.zip:../escaped.png"]
    assert "absolute" in reasons["pairs.zip:/tmp/absolute.png"]
    assert "symbolic link" in reasons["pairs.zip:wrapper/data/train/link.png"]
    assert "not an image" in reasons["pairs.zip:wrapper/data/train/notes.txt"]
    assert sorted(p.name for p in (paths.root / "data").iterdir()) == ["raw"]  # no scratch left


def test_zip_with_only_refused_members_says_why(tmp_path):
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../data/train/a.png", b"x")
        zf.writestr("/data/train/b.png", b"x")
    paths = project(tmp_path)
    with pytest.raises(DataError) as err:
        fetch(params_for("kaggle_local", path=str(archive)), paths)
    message = str(err.value)
    assert "hostile.zip" in message and "no train/ folder" in message
    assert "escapes the target" in message and "absolute path" in message
    assert not paths.raw.exists() and not (tmp_path / "data").exists()


def test_links_in_a_user_folder_are_not_followed(tmp_path):
    secret = tmp_path / "secret.png"
    pair_png(secret)
    pair_png(tmp_path / "src" / "train" / "real.png")
    (tmp_path / "src" / "train" / "link.png").symlink_to(secret)
    (tmp_path / "src" / "train" / "linked_dir").symlink_to(tmp_path, target_is_directory=True)
    paths = project(tmp_path)
    fetch(params_for("kaggle_local", path=str(tmp_path / "src")), paths)
    assert files_under(paths.raw) == {"train/real.png", ProjectPaths.FETCH_REPORT}
    reasons = {s["item"]: s["reason"] for s in read_report(paths)["skipped"]}
    assert "link" in reasons["train/link.png"] and "link" in reasons["train/linked_dir"]


def test_empty_folder_is_a_clear_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    paths = project(tmp_path)
    with pytest.raises(DataError, match=f"{tmp_path / 'empty'}.*no train/ folder"):
        fetch(params_for("kaggle_local", path=str(tmp_path / "empty")), paths)
    assert not paths.raw.exists()


def test_train_folder_without_images_is_a_clear_error_naming_it(tmp_path):
    train = tmp_path / "src" / "data" / "train"
    train.mkdir(parents=True)
    (train / "readme.md").write_text("nothing here")
    (tmp_path / "src" / "data" / "val").mkdir()
    paths = project(tmp_path)
    with pytest.raises(DataError) as err:
        fetch(params_for("kaggle_local", path=str(tmp_path / "src")), paths)
    assert str(train) in str(err.value) and "readme.md" in str(err.value)


def test_failed_fetch_keeps_the_previous_raw_folder(tmp_path):
    paths = project(tmp_path)
    pair_png(paths.raw / "train" / "old.png")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError):
        fetch(params_for("kaggle_local", path=str(tmp_path / "empty")), paths)
    assert files_under(paths.raw) == {"train/old.png"}
    assert sorted(p.name for p in (paths.root / "data").iterdir()) == ["raw"]


def test_refetch_replaces_raw_instead_of_merging(tmp_path):
    paths = project(tmp_path)
    pair_png(paths.raw / "train" / "stale.png")
    pair_png(tmp_path / "src" / "train" / "fresh.png")
    fetch(params_for("kaggle_local", path=str(tmp_path / "src")), paths)
    assert files_under(paths.raw) == {"train/fresh.png", ProjectPaths.FETCH_REPORT}


def test_ambiguous_layout_names_both_candidates(tmp_path):
    pair_png(tmp_path / "src" / "one" / "train" / "a.png")
    pair_png(tmp_path / "src" / "two" / "train" / "b.png")
    with pytest.raises(DataError, match="one.*two"):
        find_kaggle_layout(tmp_path / "src")


def test_not_a_zip_is_a_clear_error(tmp_path):
    fake = tmp_path / "pairs.zip"
    fake.write_bytes(b"\x89PNG but not a zip")
    with pytest.raises(DataError, match="pairs.zip"):
        fetch(params_for("kaggle_local", path=str(fake)), project(tmp_path))


# ---------------------------------------------------------------- url


@pytest.fixture
def file_server(tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    with serve_folder(served, monkeypatch) as base:
        yield served, base


def test_url_source_downloads_verifies_and_extracts(tmp_path, file_server):
    served, base = file_server
    source = kaggle_tree(tmp_path / "tree")
    shutil.make_archive(str(served / "pairs"), "zip", source)
    sha = hashlib.sha256((served / "pairs.zip").read_bytes()).hexdigest()
    paths = project(tmp_path)
    report = fetch(params_for("url", url=f"{base}/pairs.zip", sha256=sha), paths)
    assert files_under(paths.raw) == EXPECTED_RAW
    assert report.sha256 == sha and read_report(paths)["sha256"] == sha
    assert [p.name for p in paths.downloads.iterdir()] == [f"{sha[:12]}-pairs.zip"]


def test_url_source_with_wrong_sha_fails_and_keeps_nothing(tmp_path, file_server):
    served, base = file_server
    shutil.make_archive(str(served / "pairs"), "zip", kaggle_tree(tmp_path / "tree"))
    paths = project(tmp_path)
    with pytest.raises(DataError, match="sha256 mismatch"):
        fetch(params_for("url", url=f"{base}/pairs.zip", sha256="ab" * 32), paths)
    assert not paths.raw.exists()
    assert list(paths.downloads.iterdir()) == []


# ---------------------------------------------------------------- kaggle_api


@pytest.fixture
def no_kaggle_credentials(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("KAGGLE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))


def test_kaggle_api_without_credentials_says_what_to_set_up(tmp_path, no_kaggle_credentials):
    paths = project(tmp_path)
    with pytest.raises(Sketch2ColorError) as err:
        fetch(params_for("kaggle_api"), paths)
    message = str(err.value)
    assert "kaggle_api" in message and "kaggle.json" in message
    assert "KAGGLE_USERNAME" in message and "KAGGLE_KEY" in message
    assert "kaggle_local" in message  # the way around it
    assert not paths.raw.exists()


def test_kaggle_api_with_credentials_but_no_command_says_so(tmp_path, no_kaggle_credentials, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "not-a-real-key")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    from sketch2color.data.fetch import kaggle_api as fetch_module

    if fetch_module._kaggle_command() is not None:
        pytest.skip("a kaggle command is installed beside this Python")
    with pytest.raises(Sketch2ColorError) as err:
        fetch(params_for("kaggle_api"), project(tmp_path))
    assert "`kaggle` command is not installed" in str(err.value)
    assert "credentials" not in str(err.value)


# ---------------------------------------------------------------- color_folder


def color_folder(root: Path) -> Path:
    """Tiny images in odd sizes and modes, plus hostile and useless files."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (30, 41, 3), dtype=np.uint8)).save(root / "photo.jpg")
    rgba = np.zeros((50, 33, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[25:, :, 3] = 255  # top half fully transparent
    Image.fromarray(rgba, "RGBA").save(root / "transparent.png")
    Image.fromarray(rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)).convert(
        "P", palette=Image.Palette.ADAPTIVE, colors=8
    ).save(root / "palette.png")
    sixteen = np.full((36, 36), 32896, np.uint16)  # half of 65535: mid grey
    (root / "nested").mkdir()
    Image.fromarray(sixteen).save(root / "nested" / "deep16.png")
    gray = rng.integers(0, 256, (20, 45), dtype=np.uint8)
    Image.fromarray(gray, "L").save(root / "nested" / "gray.bmp")
    small = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    Image.fromarray(small).save(root / "nested" / "photo.png")
    # the unusable ones
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(200)))
    whole = (root / "palette.png").read_bytes()
    (root / "truncated.png").write_bytes(whole[: len(whole) // 2])
    (root / "notes.txt").write_text("hello")
    Image.new("RGB", (1, 1), "red").save(root / "dot.png")
    Image.new("L", (120, 120), 0).save(root / "bomb.png")  # over the lowered pixel limit
    return root


def test_color_folder_writes_pairs_and_reports_bad_files(tmp_path):
    source = color_folder(tmp_path / "art")
    paths = project(tmp_path)
    params = params_for(
        "color_folder", path=str(source), sketch_method="xdog", safety={"max_image_pixels": 5000}
    )
    report = fetch(params, paths)

    written = {
        "train/photo_jpg.png",
        "train/transparent.png",
        "train/palette.png",
        "train/nested/deep16.png",
        "train/nested/gray_bmp.png",
        "train/nested/photo.png",
    }
    assert files_under(paths.raw) == written | {ProjectPaths.FETCH_REPORT}
    assert report.counts == {"train": 6}
    for name in written:
        with Image.open(paths.raw / name) as pair:
            assert pair.mode == "RGB" and pair.size == (1024, 512)
    pair = np.asarray(Image.open(paths.raw / "train/transparent.png"))
    color, sketch = pair[:, :512], pair[:, 512:]
    assert color[:150].min() == 255  # transparent part composited on white paper
    assert tuple(color[400, 256]) == (200, 0, 0)
    assert np.mean(sketch > 200) > 0.5 and sketch.min() < 100  # a line where the red starts
    grey = np.asarray(Image.open(paths.raw / "train/nested/deep16.png"))[256, 256]
    assert tuple(grey) == (128, 128, 128)  # 16-bit scaled down, not clipped to white

    reasons = {s["item"]: s["reason"] for s in read_report(paths)["skipped"]}
    assert set(reasons) == {"corrupt.png", "truncated.png", "notes.txt", "dot.png", "bomb.png"}
    assert "not a readable image" in reasons["corrupt.png"]
    assert "truncated" in reasons["truncated.png"]
    assert "too small" in reasons["dot.png"]
    assert "max_image_pixels" in reasons["bomb.png"]
    assert "not an image" in reasons["notes.txt"]


def test_color_folder_same_stem_twice_keeps_both(tmp_path):
    source = tmp_path / "art"
    source.mkdir()
    Image.new("RGB", (20, 20), "blue").save(source / "cat.png")
    Image.new("RGB", (20, 20), "green").save(source / "cat.jpg")
    paths = project(tmp_path)
    fetch(params_for("color_folder", path=str(source), sketch_method="adaptive"), paths)
    assert files_under(paths.raw / "train") == {"cat.png", "cat_jpg.png"}
    pair = np.asarray(Image.open(paths.raw / "train" / "cat.png"))
    assert tuple(pair[10, 10]) == (0, 0, 255)  # cat.png kept its own name and content


def test_color_folder_output_is_deterministic(tmp_path):
    source = tmp_path / "art"
    source.mkdir()
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)).save(source / "a.png")
    Image.fromarray(rng.integers(0, 256, (37, 30, 3), dtype=np.uint8)).save(source / "b.jpg")
    params = params_for("color_folder", path=str(source))
    first, second = ProjectPaths(tmp_path / "first"), ProjectPaths(tmp_path / "second")
    fetch(params, first)
    fetch(params, second)
    assert (
        files_under(first.raw)
        == files_under(second.raw)
        == {"train/a.png", "train/b_jpg.png", ProjectPaths.FETCH_REPORT}
    )
    for name in files_under(first.raw):
        assert (first.raw / name).read_bytes() == (second.raw / name).read_bytes(), name


def test_color_folder_with_nothing_usable_names_the_folder(tmp_path):
    source = tmp_path / "art"
    source.mkdir()
    (source / "broken.jpg").write_bytes(b"\xff\xd8\xff not really")
    paths = project(tmp_path)
    with pytest.raises(DataError) as err:
        fetch(params_for("color_folder", path=str(source)), paths)
    assert str(source) in str(err.value) and "broken.jpg" in str(err.value)
    assert not paths.raw.exists()


# ---------------------------------------------------------------- synthetic


def test_synthetic_source_writes_pairs_and_a_report(tmp_path):
    pytest.importorskip("sketch2color.data.synthetic")
    paths = project(tmp_path)
    params = params_from_dict(
        {
            "fetch": {
                "source": "synthetic",
                "synthetic": {"count": 3, "pair_width": 64, "pair_height": 32, "workers": 1},
            }
        }
    )
    report = fetch(params, paths)
    assert report.counts == {"train": 3}
    assert len(list((paths.raw / "train").glob("*.png"))) == 3
    assert read_report(paths)["source"] == "synthetic"
