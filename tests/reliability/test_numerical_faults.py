"""NaN and infinite losses stop training, name the step, keep the last good checkpoint (issue 6, §6).

The faults are injected through the test-only hooks of the real train stage
(``python stages/train.py`` in a copy of the prepared tiny project: 2 epochs
of 10 steps, a checkpoint every 3 steps and at each epoch's end):

- ``SKETCH2COLOR_TEST_NAN_AT_STEP``: a NaN sketch batch, so every loss and
  every gradient of that step is NaN (the weights it updates are poisoned);
- ``SKETCH2COLOR_TEST_INF_AT_STEP``: infinite colour targets, so the L1
  term and the generator loss are ``inf``.

Either way the stage exits 1 with one ``error:`` line naming the step and
the checkpoint it kept, writes no generator and no diverged checkpoint, and
the next run resumes from that checkpoint. One training meets both faults in
turn (NaN at step 5, then inf at step 12 in the rerun), then a clean rerun
completes it with nothing lost.
"""

from __future__ import annotations

import pytest

from .fault_hooks import INF_AT_ENV, NAN_AT_ENV
from .training_runs import (
    assert_training_complete,
    checkpoint_steps,
    copy_project,
    explain,
    history_steps,
    latest_checkpoint_step,
    plan_of,
    run_train_stage,
    stage_env,
)

pytestmark = pytest.mark.slow  # three runs of the train stage in a pipeline copy


def _diverged_run(repo, hook: str, step: int) -> tuple[str, str]:
    """Run the stage with ``hook`` at ``step``; check it failed cleanly; return (error line, stderr)."""
    result = run_train_stage(repo, env=stage_env(repo, **{hook: str(step)}))
    assert result.returncode == 1, explain(result)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, explain(result)
    assert "Traceback" not in result.stderr, explain(result)
    assert not (repo.root / "models" / "generator.keras").exists()
    assert not (repo.root / "metrics" / "train.json").exists()
    return errors[0], result.stderr


def test_nan_and_inf_losses_stop_naming_the_step_and_reruns_resume_from_the_last_good_checkpoint(
    prepared_project, tmp_path, new_mlflow_store
):
    repo = copy_project(prepared_project, tmp_path / "project")
    new_mlflow_store(repo.root)  # the project's store, empty; not this test's subject
    plan = plan_of(repo)

    error, _ = _diverged_run(repo, NAN_AT_ENV, 5)
    assert "training diverged at step 5 (epoch 1)" in error
    assert "gen_total=nan" in error and "the last good checkpoint ckpt-3 is kept" in error
    assert checkpoint_steps(repo.root) == [3] and latest_checkpoint_step(repo.root) == 3
    assert history_steps(repo.root) == [2]  # the published history matches the kept checkpoint

    # A rerun with an infinite loss at step 12 resumes from ckpt-3 and stops there in turn.
    error, stderr = _diverged_run(repo, INF_AT_ENV, 12)
    assert "resuming from ckpt-3" in stderr
    assert "training diverged at step 12 (epoch 2)" in error
    assert "gen_total=inf" in error and "gen_l1=inf" in error
    assert "the last good checkpoint ckpt-10 is kept" in error
    # The save due at step 12 never happened: a diverged state is never written.
    assert checkpoint_steps(repo.root) == [6, 9, 10] and latest_checkpoint_step(repo.root) == 10
    assert history_steps(repo.root) == [2, 4, 6, 8, 10]

    rerun = run_train_stage(repo)
    assert rerun.returncode == 0, explain(rerun)
    assert "resuming from ckpt-10" in rerun.stderr
    # One MLflow run, reopened by each session; steps logged before a divergence are not
    # logged again, and nothing is missing.
    assert_training_complete(repo, plan, resumed_from=10)
