"""Hostile data through the real fetch and split stages (issue 6, section 2).

One mixed Kaggle-layout source, as a folder and as a zip, holds good pairs
next to every kind of bad file. For each source the tests count, file by
file: every good pair reaches data/split under its own name, every bad file
is named in fetch_report.json or the split manifest with its reason, nothing
crashes, and nothing is written outside the project folder (a sentinel folder
beside it, and the rest of the temporary folder, stay as they were). Sources
with nothing usable in them stop with an error naming the file or folder and
leave the previous data/raw untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from sketch2color.config import params_from_dict
from sketch2color.data.fetch import REPORT_NAME, fetch
from sketch2color.data.shards import find_shards, iterate_pairs
from sketch2color.data.split import SPLITS, split_dataset
from sketch2color.errors import DataError, UnsafeArchiveError
from sketch2color.paths import ProjectPaths

from .hostile_files import (
    MAX_MEMBER_BYTES,
    SPLIT,
    Expected,
    common_entries,
    kaggle_folder,
    kaggle_zip,
    png,
    sized,
    zip_of,
    zeros,
)

REPO = Path(__file__).resolve().parents[2]
IMAGE_SIZE = 16


# ---------------------------------------------------------------- the workspace


def snapshot(folder: Path, exclude: Path) -> dict[str, tuple]:
    """Every entry below ``folder`` except ``exclude``: kind, size and modification time."""
    seen: dict[str, tuple] = {}
    for current, dirs, files in os.walk(folder):
        here = Path(current)
        if here == exclude:
            dirs[:] = []
            continue
        for name in dirs + files:
            if here / name == exclude:
                continue
            info = os.lstat(here / name)
            seen[os.path.relpath(here / name, folder)] = (info.st_mode, info.st_size, info.st_mtime_ns)
    return seen


@dataclass
class Workspace:
    """``tmp/project`` is the project; ``tmp/outside`` a sentinel that must stay empty."""

    tmp: Path
    project: ProjectPaths
    inputs: Path
    outside: Path
    secrets: Path
    before: dict[str, tuple] | None = None

    def freeze(self) -> None:
        """Remember everything outside the project, once the inputs are in place."""
        self.before = snapshot(self.tmp, exclude=self.project.root)

    def assert_nothing_written_outside(self) -> None:
        assert list(self.outside.iterdir()) == []
        assert self.before is not None, "call freeze() once the inputs are written"
        assert snapshot(self.tmp, exclude=self.project.root) == self.before

    def params(self, fetch_section: dict, **split) -> object:
        raw = params_dict(fetch_section, **split)
        return params_from_dict(raw)


def params_dict(fetch_section: dict, **split) -> dict:
    safety = {"max_member_bytes": MAX_MEMBER_BYTES, **fetch_section.pop("safety", {})}
    return {
        "data": {"image_size": IMAGE_SIZE},
        "fetch": {**fetch_section, "safety": safety},
        "split": {"workers": 1, "shards": 1, **split},
    }


@pytest.fixture
def ws(tmp_path, monkeypatch) -> Workspace:
    project = tmp_path / "project"
    for folder in ("project", "inputs", "outside", "cwd"):
        (tmp_path / folder).mkdir()
    # A relative escape would land in the working folder: make it one the snapshot covers.
    monkeypatch.chdir(tmp_path / "cwd")
    return Workspace(tmp_path, ProjectPaths(project), tmp_path / "inputs", tmp_path / "outside",
                     tmp_path / "secrets")


# ---------------------------------------------------------------- reading the results


def raw_files(paths: ProjectPaths) -> set[str]:
    return {os.path.relpath(Path(d) / f, paths.raw) for d, _, fs in os.walk(paths.raw) for f in fs}


def split_names(paths: ProjectPaths) -> list[str]:
    return [pair.name for split in SPLITS for pair in iterate_pairs(find_shards(paths.split, split))]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def assert_reasons(reported: dict[str, str], expected: dict[str, str], what: str) -> None:
    assert set(reported) == set(expected), (
        f"{what}: unexpected {sorted(set(reported) - set(expected))}, "
        f"missing {sorted(set(expected) - set(reported))}")
    wrong = {item: reason for item, reason in reported.items() if expected[item] not in reason}
    assert not wrong, f"{what}: reasons without {[expected[i] for i in wrong]}: {wrong}"


def assert_outcome(ws: Workspace, expected: Expected, project_files: set[str]) -> None:
    """Exactly the good pairs in data/split, every bad file named, nothing stray anywhere."""
    paths = ws.project
    report = read_json(paths.raw / REPORT_NAME)
    assert report["counts"] == expected.raw_counts
    assert_reasons({s["item"]: s["reason"] for s in report["skipped"]}, expected.fetch_skipped,
                   "fetch_report.json skipped")
    assert raw_files(paths) == (set(expected.good.values()) | set(expected.split_skipped)
                                | {REPORT_NAME})

    manifest = read_json(paths.split / "manifest.json")
    assert_reasons({s["file"]: s["reason"] for s in manifest["skipped"]}, expected.split_skipped,
                   "split manifest skipped")
    names = split_names(paths)
    assert Counter(names) == Counter(list(expected.good)), "every good pair once, nothing else"
    assert sum(manifest["counts"].values()) == len(expected.good)

    assert {p.name for p in paths.root.iterdir()} == project_files
    assert {p.name for p in (paths.root / "data").iterdir()} == {"raw", "split"}  # no scratch left
    ws.assert_nothing_written_outside()


# ---------------------------------------------------------------- one mixed source


def test_mixed_hostile_folder_loses_no_good_pair(ws):
    expected = kaggle_folder(ws.inputs / "download", ws.secrets)
    ws.freeze()
    params = ws.params({"source": "kaggle_local", "path": str(ws.inputs / "download")})

    fetch(params, ws.project)
    split_dataset(params, ws.project)

    assert len(expected.good) >= 30 and len(expected.split_skipped) >= 10
    assert_outcome(ws, expected, project_files={"data"})
    # the link's target is a perfectly good pair: it must still not be read through the link
    assert not any("secret" in name for name in split_names(ws.project))


def stage_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", PYTHONDONTWRITEBYTECODE="1", no_proxy="127.0.0.1")
    env.pop("DVC_ROOT", None)
    return env


def run_stage_script(stage: str, project: Path) -> subprocess.CompletedProcess:
    """``python stages/<stage>.py`` as DVC runs it: from the project folder, params.yaml there."""
    return subprocess.run([sys.executable, str(REPO / "stages" / f"{stage}.py")], cwd=project,
                          env=stage_env(), capture_output=True, text=True, timeout=300)


def test_mixed_hostile_zip_through_the_stage_scripts(ws):
    """End to end: the real stage entry points, split with two worker processes and two shards."""
    archive = ws.inputs / "hostile.zip"
    expected = kaggle_zip(archive, ws.outside)
    raw = params_dict({"source": "kaggle_local", "path": str(archive)}, workers=2, shards=2)
    (ws.project.root / "params.yaml").write_text(yaml.safe_dump(raw))
    ws.freeze()

    for stage in ("fetch", "split"):
        run = run_stage_script(stage, ws.project.root)
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
    assert_outcome(ws, expected, project_files={"data", "params.yaml"})


def test_train_folders_differing_in_letter_case_are_both_imported(ws):
    source = ws.inputs / "pairs"
    for folder, name, index in (("Train", "a.png", 1), ("train", "a.png", 2), ("train", "b.png", 3),
                                ("TRAIN", "c.png", 4)):
        (source / folder).mkdir(parents=True, exist_ok=True)
        (source / folder / name).write_bytes(png(index))
    ws.freeze()
    report = fetch(ws.params({"source": "kaggle_local", "path": str(source)}), ws.project)
    assert raw_files(ws.project) == {"train/a.png", "train/b.png", "train/c.png", REPORT_NAME}
    assert report.counts == {"train": 3}
    # two different files cannot both be train/a.png: the second is named, with why
    assert [(s.item, "letter case" in s.reason) for s in report.skipped] == [("train/a.png", True)]
    ws.assert_nothing_written_outside()


# ---------------------------------------------------------------- nothing usable: a clear error


def only_escaping_members(path: Path, outside: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"../../../../{outside.name}/train/a.png", png(1))
        zf.writestr(str(outside / "train" / "b.png"), png(2))
        link = zipfile.ZipInfo("data/train/c.png")
        link.create_system, link.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(outside / "c.png"))
    return path


def truncated_zip(path: Path, outside: Path) -> Path:
    whole = zip_of(path.with_suffix(".whole"), {f"data/train/{i}.png": png(i) for i in range(3)})
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    return path


def tar_archive(path: Path, outside: Path) -> Path:
    member = path.parent / "0.png"
    member.write_bytes(png(0))
    with tarfile.open(path, "w:gz") as tar:
        tar.add(member, arcname="data/train/0.png")
    member.unlink()
    return path


def empty_train_and_val(path: Path, outside: Path) -> Path:
    (path / "data" / "train" / "empty").mkdir(parents=True)
    (path / "data" / "val").mkdir()
    return path


def train_without_images(path: Path, outside: Path) -> Path:
    (path / "train").mkdir(parents=True)
    (path / "train" / "readme.md").write_text("no pairs here")
    (path / "train" / "blank.png").write_bytes(b"")
    return path


def written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def empty_folder(path: Path, outside: Path) -> Path:
    path.mkdir()
    return path


NOTHING_USABLE = [
    # name, builder, extra fetch params, exception type, fragments the message must hold
    ("escaping.zip", only_escaping_members, {}, DataError,
     ["no train/ folder", "escapes the target", "absolute path", "symbolic link"]),
    ("empty.zip", lambda p, o: zip_of(p, {}), {}, DataError, ["no train/ folder"]),
    ("not_a_zip.zip", lambda p, o: written(p, png(0)), {}, DataError,
     ["not a readable .zip"]),
    ("truncated.zip", truncated_zip, {}, DataError, ["not a readable .zip"]),
    ("pairs.tar.gz", tar_archive, {}, DataError, ["not a readable .zip"]),
    ("empty_folder", empty_folder, {}, DataError, ["no train/ folder"]),
    ("empty_train_and_val", empty_train_and_val, {}, DataError,
     ["no usable image files in the train folder", "empty"]),
    ("train_without_images", train_without_images, {}, DataError,
     ["no usable image files", "readme.md", "blank.png"]),
    ("total_bomb.zip",
     lambda p, o: zip_of(p, {"data/train/ok.png": png(0), "data/train/zeros.png": zeros(1_500_000)}),
     {"safety": {"max_total_bytes": 1_000_000}}, UnsafeArchiveError, ["max_total_bytes"]),
    ("many_members.zip",
     lambda p, o: zip_of(p, {f"data/train/{i}.png": png(i) for i in range(12)}),
     {"safety": {"max_archive_members": 10}}, UnsafeArchiveError, ["max_archive_members"]),
]


@pytest.mark.parametrize("name, build, extra, error, fragments", NOTHING_USABLE,
                         ids=[case[0] for case in NOTHING_USABLE])
def test_a_source_with_nothing_usable_is_named_and_changes_nothing(ws, name, build, extra, error,
                                                                   fragments):
    source = build(ws.inputs / name, ws.outside)
    previous = ws.project.raw / "train" / "previous.png"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(png(99))
    ws.freeze()
    with pytest.raises(error) as raised:
        fetch(ws.params({"source": "kaggle_local", "path": str(source), **extra}), ws.project)
    message = str(raised.value)
    assert name in message
    for fragment in fragments:
        assert fragment in message
    assert raw_files(ws.project) == {"train/previous.png"}  # the last good data/raw is kept
    assert {p.name for p in (ws.project.root / "data").iterdir()} == {"raw"}
    ws.assert_nothing_written_outside()


def test_split_of_only_bad_files_names_them_and_keeps_the_previous_split(ws):
    params = ws.params({"source": "synthetic"})
    for index in range(4):
        (ws.project.raw / "train").mkdir(parents=True, exist_ok=True)
        (ws.project.raw / "train" / f"{index}.png").write_bytes(png(index))
    split_dataset(params, ws.project)
    before = {p.name: p.read_bytes() for p in ws.project.split.iterdir()}
    for index in range(4):
        (ws.project.raw / "train" / f"{index}.png").unlink()
    bad = [entry for entry in common_entries() if entry.outcome == SPLIT]
    for entry in bad:
        (ws.project.raw / entry.path).parent.mkdir(parents=True, exist_ok=True)
        (ws.project.raw / entry.path).write_bytes(entry.data)
    ws.freeze()
    with pytest.raises(DataError) as raised:
        split_dataset(params, ws.project)
    message = str(raised.value)
    assert "no usable training pairs" in message and f"all {len(bad)} files" in message
    assert "train/bad/" in message  # the first reasons name their files
    assert {p.name: p.read_bytes() for p in ws.project.split.iterdir()} == before
    ws.assert_nothing_written_outside()


# ---------------------------------------------------------------- archives from a URL


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(ws, monkeypatch):
    """A local http server on 127.0.0.1 serving ws.inputs/served; never any real network."""
    for name in [k for k in os.environ if "proxy" in k.lower()]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    folder = ws.inputs / "served"
    folder.mkdir()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_an_archive_whose_sha256_does_not_match_is_refused_by_the_stage(ws, served):
    folder, base = served
    archive = zip_of(folder / "pairs.zip", {f"data/train/{i}.png": png(i) for i in range(3)})
    actual = hashlib.sha256(archive.read_bytes()).hexdigest()
    wrong = hashlib.sha256(b"some other archive").hexdigest()
    url = f"{base}/pairs.zip"
    raw = params_dict({"source": "url", "url": url, "sha256": wrong})
    (ws.project.root / "params.yaml").write_text(yaml.safe_dump(raw))
    previous = ws.project.raw / "train" / "previous.png"
    previous.parent.mkdir(parents=True)
    previous.write_bytes(png(99))
    ws.freeze()

    run = run_stage_script("fetch", ws.project.root)

    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert url in run.stderr and "sha256 mismatch" in run.stderr
    assert wrong in run.stderr and actual in run.stderr
    assert raw_files(ws.project) == {"train/previous.png"}
    downloaded = [p for p in ws.project.downloads.rglob("*") if p.is_file()]
    assert downloaded == []  # the wrong bytes (and their .part) are deleted
    ws.assert_nothing_written_outside()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("where, fragment", [("missing", "HTTP 404"), ("closed", "cannot reach")])
def test_an_archive_that_cannot_be_downloaded_is_named(ws, served, where, fragment):
    _, base = served
    url = f"{base}/nothing-here.zip" if where == "missing" else \
        f"http://127.0.0.1:{closed_port()}/pairs.zip"
    ws.freeze()
    with pytest.raises(DataError) as raised:
        fetch(ws.params({"source": "url", "url": url, "sha256": "0" * 64}), ws.project)
    assert url in str(raised.value) and fragment in str(raised.value)
    assert not ws.project.raw.exists()
    ws.assert_nothing_written_outside()


# ---------------------------------------------------------------- a folder of colour-only art


def test_colour_folder_of_every_format_and_bad_file(ws):
    """colour_folder decodes in fetch: the same hostile files, as colour images of any size."""
    art = ws.inputs / "art"
    rng = np.random.default_rng(5)
    good = {
        "photo.jpg": ("JPEG", "RGB"), "grey16.png": ("PNG", "I;16"), "palette.png": ("PNG", "P"),
        "rgba.png": ("PNG", "RGBA"), "nested/grey.bmp": ("BMP", "L"), "nested/cmyk.jpg": ("JPEG", "CMYK"),
    }
    for name, (fmt, mode) in good.items():
        pixels = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)  # odd sizes
        image = Image.fromarray(pixels)
        if mode == "I;16":
            image = Image.fromarray(np.asarray(image.convert("L")).astype(np.uint16) * 257)
        elif mode != "RGB":
            image = image.convert(mode)
        (art / name).parent.mkdir(parents=True, exist_ok=True)
        image.save(art / name, format=fmt)
    (art / "tiny_16x16.png").write_bytes(sized(16, 16, 1))
    bad = {f"bad/{entry.path}": entry for entry in common_entries() if entry.outcome == SPLIT}
    for name, entry in bad.items():
        (art / name).parent.mkdir(parents=True, exist_ok=True)
        (art / name).write_bytes(entry.data)
    (art / "notes.txt").write_text("not art")
    ws.freeze()
    params = ws.params({"source": "colour_folder", "path": str(art), "sketch_method": "adaptive"})

    report = fetch(params, ws.project)
    split_dataset(params, ws.project)

    written = {"train/photo_jpg.png", "train/grey16.png", "train/palette.png", "train/rgba.png",
               "train/nested/grey_bmp.png", "train/nested/cmyk_jpg.png", "train/tiny_16x16.png"}
    assert report.counts == {"train": len(written)}
    assert Counter(split_names(ws.project)) == Counter(written)
    reasons = {s.item: s.reason for s in report.skipped}
    assert set(reasons) == set(bad) | {"notes.txt"}
    for name, entry in bad.items():
        assert entry.reason in reasons[name], (name, reasons[name])
    assert "max_image_pixels" in reasons["bad/train/bad/bomb_100mpx.png"]
    ws.assert_nothing_written_outside()
