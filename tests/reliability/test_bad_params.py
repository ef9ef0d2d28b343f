"""Bad params stop every stage script before any work, with an error naming the key (issue 6, section 3).

Which values are refused, and what each error says, is tested once, on the
config alone, in ``tests/test_config.py``. Here the stage scripts
(``stages/<stage>.py``) get a bad params.yaml in a temporary project that
already holds every stage's outputs, and each must: exit 1 with one
``error:`` line naming the dotted key, print no traceback, and leave every
file of the project as it was.

Each stage script runs once as its own process, exactly as ``dvc repro``
starts it, under ``python -X importtime``, which shows that the error came
before TensorFlow (or Keras) was imported. The refusals that only a stage
makes (a fetch path that is not there, params.yaml itself missing, a bad
log-level variable) run the script in-process (``runpy``, as ``python
stages/x.py`` would, without the interpreter's start-up each time).

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

# Stage script -> (edits to params.yaml as dotted key -> value, the key the error must name).
# Values tests/test_config.py does not already check; fetch gets a key of a section it does not
# read: every stage checks the whole file.
STAGE_CASES = {
    "fetch": ({"augment.zooom": 0.1}, "augment.zooom"),
    "split": ({"data.image_size": 2048}, "data.image_size"),
    "augment": ({"augment.copies": 1.5}, "augment.copies"),
    "train": ({"train.lr": 0.001}, "train.lr"),
    "evaluate": ({"evaluate.inference_mode": "test"}, "evaluate.inference_mode"),
    "export": ({"export.formats": ["onnx"]}, "export.formats[0]"),
}
HEAVY_MODULES = {"tensorflow", "keras"}


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
    """``python stages/<stage>.py`` in ``project``; stderr also holds ``-X importtime``'s report."""
    env = {k: v for k, v in os.environ.items() if k != "DVC_ROOT"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    run = subprocess.run(
        [sys.executable, "-X", "importtime", str(REPO / "stages" / f"{stage}.py")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return run.returncode, run.stderr


def imported_modules(stderr: str) -> set[str]:
    """Top-level packages ``-X importtime`` saw imported ("import time: self | cumulative | name")."""
    lines = [line for line in stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime report"
    return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines[1:]}  # [0] is the header


def assert_refused(code: int, stderr: str, key: str) -> None:
    assert code == 1
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, stderr
    assert f"'{key}'" in errors[0], errors[0]


# ---------------------------------------------------------------- the cases


@pytest.mark.parametrize("stage", list(STAGE_CASES))
def test_a_bad_param_stops_the_stage_script_before_tensorflow_loads(tmp_path, stage):
    edits, key = STAGE_CASES[stage]
    project = make_project(tmp_path / "project", yaml.safe_dump(edited_params(edits), sort_keys=False))
    before = tree_state(project)
    code, stderr = run_script_subprocess(stage, project)
    assert_refused(code, stderr, key)
    assert tree_state(project) == before
    assert HEAVY_MODULES.isdisjoint(imported_modules(stderr)), sorted(imported_modules(stderr))


def test_a_fetch_path_that_is_not_there_stops_fetch_before_any_work(tmp_path, monkeypatch, capsys):
    """Checked when fetch runs (later stages load the same params): relative to the project."""
    edits = {"fetch.source": "color_folder", "fetch.path": "my_art/not_here"}
    project = make_project(tmp_path / "project", yaml.safe_dump(edited_params(edits), sort_keys=False))
    before = tree_state(project)
    code, stderr = run_script_in_process("fetch", project, monkeypatch, capsys)
    assert_refused(code, stderr, "fetch.path")
    assert str(project / "my_art" / "not_here") in stderr
    assert tree_state(project) == before


def test_a_missing_params_file_is_named(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "project", None)
    before = tree_state(project)
    code, stderr = run_script_in_process("fetch", project, monkeypatch, capsys)
    assert code == 1 and "Traceback" not in stderr
    assert "params.yaml" in stderr
    assert tree_state(project) == before


def test_a_bad_log_level_variable_is_named_not_a_traceback(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path / "project", yaml.safe_dump(edited_params({}), sort_keys=False))
    before = tree_state(project)
    monkeypatch.setenv("SKETCH2COLOR_LOG_LEVEL", "chatty")
    code, stderr = run_script_in_process("fetch", project, monkeypatch, capsys)
    assert code == 1 and "Traceback" not in stderr
    assert "SKETCH2COLOR_LOG_LEVEL='CHATTY'" in stderr
    assert tree_state(project) == before
