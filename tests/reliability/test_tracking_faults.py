"""Tracking faults never cost training, and say what they cost (issue 6, section 4).

All three cases run the real pipeline in a copy of the prepared tiny project
(2 epochs of 10 steps, logged every 2):

- ``MLFLOW_TRACKING_URI`` at a closed port: ``python stages/train.py`` exits
  1 at once with an error naming the URI, before any weight is trained;
- a real ``mlflow server`` that is killed after the first logged step:
  training completes, its local metrics, checkpoints and generator are
  complete, and a warning lists what did not reach the server;
- two experiments queued with ``dvc exp run --queue`` and run in parallel by
  ``dvc queue start -j 2`` on the default sqlite store (``mlflow.db`` at the
  project root, which the queued runs find through ``DVC_ROOT``): both
  succeed, no "database is locked" in their logs, and the store holds two
  finished runs with complete metric histories and two registered versions.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from bench.served_model import free_port

from .training_runs import (
    assert_run_history_complete,
    checkpoint_steps,
    copy_project,
    explain,
    history_steps,
    latest_checkpoint_step,
    plan_of,
    run_dvc,
    run_train_stage,
    stage_env,
    temporary_files,
)

pytestmark = pytest.mark.slow  # each test runs the train stage (or DVC's queue) in a pipeline copy


# ---------------------------------------------------------------- closed port


def test_a_closed_port_stops_the_train_stage_with_an_error_naming_the_uri(prepared_project, tmp_path):
    repo = copy_project(prepared_project, tmp_path / "project")
    uri = f"http://127.0.0.1:{free_port()}"  # bound, then closed: nothing listens there
    result = run_train_stage(repo, env=stage_env(repo, MLFLOW_TRACKING_URI=uri))

    assert result.returncode == 1, explain(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr, explain(result)
    assert f"MLflow tracking server {uri} does not answer" in errors[0]
    assert "MLFLOW_TRACKING_URI" in errors[0]  # and says how to get going again
    # Failed before any work: no checkpoint, no model, no metrics.
    assert not (repo.root / "models" / "checkpoints").exists()
    assert not (repo.root / "models" / "generator.keras").exists()
    assert not (repo.root / "metrics" / "train.json").exists()


# ---------------------------------------------------------------- server stops mid-run


def _logged_steps(database: Path, key: str) -> list[int]:
    """Steps of ``key`` in a server's sqlite store, read directly (no MLflow client needed)."""
    if not database.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
        try:
            return sorted(row[0] for row in db.execute("SELECT step FROM metrics WHERE key = ?", (key,)))
        except sqlite3.OperationalError:  # tables not created yet
            return []


