"""SIGKILL of the train stage at three points, each time `dvc repro` again: nothing lost (issue 6, section 1).

One training of the prepared tiny project (2 epochs of 10 steps, a log row
every 2 steps, a checkpoint every 3 steps and at each epoch's end, 3 kept) is
killed four times, at the three points the issue names, and resumed by
rerunning the real ``dvc repro`` each time:

1. mid-epoch, at step 5;
2. during MLflow logging: at step 10, which ends epoch 1, after that step's
   metrics reached MLflow but before the epoch's metrics and validation
   figure did (the rerun resumes from ckpt-3);
3. during a checkpoint write: after TensorFlow wrote ckpt-12 and before
   ``latest.json`` named it (the rerun resumes from ckpt-9, and redoes the end
   of epoch 1 without logging anything twice);
4. during the checkpoint write at step 20, the end of epoch 2 (the rerun
   resumes from ckpt-12, which latest.json never named); then ckpt-20's files
   are torn the way a kill inside TensorFlow's own write (or a lost disk
   write) leaves them, and hidden temporaries are planted the way a kill
   inside an atomic write leaves them;
5. then the whole pipeline, ``dvc repro``: the torn ckpt-20 is detected, the
   training resumes from ckpt-18 and redoes the end of epoch 2, whose metrics
   and figure MLflow already has; evaluate and export follow.

The stage's own process SIGKILLs itself through the test-only hook
``SKETCH2COLOR_TEST_KILL_AT`` (:mod:`fault_hooks`), because
a timer outside cannot hit windows of milliseconds. Chaining the kills in one
training keeps the suite at five stage runs instead of eight; each rerun
checks where it resumed from and that MLflow holds no step twice so far. The
end state is checked by :func:`training_runs.assert_training_complete`.
"""

from __future__ import annotations

import re

import pytest
from mlflow import MlflowClient

from .fault_hooks import KILL_AT_ENV
from .training_runs import (
    assert_training_complete,
    checkpoint_steps,
    copy_project,
    explain,
    image_steps,
    latest_checkpoint_step,
    metric_steps,
    plan_of,
    run_dvc,
    stage_env,
    temporary_files,
    tracking_uri,
)

pytestmark = pytest.mark.slow


def _repro_train_killed_at(repo, point: str, step: int):
    """`dvc repro train` whose train stage SIGKILLs itself at ``point`` of ``step``."""
    killed = run_dvc(repo, "repro", "train", env=stage_env(repo, **{KILL_AT_ENV: f"{point}:{step}"}))
    assert killed.returncode != 0, explain(killed)
    # DVC reports a SIGKILL as -9 when it ran the command itself, and as 137 when
    # a shell ran it and outlived it (the shell then prints "Killed").
    assert re.search(r"exited with (-9|137)\b", killed.stderr), explain(killed)
    assert not (repo.root / "models" / "generator.keras").exists()
    return killed


def _logged_so_far(repo) -> tuple[list[int], list[int], list[int]]:
    """(step-metric steps, epoch-metric steps, figure steps) of the one MLflow run so far."""
    client = MlflowClient(tracking_uri(repo))
    runs = client.search_runs([client.get_experiment_by_name("sketch2color").experiment_id])
    assert len(runs) == 1
    run_id = runs[0].info.run_id
    return (
        metric_steps(client, run_id, "gen_total"),
        metric_steps(client, run_id, "epoch_gen_total"),
        image_steps(client, run_id),
    )


def test_four_kills_in_one_training_each_resumed_by_dvc_repro_lose_nothing(
    prepared_project, tmp_path, new_mlflow_store
):
    repo = copy_project(prepared_project, tmp_path / "project")
    new_mlflow_store(repo.root)  # the project's store, empty; not this test's subject
    plan = plan_of(repo)
    assert (plan.steps_per_epoch, plan.epochs, plan.log_every, plan.checkpoint_every) == (10, 2, 2, 3)
    root = repo.root
    folder = root / "models" / "checkpoints"

    # 1. Mid-epoch.
    _repro_train_killed_at(repo, "step", 5)
    assert checkpoint_steps(root) == [3] and latest_checkpoint_step(root) == 3
    assert _logged_so_far(repo) == ([2, 4], [], [])

    # 2. During MLflow logging, between two log calls of step 10.
    second = _repro_train_killed_at(repo, "mlflow_log", 10)
    assert "resuming from ckpt-3" in second.stderr, explain(second)
    assert checkpoint_steps(root) == [3, 6, 9] and latest_checkpoint_step(root) == 9
    assert _logged_so_far(repo) == ([2, 4, 6, 8, 10], [], [])  # step 4 was not logged twice

    # 3. During a checkpoint write: TensorFlow wrote ckpt-12, latest.json still names ckpt-10.
    third = _repro_train_killed_at(repo, "checkpoint_write", 12)
    assert "resuming from ckpt-9" in third.stderr, explain(third)
    assert checkpoint_steps(root) == [9, 10, 12] and latest_checkpoint_step(root) == 10
    assert _logged_so_far(repo) == ([2, 4, 6, 8, 10, 12], [1], [1])  # step 10 once, epoch 1 once

    # 4. During the checkpoint write at step 20, the end of epoch 2, after its figure was logged.
    fourth = _repro_train_killed_at(repo, "checkpoint_write", 20)
    # ckpt-12 reads back whole (every tensor's checksum), so it is the last complete checkpoint
    # even though latest.json never named it.
    assert "resuming from ckpt-12" in fourth.stderr, explain(fourth)
    assert checkpoint_steps(root) == [15, 18, 20] and latest_checkpoint_step(root) == 18
    assert _logged_so_far(repo) == (plan.logged_steps, [1, 2], [1, 2])
    data = next(folder.glob("ckpt-20.data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])  # torn under a complete index
    (folder / "ckpt-20_temp").mkdir()  # a shard folder TensorFlow never merged
    (folder / "ckpt-20_temp" / "part-00000-of-00001.data-00000-of-00001").write_bytes(b"\0" * 100)
    leftovers = [  # what a SIGKILL inside an atomic write leaves: its temporary sibling
        root / "metrics" / ".train_history.csv.k1ll3dxx.tmp",
        folder / ".latest.json.k1ll3dxx.tmp",
        root / "models" / ".generator.4242.tmp.keras",
    ]
    for leftover in leftovers:
        leftover.write_bytes(b"half a file")

    # 5. The whole pipeline, as a user reruns it.
    final = run_dvc(repo, "repro")
    assert final.returncode == 0, explain(final)
    assert "ckpt-20 is torn or corrupt" in final.stderr, explain(final)
    assert "resuming from ckpt-18" in final.stderr, explain(final)
    # Steps 19-20 and the end of epoch 2 were trained again; MLflow got none of them twice.
    assert_training_complete(repo, plan, resumed_from=18)
    assert temporary_files(root) == []
    for stage in ("evaluate", "export"):
        assert f"Running stage '{stage}'" in final.stdout
    assert (root / "metrics" / "eval.json").exists()
    assert (root / "models" / "export" / "savedmodel").is_dir()
    status = run_dvc(repo, "status")
    assert status.returncode == 0 and "changed" not in status.stdout, explain(status)
