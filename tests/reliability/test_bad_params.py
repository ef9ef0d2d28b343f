"""Bad params stop every stage before any work, with an error naming the key (issue 6, section 3).

Each case edits a copy of the repository's own params.yaml in a temporary
project that already holds every stage's outputs, runs the real stage script
(``stages/<stage>.py``) there, and checks: exit status 1, the dotted key in
the one-line error, no traceback, and not one file of the project created,
changed or removed.

Every case runs the script in-process (``runpy``, as ``python stages/x.py``
would, but without paying the interpreter and import start-up each time); one
case per stage also runs it as a real subprocess, the way DVC does.

Only ``fetch`` has file-path params (``fetch.path``); no other section names a
file, so "a missing file path" applies to fetch alone, plus params.yaml itself.
"""

from __future__ import annotations

import copy
import hashlib
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
STAGES = ("fetch", "split", "augment", "train", "evaluate", "export")

# id, stage script, edits to params.yaml (dotted key -> value), the key the error must name
CASES = [
    # seed (top level)
    ("seed-unknown-key", "fetch", {"sede": 7}, "sede"),
    ("seed-wrong-type", "fetch", {"seed": "forty-two"}, "seed"),
    ("seed-out-of-range", "fetch", {"seed": -1}, "seed"),
    # data
    ("data-unknown-key", "split", {"data.imagesize": 64}, "data.imagesize"),
    ("data-wrong-type", "split", {"data.image_size": "64"}, "data.image_size"),
    ("data-not-a-power-of-two", "split", {"data.image_size": 100}, "data.image_size"),
    ("data-too-small", "split", {"data.image_size": 8}, "data.image_size"),
    # fetch
    ("fetch-unknown-key", "fetch", {"fetch.sorce": "synthetic"}, "fetch.sorce"),
    ("fetch-unknown-nested-key", "fetch", {"fetch.safety.max_bytes": 10}, "fetch.safety.max_bytes"),
    ("fetch-wrong-type", "fetch", {"fetch.synthetic.count": "ten"}, "fetch.synthetic.count"),
    ("fetch-path-wrong-type", "fetch", {"fetch.source": "kaggle_local", "fetch.path": 5}, "fetch.path"),
    ("fetch-out-of-range", "fetch", {"fetch.safety.max_image_pixels": 0}, "fetch.safety.max_image_pixels"),
    ("fetch-negative-count", "fetch", {"fetch.synthetic.count": -5}, "fetch.synthetic.count"),
    ("fetch-unknown-source", "fetch", {"fetch.source": "ftp"}, "fetch.source"),
    (
        "fetch-missing-path",
        "fetch",
        {"fetch.source": "kaggle_local", "fetch.path": "/no/such/pairs.zip"},
        "fetch.path",
    ),
    (
        "fetch-missing-relative-path",
        "fetch",
        {"fetch.source": "color_folder", "fetch.path": "my_art/not_here"},
        "fetch.path",
    ),
    ("fetch-path-not-given", "fetch", {"fetch.source": "kaggle_local", "fetch.path": None}, "fetch.path"),
    (
        "fetch-path-is-a-file-not-a-folder",
        "fetch",
        {"fetch.source": "color_folder", "fetch.path": "params.yaml"},
        "fetch.path",
    ),
    (
        "fetch-url-without-sha256",
        "fetch",
        {"fetch.source": "url", "fetch.url": "http://127.0.0.1:9/pairs.zip"},
        "fetch.sha256",
    ),
    (
        "fetch-url-not-http",
        "fetch",
        {"fetch.source": "url", "fetch.url": "file:///etc/passwd", "fetch.sha256": "0" * 64},
        "fetch.url",
    ),
    # split
    ("split-unknown-key", "split", {"split.shard": 2}, "split.shard"),
    ("split-wrong-type", "split", {"split.shards": "two"}, "split.shards"),
    ("split-out-of-range", "split", {"split.val_fraction": 1.5}, "split.val_fraction"),
    (
        "split-fractions-leave-nothing",
        "split",
        {"split.val_fraction": 0.5, "split.test_fraction": 0.5},
        "split.test_fraction",
    ),
    ("split-unknown-choice", "split", {"split.test_source": "val"}, "split.test_source"),
    # augment
    ("augment-unknown-key", "augment", {"augment.rotation": 10}, "augment.rotation"),
    ("augment-wrong-type", "augment", {"augment.horizontal_flip": "yes"}, "augment.horizontal_flip"),
    ("augment-out-of-range", "augment", {"augment.copies": -1}, "augment.copies"),
    ("augment-negative-noise", "augment", {"augment.noise_std": -3.0}, "augment.noise_std"),
    # train
    ("train-unknown-key", "train", {"train.lr": 0.001}, "train.lr"),
    ("train-wrong-type", "train", {"train.batch_size": 8.5}, "train.batch_size"),
    ("train-negative-learning-rate", "train", {"train.learning_rate": -0.001}, "train.learning_rate"),
    ("train-not-a-number", "train", {"train.lambda_l1": float("nan")}, "train.lambda_l1"),
    ("train-unknown-choice", "train", {"train.norm": "layer"}, "train.norm"),
    (
        "train-decay-longer-than-training",
        "train",
        {"train.epochs": 2, "train.decay_epochs": 5},
        "train.decay_epochs",
    ),
    ("train-not-a-section", "train", {"train": 5}, "train"),
    # evaluate
    ("evaluate-unknown-key", "evaluate", {"evaluate.metric": "ssim"}, "evaluate.metric"),
    ("evaluate-wrong-type", "evaluate", {"evaluate.fid": "no"}, "evaluate.fid"),
    ("evaluate-out-of-range", "evaluate", {"evaluate.batch_size": 0}, "evaluate.batch_size"),
    ("evaluate-unknown-choice", "evaluate", {"evaluate.inference_mode": "test"}, "evaluate.inference_mode"),
    # export
    ("export-unknown-key", "export", {"export.format": "tflite"}, "export.format"),
    ("export-wrong-type", "export", {"export.formats": "savedmodel"}, "export.formats"),
    ("export-out-of-range", "export", {"export.latency_runs": 0}, "export.latency_runs"),
    ("export-unknown-format", "export", {"export.formats": ["onnx"]}, "export.formats[0]"),
    ("export-no-format", "export", {"export.formats": []}, "export.formats"),
    ("export-repeated-format", "export", {"export.formats": ["savedmodel", "savedmodel"]}, "export.formats"),
]