def test_the_server_stopping_mid_training_costs_a_warning_not_the_training(
    prepared_project, mlflow_server, tmp_path
):
    repo = copy_project(prepared_project, tmp_path / "project")
    plan = plan_of(repo)
    url, database = mlflow_server.url, mlflow_server.database
    training = subprocess.Popen(
        [sys.executable, "stages/train.py"],
        cwd=repo.root,
        env=stage_env(repo, MLFLOW_TRACKING_URI=url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not _logged_steps(database, "gen_total") and training.poll() is None:
            assert time.monotonic() < deadline, "no step reached the server"
            time.sleep(0.05)
        mlflow_server.stop()  # the server goes away after the first logged step
        assert training.poll() is None, "training ended before the server was stopped"
        reached = _logged_steps(database, "gen_total")
        _, stderr = training.communicate(timeout=600)
    finally:
        if training.poll() is None:
            training.kill()
            training.wait()

    assert training.returncode == 0, stderr[-6000:]
    # Local outputs are complete.
    summary = json.loads((repo.root / "metrics" / "train.json").read_text())
    assert summary["steps"] == plan.total
    assert history_steps(repo.root) == plan.logged_steps
    assert latest_checkpoint_step(repo.root) == plan.total and checkpoint_steps(repo.root)
    from sketch2color.inference.backends import load_keras_generator as load_generator

    assert load_generator(repo.root / "models" / "generator.keras").output_shape[1:] == (32, 32, 3)
    record = json.loads((repo.root / "models" / "mlflow_run.json").read_text())
    assert record["tracking_uri"] == url and record["keras_model_uri"] is None
    assert temporary_files(repo.root) == []

    # What reached the server is there; the warning names what did not.
    assert reached and reached == plan.logged_steps[: len(reached)] and reached[-1] < plan.total
    warnings = [line for line in stderr.splitlines() if "WARNING" in line and "MLflow" in line]
    assert any(url in line and "Training goes on" in line for line in warnings), stderr[-6000:]
    summary_line = next(line for line in warnings if "were not recorded" in line)
    assert record["run_id"] in summary_line and url in summary_line
    not_logged = re.search(r"metrics (\S+(?:, \S+)*) at (\d+) step\(s\) from (\d+) to (\d+)", summary_line)
    assert not_logged, summary_line
    assert "gen_total" in not_logged.group(1) and int(not_logged.group(4)) == plan.total
    assert "image 'validation'" in summary_line and "generator" in summary_line
    assert "Local metrics, checkpoints and models are complete" in summary_line


# ---------------------------------------------------------------- parallel queued experiments


def _queue_status(repo, env) -> dict[str, str]:
    """Experiment name -> status (Queued, Running, Success, Failed) from `dvc queue status`."""
    result = run_dvc(repo, "queue", "status", env=env)
    assert result.returncode == 0, explain(result)
    statuses = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 3 and words[-1] in ("Queued", "Running", "Success", "Failed"):
            statuses[words[1]] = words[-1]
    return statuses


def test_two_queued_experiments_in_parallel_share_the_sqlite_store(prepared_project, tmp_path):
    repo = copy_project(prepared_project, tmp_path / "project")
    plan = plan_of(repo)
    env = stage_env(repo)
    env.pop("MLFLOW_TRACKING_URI")  # the default store: mlflow.db at the project root (via DVC_ROOT)
    lambdas = (50.0, 10.0)
    for value in lambdas:
        queued = run_dvc(repo, "exp", "run", "--queue", "-S", f"train.lambda_l1={value:g}", env=env)
        assert queued.returncode == 0, explain(queued)

    started = run_dvc(repo, "queue", "start", "-j", "2", env=env)
    assert started.returncode == 0, explain(started)
    try:
        deadline = time.monotonic() + 540
        statuses = _queue_status(repo, env)
        while len(statuses) < 2 or any(s in ("Queued", "Running") for s in statuses.values()):
            assert time.monotonic() < deadline, f"the queue did not finish: {statuses}"
            time.sleep(3)
            statuses = _queue_status(repo, env)
    finally:
        run_dvc(repo, "queue", "stop", "--kill", env=env)

    logs = {name: run_dvc(repo, "queue", "logs", name, env=env).stdout for name in statuses}
    for name, log in logs.items():
        assert "database is locked" not in log.lower(), log[-6000:]
        assert statuses[name] == "Success", log[-6000:]
        assert "Running stage 'train'" in log and "Running stage 'export'" in log, log[-6000:]

    shown = run_dvc(repo, "exp", "show", "--json", env=env)
    assert shown.returncode == 0, explain(shown)
    experiments = _experiments_in(json.loads(shown.stdout))
    assert sorted(experiments) == sorted(statuses)
    assert sorted(e["params"]["train"]["lambda_l1"] for e in experiments.values()) == sorted(lambdas)
    for (
        experiment
    ) in experiments.values():  # train.json is a plain output: read from each experiment's commit
        train = json.loads(repo.git("show", f"{experiment['rev']}:metrics/train.json").stdout)
        assert train["steps"] == plan.total

    client = MlflowClient(f"sqlite:///{repo.root / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("sketch2color")
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(r.info.run_name for r in runs) == sorted(statuses)  # named after the DVC experiments
    first, second = sorted(runs, key=lambda r: r.info.start_time)
    assert second.info.start_time < first.info.end_time  # they did write to the store at the same time
    for run in runs:
        assert run.info.status == "FINISHED"
        expected_lambda = experiments[run.info.run_name]["params"]["train"]["lambda_l1"]
        assert float(run.data.params["train.lambda_l1"]) == expected_lambda
        assert_run_history_complete(client, run, plan)
        # evaluate and export logged into the same run
        assert {"eval_model_ssim_mean", "export_savedmodel_max_abs_diff"} <= set(run.data.metrics)
    versions = client.search_model_versions("name = 'sketch2color-generator'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    assert sorted(v.run_id for v in versions) == sorted(r.info.run_id for r in runs)


def _experiments_in(shown: list) -> dict[str, dict]:
    """Experiment name -> {params, rev} from `dvc exp show --json` (baseline rows left out)."""
    found = {}
    for baseline in shown:
        for experiment in baseline.get("experiments") or []:
            for rev in experiment.get("revs") or []:
                data = rev.get("data") or {}
                params = data.get("params", {}).get("params.yaml", {}).get("data", {})
                found[rev.get("name")] = {"params": params, "rev": data.get("rev") or rev.get("rev")}
    return found
