"""The project the benchmark measures: its folder, its default params, disposable copies of it.

The tests' end-to-end repositories are made by the same helpers
(``tests/pipeline_repo.py``), so that a benchmark and a test run the pipeline
in the same kind of fresh copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from sketch2color.paths import ProjectPaths

CHECKOUT = Path(__file__).resolve().parents[1]
"""The source checkout the benchmark lives in (``bench/`` sits beside ``src/`` and ``stages/``)."""


def project_root() -> Path:
    """The checkout whose pipeline the benchmark measures."""
    if not ((CHECKOUT / "dvc.yaml").is_file() and (CHECKOUT / "stages").is_dir()):
        raise FileNotFoundError(f"{CHECKOUT} is not a sketch2color checkout (no dvc.yaml and stages/)")
    return CHECKOUT


def importable_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with the checkout on PYTHONPATH, so a child process started in any folder can run
    ``python -m bench.<module>``."""
    paths = [str(CHECKOUT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


def default_params(root: Path) -> dict:
    """params.yaml of the checkout as a mapping (the benchmark overrides a few keys)."""
    return yaml.safe_load((root / ProjectPaths.PARAMS).read_text())


def override(params: dict, dotted: dict[str, object]) -> dict:
    """A copy of ``params`` with ``{"train.epochs": 1, ...}`` applied."""
    result = yaml.safe_load(yaml.safe_dump(params))
    for key, value in dotted.items():
        *parents, leaf = key.split(".")
        section = result
        for name in parents:
            section = section.setdefault(name, {})
        section[leaf] = value
    return result


def write_params(folder: Path, params: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ProjectPaths.PARAMS).write_text(yaml.safe_dump(params, sort_keys=False))


def child_env(folder: Path, **extra: str) -> dict[str, str]:
    """Environment for a stage, dvc or CLI process working in ``folder``."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DVC_NO_ANALYTICS"] = "1"
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["MLFLOW_TRACKING_URI"] = f"sqlite:///{folder.resolve() / ProjectPaths.MLFLOW_DB}"
    env.pop("DVC_ROOT", None)
    env.update(extra)
    return env


def tracked_files(root: Path) -> list[str]:
    """What a fresh clone holds: files git tracks, plus new files git does not ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [name for name in listed if (root / name).is_file()]


def copy_project_files(root: Path, target: Path) -> None:
    """The project's files as a fresh clone has them (:func:`tracked_files`), without dvc.lock."""
    for name in tracked_files(root):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination)
    (target / "dvc.lock").unlink(missing_ok=True)


def copy_project(root: Path, target: Path) -> Path:
    """A copy of the project as a fresh clone would be, with its own git history and no dvc.lock.

    ``dvc repro`` there starts from an empty cache and touches nothing of the original.
    """
    copy_project_files(root, target)
    git = ["git", "-c", "user.email=bench@sketch2color.invalid", "-c", "user.name=sketch2color bench"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "benchmark copy"]):
        subprocess.run(git + args, cwd=target, check=True, capture_output=True)
    return target
