"""Real train-stage runs in disposable project copies, and what a complete training looks like.

The fault tests (kills, tracking faults, numerical faults) all start from one
prepared project: a :func:`pipeline_repo.make_pipeline_repo` copy on the tiny
profile whose data stages already ran (``dvc repro augment``) and were
committed. Each test copies that folder (a few MB) instead of paying the
data stages again, then runs the real ``dvc repro`` or ``stages/train.py``
there, with the fault hooks of :mod:`fault_hooks`.

:func:`assert_training_complete` is the one definition of "nothing was lost"
that every fault test ends with: the planned step count, a loadable
generator, one history row per logged step, and one MLflow run whose every
metric has each of its steps exactly once.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from sketch2color.data.shards import find_shards, iterate_pairs

from .fault_hooks import VARIABLES as TEST_HOOKS
from pipeline_repo import PipelineRepo, make_pipeline_repo

STAGE_HOOKS = Path(__file__).resolve().parent / "stage_hooks"
"""On PYTHONPATH in the stage processes: its sitecustomize hands the fault hooks to the train stage."""
STEP_METRICS = ("gen_total", "gen_gan", "gen_l1", "disc", "d_real", "d_fake", "images_per_s", "lr")
EPOCH_METRICS = tuple(f"epoch_{name}" for name in STEP_METRICS if name != "lr")
# Outputs of the main checkout's own runs that make_pipeline_repo copies along
# (untracked, not ignored): a test must never find them and think they are its own.
STALE_METRICS = (
    "train.json",
    "train_history.csv",
    "eval.json",
    "export.json",
    "validation.png",
    "samples.png",
)
# Names that only temporary files have: sketch2color.atomic (".<name>.<random>.tmp"), the
# generator's save (".generator.<pid>.tmp.keras"), atomic_directory's ".old", TensorFlow's
# checkpoint shards ("ckpt-N_temp/") and downloads (".part").
TEMPORARY_NAME = re.compile(r"(^\..*\.tmp$)|(\.tmp\.keras$)|(^\..*\.old$)|(_temp$)|(\.part$)")


@dataclass(frozen=True)
class PlannedTraining:
    """What a finished training of the copy must show, computed from its data and params."""

    epochs: int
    steps_per_epoch: int
    log_every: int
    checkpoint_every: int

    @property
    def total(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def logged_steps(self) -> list[int]:
        """Every log_every steps, and each epoch's last step."""
        ends = {e * self.steps_per_epoch for e in range(1, self.epochs + 1)}
        return sorted(set(range(self.log_every, self.total + 1, self.log_every)) | ends)


def prepare_project(target: Path) -> PipelineRepo:
    """A tiny-profile copy with fetch, split and augment done and committed."""
    repo = make_pipeline_repo(target)
    for name in STALE_METRICS:
        (repo.root / "metrics" / name).unlink(missing_ok=True)
    repo.dvc("repro", "augment")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "data stages done")
    return repo


def copy_project(prepared: PipelineRepo, target: Path) -> PipelineRepo:
    shutil.copytree(prepared.root, target, symlinks=True)
    return PipelineRepo(target)


def plan_of(repo: PipelineRepo) -> PlannedTraining:
    params = yaml.safe_load((repo.root / "params.yaml").read_text())
    train = params["train"]
    examples = sum(1 for _ in iterate_pairs(find_shards(repo.root / "data" / "augmented", "train")))
    return PlannedTraining(
        epochs=train["epochs"],
        steps_per_epoch=examples // train["batch_size"],
        log_every=train["log_every_steps"],
        checkpoint_every=train["checkpoint_every_steps"],
    )