# One case per stage script also runs in a subprocess, exactly as `dvc repro` starts it.
SUBPROCESS_CASES = {stage: next(case for case in CASES if case[1] == stage) for stage in STAGES}


# ---------------------------------------------------------------- a project with every output


def edited_params(edits: dict) -> dict:
    raw = copy.deepcopy(yaml.safe_load((REPO / "params.yaml").read_text()))
    for dotted, value in edits.items():
        *parents, key = dotted.split(".")
        node = raw
        for part in parents:
            node = node[part]
        node[key] = value
    return raw


def make_project(root: Path, params_text: str | None) -> Path:
    """A project whose every stage output already exists: a bad param must touch none of them."""
    files = {
        "data/raw/train/0000.png": b"\x89PNG pair",
        "data/raw/fetch_report.json": b"{}",
        "data/split/train-00000-of-00001.tfrecord": b"records",
        "data/split/manifest.json": b"{}",
        "data/augmented/train-00000-of-00001.tfrecord": b"records",
        "models/generator.keras": b"model",
        "models/checkpoints/ckpt-1.index": b"checkpoint",
        "models/export/formats.json": b"{}",
        "metrics/train.json": b"{}",
        "metrics/eval.json": b"{}",
        "metrics/export.json": b"{}",
    }
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    if params_text is not None:
        (root / "params.yaml").write_text(params_text)
    return root


def tree_state(root: Path) -> dict[str, tuple]:
    """Every file and folder below root: kind, size, mtime and content hash."""
    state = {}
    for current, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(current) / name
            info = os.lstat(path)
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
            state[str(path.relative_to(root))] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return state


def run_script_in_process(stage: str, project: Path, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.chdir(project)
    monkeypatch.delenv("DVC_ROOT", raising=False)
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(REPO / "stages" / f"{stage}.py"), run_name="__main__")
    return exited.value.code, capsys.readouterr().err


def run_script_subprocess(stage: str, project: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "DVC_ROOT"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    run = subprocess.run(
        [sys.executable, str(REPO / "stages" / f"{stage}.py")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.returncode, run.stderr


def assert_refused(code: int, stderr: str, key: str) -> None:
    assert code == 1
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert f"'{key}'" in errors[0], errors[0]


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("stage, edits, key", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_bad_param_stops_the_stage_naming_the_key(tmp_path, monkeypatch, capsys, stage, edits, key):
    project = make_project(tmp_path / "project", yaml.safe_dump(edited_params(edits), sort_keys=False))
    before = tree_state(project)
    code, stderr = run_script_in_process(stage, project, monkeypatch, capsys)
    assert_refused(code, stderr, key)
    assert tree_state(project) == before


@pytest.mark.parametrize("stage", STAGES)
def test_a_bad_param_stops_the_stage_script_in_its_own_process(tmp_path, stage):
    _, _, edits, key = SUBPROCESS_CASES[stage]
    project = make_project(tmp_path / "project", yaml.safe_dump(edited_params(edits), sort_keys=False))
    before = tree_state(project)
    code, stderr = run_script_subprocess(stage, project)
    assert_refused(code, stderr, key)
    assert tree_state(project) == before


@pytest.mark.parametrize(
    "what, text, named",
    [
        ("missing", None, "params.yaml"),
        ("not-yaml", "train: [unclosed\n", "params.yaml"),
        ("not-a-mapping", "- a\n- list\n", "params.yaml"),
    ],
)
def test_an_unreadable_params_file_is_named(tmp_path, monkeypatch, capsys, what, text, named):
    project = make_project(tmp_path / "project", text)
    before = tree_state(project)
    code, stderr = run_script_in_process("fetch", project, monkeypatch, capsys)
    assert code == 1 and "Traceback" not in stderr
    assert named in stderr
    assert tree_state(project) == before


def test_unknown_keys_of_mixed_types_are_named_not_a_crash(tmp_path, monkeypatch, capsys):
    raw = edited_params({})
    raw[2] = "a stray YAML integer key"
    raw["sede"] = 7
    project = make_project(tmp_path / "project", yaml.safe_dump(raw, sort_keys=False))
    code, stderr = run_script_in_process("fetch", project, monkeypatch, capsys)
    assert_refused(code, stderr, "2")


def test_a_bad_log_level_variable_is_named_not_a_traceback(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "project", yaml.safe_dump(edited_params({}), sort_keys=False))
    before = tree_state(project)
    monkeypatch.setenv("SKETCH2COLOR_LOG_LEVEL", "chatty")
    code, stderr = run_script_in_process("fetch", project, monkeypatch, capsys)
    assert code == 1 and "Traceback" not in stderr
    assert "SKETCH2COLOR_LOG_LEVEL='CHATTY'" in stderr
    assert tree_state(project) == before
