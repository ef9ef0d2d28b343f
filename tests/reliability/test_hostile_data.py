"""Hostile data through the real fetch and split stages (issue 6, section 2).

One mixed Kaggle-layout source, as a folder and as a zip, holds good pairs
next to every kind of bad file. For each source the tests count, file by
file: every good pair reaches data/split under its own name, every bad file
is named in fetch_report.json or the split manifest with its reason, nothing
crashes, and nothing is written outside the project folder (a sentinel folder
beside it, and the rest of the temporary folder, stay as they were). Sources
with nothing usable in them stop with an error naming the file or folder and
leave the previous data/raw untouched.

Damaged TFRecord shards (cut short, or with a flipped byte) further down the
pipeline are named too: train stops before building a model, with the shard's
path and the command that writes it again; evaluate skips the rest of a
damaged test shard, names it in eval.json and its warning, and still scores
the intact records.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from sketch2color.config import params_from_dict
from sketch2color.data.fetch import fetch
from sketch2color.data.shards import find_shards, iterate_pairs, write_shards
from sketch2color.data.split import SPLITS, split_dataset
from sketch2color.errors import DamagedShardError, DataError, UnsafeArchiveError
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
    zeros,
    zip_of,
)
from helpers import serve_folder
from tiny_training import SIZE as TRAIN_SIZE
from tiny_training import RecordingTracker, pair, tiny_params, tiny_train_params, write_tiny_project

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
    return Workspace(
        tmp_path, ProjectPaths(project), tmp_path / "inputs", tmp_path / "outside", tmp_path / "secrets"
    )


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
        f"missing {sorted(set(expected) - set(reported))}"
    )
    wrong = {item: reason for item, reason in reported.items() if expected[item] not in reason}
    assert not wrong, f"{what}: reasons without {[expected[i] for i in wrong]}: {wrong}"


def assert_outcome(ws: Workspace, expected: Expected, project_files: set[str]) -> None:
    """Exactly the good pairs in data/split, every bad file named, nothing stray anywhere."""
    paths = ws.project
    report = read_json(paths.raw / ProjectPaths.FETCH_REPORT)
    assert report["counts"] == expected.raw_counts
    assert_reasons(
        {s["item"]: s["reason"] for s in report["skipped"]},
        expected.fetch_skipped,
        "fetch_report.json skipped",
    )
    assert raw_files(paths) == (
        set(expected.good.values()) | set(expected.split_skipped) | {ProjectPaths.FETCH_REPORT}
    )

    manifest = read_json(paths.split / "manifest.json")
    assert_reasons(
        {s["file"]: s["reason"] for s in manifest["skipped"]},
        expected.split_skipped,
        "split manifest skipped",
    )
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


def run_stage_script(stage: str, project: Path, **env: str) -> subprocess.CompletedProcess:
    """``python stages/<stage>.py`` as DVC runs it: from the project folder, params.yaml there."""
    return subprocess.run(
        [sys.executable, str(REPO / "stages" / f"{stage}.py")],
        cwd=project,
        env={**stage_env(), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


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
    for folder, name, index in (
        ("Train", "a.png", 1),
        ("train", "a.png", 2),
        ("train", "b.png", 3),
        ("TRAIN", "c.png", 4),
    ):
        (source / folder).mkdir(parents=True, exist_ok=True)
        (source / folder / name).write_bytes(png(index))
    ws.freeze()
    report = fetch(ws.params({"source": "kaggle_local", "path": str(source)}), ws.project)
    assert raw_files(ws.project) == {"train/a.png", "train/b.png", "train/c.png", ProjectPaths.FETCH_REPORT}
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
    (
        "escaping.zip",
        only_escaping_members,
        {},
        DataError,
        ["no train/ folder", "escapes the target", "absolute path", "symbolic link"],
    ),
    ("empty.zip", lambda p, o: zip_of(p, {}), {}, DataError, ["no train/ folder"]),
    ("not_a_zip.zip", lambda p, o: written(p, png(0)), {}, DataError, ["not a readable .zip"]),
    ("truncated.zip", truncated_zip, {}, DataError, ["not a readable .zip"]),
    ("pairs.tar.gz", tar_archive, {}, DataError, ["not a readable .zip"]),
    ("empty_folder", empty_folder, {}, DataError, ["no train/ folder"]),
    (
        "empty_train_and_val",
        empty_train_and_val,
        {},
        DataError,
        ["no usable image files in the train folder", "empty"],
    ),
    (
        "train_without_images",
        train_without_images,
        {},
        DataError,
        ["no usable image files", "readme.md", "blank.png"],
    ),
    (
        "total_bomb.zip",
        lambda p, o: zip_of(p, {"data/train/ok.png": png(0), "data/train/zeros.png": zeros(1_500_000)}),
        {"safety": {"max_total_bytes": 1_000_000}},
        UnsafeArchiveError,
        ["max_total_bytes"],
    ),
    (
        "many_members.zip",
        lambda p, o: zip_of(p, {f"data/train/{i}.png": png(i) for i in range(12)}),
        {"safety": {"max_archive_members": 10}},
        UnsafeArchiveError,
        ["max_archive_members"],
    ),
]


@pytest.mark.parametrize(
    "name, build, extra, error, fragments", NOTHING_USABLE, ids=[case[0] for case in NOTHING_USABLE]
)
def test_a_source_with_nothing_usable_is_named_and_changes_nothing(ws, name, build, extra, error, fragments):
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


@pytest.fixture
def served(ws, monkeypatch):
    """A local http server on 127.0.0.1 serving ws.inputs/served; never any real network."""
    folder = ws.inputs / "served"
    folder.mkdir()
    with serve_folder(folder, monkeypatch) as base:
        yield folder, base


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
    url = f"{base}/nothing-here.zip" if where == "missing" else f"http://127.0.0.1:{closed_port()}/pairs.zip"
    ws.freeze()
    with pytest.raises(DataError) as raised:
        fetch(ws.params({"source": "url", "url": url, "sha256": "0" * 64}), ws.project)
    assert url in str(raised.value) and fragment in str(raised.value)
    assert not ws.project.raw.exists()
    ws.assert_nothing_written_outside()


# ---------------------------------------------------------------- a folder of colour-only art


def test_color_folder_of_every_format_and_bad_file(ws):
    """color_folder decodes in fetch: the same hostile files, as colour images of any size."""
    art = ws.inputs / "art"
    rng = np.random.default_rng(5)
    good = {
        "photo.jpg": ("JPEG", "RGB"),
        "grey16.png": ("PNG", "I;16"),
        "palette.png": ("PNG", "P"),
        "rgba.png": ("PNG", "RGBA"),
        "nested/grey.bmp": ("BMP", "L"),
        "nested/cmyk.jpg": ("JPEG", "CMYK"),
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
    params = ws.params({"source": "color_folder", "path": str(art), "sketch_method": "adaptive"})

    report = fetch(params, ws.project)
    split_dataset(params, ws.project)

    written = {
        "train/photo_jpg.png",
        "train/grey16.png",
        "train/palette.png",
        "train/rgba.png",
        "train/nested/grey_bmp.png",
        "train/nested/cmyk_jpg.png",
        "train/tiny_16x16.png",
    }
    assert report.counts == {"train": len(written)}
    assert Counter(split_names(ws.project)) == Counter(written)
    reasons = {s.item: s.reason for s in report.skipped}
    assert set(reasons) == set(bad) | {"notes.txt"}
    for name, entry in bad.items():
        assert entry.reason in reasons[name], (name, reasons[name])
    assert "max_image_pixels" in reasons["bad/train/bad/bomb_100mpx.png"]
    ws.assert_nothing_written_outside()


# ---------------------------------------------------------------- damaged TFRecord shards


def record_spans(path: Path) -> list[tuple[int, int]]:
    """(start, end) of each record: 8-byte length, 4-byte CRC, the data, 4-byte CRC."""
    data, spans, offset = path.read_bytes(), [], 0
    while offset < len(data):
        (length,) = struct.unpack_from("<Q", data, offset)
        spans.append((offset, offset + 16 + length))
        offset += 16 + length
    return spans


def cut_inside_a_record(path: Path) -> int:
    """Cut the last record short; return how many records before it are intact."""
    spans = record_spans(path)
    start, end = spans[-1]
    path.write_bytes(path.read_bytes()[: (start + end) // 2])
    return len(spans) - 1


def cut_inside_a_header(path: Path) -> int:
    """Keep one whole record and 5 bytes of the next header: TensorFlow reads that as the end."""
    _, end = record_spans(path)[0]
    path.write_bytes(path.read_bytes()[: end + 5])
    return 1


def flip_a_byte(path: Path) -> int:
    """Flip one byte inside the second record's data (its CRC no longer matches)."""
    start, end = record_spans(path)[1]
    data = bytearray(path.read_bytes())
    data[(start + end) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return 1


DAMAGE = [cut_inside_a_record, cut_inside_a_header, flip_a_byte]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_a_damaged_training_shard_is_named_before_training_starts(tmp_path, damage):
    from sketch2color.training.dataset import ShardSource

    paths = write_tiny_project(tmp_path / "project", train_pairs=16)
    shards = find_shards(paths.augmented, "train")
    damage(shards[1])
    with pytest.raises(DamagedShardError) as raised:
        ShardSource(shards, TRAIN_SIZE, global_batch=4, shuffle_buffer=8, seed=1, cache=False)
    message = str(raised.value)
    assert str(shards[1]) in message and str(shards[0]) not in message
    assert "damaged TFRecord shard" in message and "dvc repro -f -s augment" in message


def test_the_train_stage_names_a_truncated_shard_and_writes_nothing(tmp_path):
    """End to end through stages/train.py: one line naming the shard, exit 1, no model, no run."""
    paths = write_tiny_project(tmp_path / "project", train_pairs=16)
    (paths.root / "params.yaml").write_text(yaml.safe_dump(tiny_train_params()))
    damaged = find_shards(paths.augmented, "train")[1]
    cut_inside_a_record(damaged)

    run = run_stage_script(
        "train", paths.root, MLFLOW_TRACKING_URI=f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}"
    )

    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    error = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and str(damaged) in error[0], run.stderr
    assert "truncated record" in error[0] and "dvc repro -f -s augment" in error[0]
    assert not (paths.models / "generator.keras").exists()
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_a_shard_damaged_while_training_runs_is_named(tmp_path, damage):
    """After the start-up check passed: the epoch's read fails (or ends early, for a cut inside
    a record header), and the error still names the file."""
    from sketch2color.training.loop import run_training
    from sketch2color.training.plan import prepare_training

    paths = write_tiny_project(tmp_path / "project", train_pairs=16)
    plan = prepare_training(tiny_params(cache_dataset=False), paths)
    damaged = find_shards(paths.augmented, "train")[1]
    damage(damaged)
    with pytest.raises(DamagedShardError) as raised:
        run_training(plan, RecordingTracker())
    message = str(raised.value)
    assert str(damaged) in message and "dvc repro -f -s augment" in message
    plan.store.close()