def stage_env(repo: PipelineRepo, **extra: str) -> dict[str, str]:
    """The copy's environment, without any fault the caller did not ask for."""
    env = repo.env()
    for name in TEST_HOOKS:
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(STAGE_HOOKS), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_dvc(
    repo: PipelineRepo, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(Path(sys.executable).with_name("dvc")), *args],
        cwd=repo.root,
        env=env or stage_env(repo),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_train_stage(
    repo: PipelineRepo, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess:
    """``python stages/train.py`` in the copy, as DVC runs it."""
    return subprocess.run(
        [sys.executable, "stages/train.py"],
        cwd=repo.root,
        env=env or stage_env(repo),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def explain(result: subprocess.CompletedProcess) -> str:
    return (
        f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-6000:]}"
    )


def history_steps(root: Path) -> list[int]:
    with open(root / "metrics" / "train_history.csv", newline="") as fh:
        return [int(row["step"]) for row in csv.DictReader(fh)]


def checkpoint_steps(root: Path) -> list[int]:
    folder = root / "models" / "checkpoints"
    return sorted(int(p.name[len("ckpt-") : -len(".index")]) for p in folder.glob("ckpt-*.index"))


def latest_checkpoint_step(root: Path) -> int:
    return json.loads((root / "models" / "checkpoints" / "latest.json").read_text())["step"]


def temporary_files(root: Path) -> list[str]:
    """Paths under the project (outside .git and .dvc) whose names only temporaries have."""
    found = []
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if not (Path(folder) == root and f in (".git", ".dvc"))]
        for name in folders + files:
            if TEMPORARY_NAME.search(name):
                found.append(str((Path(folder) / name).relative_to(root)))
    return sorted(found)


def tracking_uri(repo: PipelineRepo) -> str:
    return f"sqlite:///{repo.root / 'mlflow.db'}"


def image_steps(client, run_id: str, key: str = "validation") -> list[int]:
    """Steps of the full-size images logged under ``key`` (MLflow keeps them as artifacts)."""
    pattern = re.compile(rf"{re.escape(key)}[+%]step[+%](\d+)[+%].*\.png")
    return sorted(
        int(m.group(1))
        for f in client.list_artifacts(run_id, "images")
        if (m := pattern.fullmatch(f.path.rsplit("/", 1)[-1]))
    )


def metric_steps(client, run_id: str, key: str) -> list[int]:
    return sorted(int(m.step) for m in client.get_metric_history(run_id, key))


def assert_run_history_complete(client, run, plan: PlannedTraining) -> None:
    """Each step metric at every logged step once, each epoch metric and figure at every epoch once."""
    run_id = run.info.run_id
    epochs = list(range(1, plan.epochs + 1))
    for key in STEP_METRICS:
        assert metric_steps(client, run_id, key) == plan.logged_steps, key
    for key in EPOCH_METRICS:
        assert metric_steps(client, run_id, key) == epochs, key
    assert image_steps(client, run_id) == epochs


def assert_training_complete(repo: PipelineRepo, plan: PlannedTraining, resumed_from: int | None = None):
    """Nothing lost: planned steps, loadable generator, full history, one complete MLflow run.

    Returns the MLflow run.
    """
    from mlflow import MlflowClient

    from sketch2color.inference.backends import load_keras_generator as load_generator

    root = repo.root
    summary = json.loads((root / "metrics" / "train.json").read_text())
    assert summary["steps"] == plan.total
    if resumed_from is not None:
        assert summary["resumed_from_step"] == resumed_from
    assert history_steps(root) == plan.logged_steps
    assert latest_checkpoint_step(root) == plan.total
    generator = load_generator(root / "models" / "generator.keras")
    size = yaml.safe_load((root / "params.yaml").read_text())["data"]["image_size"]
    assert generator.output_shape == (None, size, size, 3)

    client = MlflowClient(tracking_uri(repo))
    experiment = client.get_experiment_by_name("sketch2color")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1, [r.info.run_id for r in runs]  # one training = one run, however often killed
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert_run_history_complete(client, run, plan)
    record = json.loads((root / "models" / "mlflow_run.json").read_text())
    assert record["run_id"] == run.info.run_id
    assert record["keras_model_uri"].startswith("models:/")  # the network; export registers the colorizer
    assert temporary_files(root) == []
    return run