def inverting_generator(size: int):
    """x -> -x: a real saved Keras generator that evaluate can load, in a second."""
    import keras

    sketch = keras.Input((size, size, 3), name="sketch")
    color = keras.layers.Conv2D(3, 1, use_bias=False, name="invert")(sketch)
    model = keras.Model(sketch, color)
    model.get_layer("invert").set_weights([-np.eye(3, dtype=np.float32).reshape(1, 1, 3, 3)])
    return model


def evaluate_project(root: Path, test_pairs: int = 8) -> ProjectPaths:
    """data/split with two test shards and one train shard, and a generator to score."""
    paths = ProjectPaths(root)
    write_shards([pair(i, IMAGE_SIZE) for i in range(test_pairs)], paths.split, "test", 2)
    write_shards([pair(100 + i, IMAGE_SIZE) for i in range(3)], paths.split, "train", 1)
    paths.models.mkdir(parents=True)
    inverting_generator(IMAGE_SIZE).save(paths.models / "generator.keras")
    return paths


@pytest.fixture
def evaluate_params(tmp_path, monkeypatch):
    """Evaluate's params; MLflow pointed at a store nobody uses (there is no training run)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{(tmp_path / 'none.db').as_posix()}")
    monkeypatch.delenv("DVC_ROOT", raising=False)
    return params_from_dict(
        {"data": {"image_size": IMAGE_SIZE}, "evaluate": {"batch_size": 3, "sample_rows": 2}}
    )


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_evaluate_names_a_damaged_test_shard_and_scores_the_intact_records(
    tmp_path, caplog, evaluate_params, damage
):
    from sketch2color.pipeline.evaluate import run as evaluate_stage

    paths = evaluate_project(tmp_path / "project")
    damaged = find_shards(paths.split, "test")[1]
    kept = damage(damaged)

    with caplog.at_level("WARNING"):
        evaluate_stage(evaluate_params, paths)

    report = read_json(paths.metrics / "eval.json")
    assert [(s["path"], s["records_kept"]) for s in report["skipped_shards"]] == [(damaged.name, kept)]
    assert report["test_images"] == 4 + kept  # shard 0 whole, shard 1 up to the damage
    warning = [r.getMessage() for r in caplog.records if str(damaged) in r.getMessage()]
    assert len(warning) == 1 and "dvc repro -f -s split" in warning[0]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_evaluate_names_a_damaged_train_split_shard(tmp_path, evaluate_params, damage):
    """The mean-colour baseline needs the whole train split: a damaged shard there is an error."""
    from sketch2color.pipeline.evaluate import run as evaluate_stage

    paths = evaluate_project(tmp_path / "project")
    damaged = find_shards(paths.split, "train")[0]
    damage(damaged)
    with pytest.raises(DamagedShardError) as raised:
        evaluate_stage(evaluate_params, paths)
    assert str(damaged) in str(raised.value) and "dvc repro -f -s split" in str(raised.value)
    assert not (paths.metrics / "eval.json").exists()
