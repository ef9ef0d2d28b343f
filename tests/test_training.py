"""The training loop: it learns, resumes exactly, refuses to resume the wrong thing, stops on NaN.

The train stage's own process killed and rerun is tests/reliability/test_kills.py.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from reliability.fault_hooks import NAN_AT_ENV, EnvironmentFaults

from sketch2color.data.shards import find_shards, write_shards
from sketch2color.errors import ConfigError, Sketch2ColorError
from sketch2color.training.checkpoints import LATEST_FILE
from sketch2color.training.dataset import ShardSource
from sketch2color.training.hooks import NO_FAULTS
from sketch2color.training.loop import run_training
from sketch2color.training.plan import prepare_training
from sketch2color.training.precision import FLOAT32_POLICY, training_policy
from sketch2color.training.schedule import ConstantThenLinearDecay, learning_rate_schedule
from sketch2color.training.state import build_training_state
from sketch2color.training.step import make_train_step
from sketch2color.training.strategy import make_strategy

from tiny_training import SIZE, RecordingTracker, pair, tiny_params, tiny_train_params, write_tiny_project


def _train(paths, params, tracker=None, hooks=NO_FAULTS):
    tracker = tracker or RecordingTracker()
    plan = prepare_training(params, paths)
    return plan, run_training(plan, tracker, hooks), tracker


def _history(paths) -> list[dict[str, str]]:
    with open(paths.metrics / "train_history.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _checkpoint_steps(paths) -> list[int]:
    folder = paths.models / "checkpoints"
    return sorted(int(p.name[len("ckpt-") : -len(".index")]) for p in folder.glob("ckpt-*.index"))


# ---------------------------------------------------------------- learning


def test_overfitting_a_fixed_batch_halves_l1_within_150_steps():
    keras.utils.set_random_seed(0)
    params = tiny_params()
    sketches = tf.constant(np.stack([pair(i).sketch for i in range(4)]) / 127.5 - 1.0, tf.float32)
    colors = tf.constant(np.stack([pair(i).color for i in range(4)]) / 127.5 - 1.0, tf.float32)
    state = build_training_state(params.train, SIZE, learning_rate_schedule(2e-4, 1, 0, 150))
    step = make_train_step(state, params.train, tf.distribute.get_strategy())

    def l1() -> float:
        return float(tf.reduce_mean(tf.abs(state.generator(sketches, training=False) - colors)))

    start = l1()
    for _ in range(150):
        step((sketches, colors))
    assert l1() < start / 2


def test_a_mixed_precision_step_scales_both_losses_and_keeps_them_float32():
    params = tiny_params(mixed_precision=True)
    state = build_training_state(params.train, SIZE, learning_rate_schedule(2e-4, 1, 0, 10))
    assert isinstance(state.generator_optimizer, keras.optimizers.LossScaleOptimizer)
    assert isinstance(state.discriminator_optimizer, keras.optimizers.LossScaleOptimizer)
    step = make_train_step(state, params.train, tf.distribute.get_strategy())
    batch = tuple(tf.random.uniform((4, SIZE, SIZE, 3), -1, 1, seed=seed) for seed in (1, 2))
    for _ in range(2):
        metrics = step(batch)
    assert all(value.dtype == tf.float32 and np.isfinite(float(value)) for value in metrics.values())
    assert int(state.generator_optimizer.iterations.numpy()) == 2


# ---------------------------------------------------------------- schedule


def test_learning_rate_is_constant_then_falls_linearly_to_zero():
    schedule = ConstantThenLinearDecay(1e-3, total_steps=10, decay_steps=4)
    rates = [float(schedule(step)) for step in range(11)]
    np.testing.assert_allclose(rates[:7], [1e-3] * 7)
    np.testing.assert_allclose(rates[6:], [1e-3, 7.5e-4, 5e-4, 2.5e-4, 0.0], atol=1e-9)
    constant = learning_rate_schedule(2e-4, epochs=3, decay_epochs=0, steps_per_epoch=5)
    assert float(constant(14)) == pytest.approx(2e-4)
    again = ConstantThenLinearDecay.from_config(schedule.get_config())
    assert float(again(8)) == pytest.approx(5e-4)


def test_learning_rate_resumes_exactly_from_a_checkpoint(tmp_path):
    params = tiny_params()
    schedule = learning_rate_schedule(1e-3, epochs=2, decay_epochs=1, steps_per_epoch=3)
    batch = (tf.zeros((4, SIZE, SIZE, 3)), tf.zeros((4, SIZE, SIZE, 3)))
    first = build_training_state(params.train, SIZE, schedule)
    step = make_train_step(first, params.train, tf.distribute.get_strategy())
    for _ in range(4):
        step(batch)
    path = first.checkpoint().save(str(tmp_path / "ckpt"))

    second = build_training_state(params.train, SIZE, schedule)
    second.checkpoint().restore(path).assert_existing_objects_matched()
    for before, after in (
        (first.generator_optimizer, second.generator_optimizer),
        (first.discriminator_optimizer, second.discriminator_optimizer),
    ):
        assert int(after.iterations.numpy()) == 4
        assert float(after.learning_rate) == pytest.approx(float(before.learning_rate))
        assert float(after.learning_rate) == pytest.approx(1e-3 * (1 - 1 / 3))


# ---------------------------------------------------------------- data


def test_each_epoch_has_its_own_reproducible_order_and_resume_skips_done_batches(tmp_path):
    paths = write_tiny_project(tmp_path, train_pairs=12)

    def source() -> ShardSource:
        return ShardSource(find_shards(paths.augmented, "train"), SIZE, 4, 64, seed=3, cache=True)

    def colors(dataset) -> list[list[int]]:
        """Each batch as its pairs' mean colours (every test pair has its own)."""
        return [[round(float(m) * 1e4) for m in batch[1].numpy().mean(axis=(1, 2, 3))] for batch in dataset]

    first, other = source(), source()
    assert first.examples == 12 and first.steps_per_epoch == 3
    epoch_1 = colors(first.epoch(1))
    assert colors(other.epoch(1)) == epoch_1  # another process, same order
    assert colors(first.epoch(1, skip_batches=2)) == epoch_1[2:]
    assert colors(first.epoch(2)) != epoch_1


def test_the_cache_serves_later_epochs_without_reading_the_shards_again(tmp_path):
    paths = write_tiny_project(tmp_path, train_pairs=8)
    files = find_shards(paths.augmented, "train")
    source = ShardSource(files, SIZE, 4, 64, seed=3, cache=True)
    assert len(list(source.epoch(0))) == 2
    for path in files:
        path.unlink()
    assert len(list(source.epoch(1))) == 2


# ---------------------------------------------------------------- the loop


def test_training_runs_the_planned_steps_and_writes_its_metrics(tmp_path):
    paths = write_tiny_project(tmp_path, train_pairs=16)
    plan, outcome, tracker = _train(paths, tiny_params(epochs=2, log_every_steps=3))
    assert plan.steps_per_epoch == 4 and plan.total_steps == 8

    rows = _history(paths)
    assert [int(r["step"]) for r in rows] == [3, 4, 6, 8]  # every 3 steps and at each epoch's end
    assert [int(r["epoch"]) for r in rows] == [1, 1, 2, 2]
    assert float(rows[-1]["lr"]) < float(rows[0]["lr"])  # the last epoch decays
    summary = json.loads((paths.metrics / "train.json").read_text())
    assert summary["steps"] == 8 and summary["resumed_from_step"] == 0
    assert summary["precision"] == "float32"  # what the tiny params' mixed_precision: false means
    assert summary == outcome.summary
    assert all(np.isfinite(summary[k]) for k in ("gen_total", "gen_l1", "disc", "d_real", "d_fake"))

    assert tracker.steps_of("gen_total") == [3, 4, 6, 8]
    assert set(tracker.metrics[0][1]) == {
        "gen_total",
        "gen_gan",
        "gen_l1",
        "disc",
        "d_real",
        "d_fake",
        "images_per_s",
        "lr",
    }
    assert tracker.steps_of("epoch_gen_l1") == [1, 2]
    assert [(key, step) for key, _, step in tracker.images] == [("validation", 1), ("validation", 2)]
    assert (paths.metrics / "validation.png").read_bytes()[:4] == b"\x89PNG"

    assert _checkpoint_steps(paths) == [4, 6, 8]  # every 2 steps, keep 3
    latest = json.loads((paths.models / "checkpoints" / LATEST_FILE).read_text())
    assert latest["step"] == 8 and latest["epoch"] == 2 and latest["batch_in_epoch"] == 0

    generator = outcome.generator
    assert generator.dtype_policy.name == "float32"
    assert generator(outcome.example_sketch).shape == (1, SIZE, SIZE, 3)


def test_a_rerun_with_the_same_params_resumes_instead_of_starting_again(tmp_path):
    paths = write_tiny_project(tmp_path)
    _train(paths, tiny_params())
    plan, outcome, tracker = _train(paths, tiny_params(log_every_steps=4))  # operational change only
    assert plan.opened.resume is not None and plan.start_step == 8
    assert outcome.summary["steps"] == 8 and outcome.summary["resumed_from_step"] == 8
    assert tracker.metrics == []  # nothing left to train


def test_a_finished_training_rerun_trains_anew_instead_of_handing_back_its_weights(
    tmp_path, monkeypatch, new_mlflow_store
):
    """DVC reruns a finished train stage after a code or operational-param change, or -f."""
    from sketch2color.pipeline.train import run as train_stage

    monkeypatch.setenv("MLFLOW_TRACKING_URI", new_mlflow_store(tmp_path))
    paths = write_tiny_project(tmp_path)
    train_stage(tiny_params(epochs=1, mixed_precision="auto"), paths)
    first_run = json.loads((paths.models / "mlflow_run.json").read_text())["run_id"]
    from mlflow import MlflowClient

    tags = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}").get_run(first_run).data.tags
    assert tags["precision"] == training_policy("auto")  # what auto meant on this machine
    train_stage(tiny_params(epochs=1, mixed_precision="auto", log_every_steps=1), paths)
    summary = json.loads((paths.metrics / "train.json").read_text())
    assert summary["resumed_from_step"] == 0 and summary["steps"] == 4
    assert json.loads((paths.models / "mlflow_run.json").read_text())["run_id"] != first_run


def test_other_params_or_data_start_afresh_and_clear_old_checkpoints(tmp_path):
    paths = write_tiny_project(tmp_path)
    _train(paths, tiny_params(epochs=1))
    assert _checkpoint_steps(paths) == [2, 4]

    plan = prepare_training(tiny_params(epochs=1, lambda_l1=50.0), paths)
    assert plan.opened.resume is None and plan.start_step == 0
    assert "other params" in plan.opened.reason
    assert _checkpoint_steps(paths) == []
    _, outcome, _ = _train(paths, tiny_params(epochs=1, lambda_l1=50.0))
    assert outcome.summary["resumed_from_step"] == 0

    # Same params, different shard contents (same names and sizes): afresh too.
    write_shards([pair(500 + i) for i in range(16)], paths.augmented, "train", 2)
    plan = prepare_training(tiny_params(epochs=1, lambda_l1=50.0), paths)
    assert plan.opened.resume is None and "training data" in plan.opened.reason


def test_checkpoints_resume_only_under_the_precision_they_were_trained_in(tmp_path):
    """``auto`` is hashed as what it resolves to here: float32 checkpoints resume under it only
    where it means float32, and never under forced mixed precision (other optimiser state)."""
    paths = write_tiny_project(tmp_path)
    _train(paths, tiny_params(epochs=1, mixed_precision=False))
    auto = prepare_training(tiny_params(epochs=1, mixed_precision="auto"), paths)
    assert (auto.opened.resume is not None) == (training_policy("auto") == FLOAT32_POLICY)

    _train(paths, tiny_params(epochs=1, mixed_precision=False))
    forced = prepare_training(tiny_params(epochs=1, mixed_precision=True), paths)
    assert forced.opened.resume is None and "other params" in forced.opened.reason


def test_a_corrupt_latest_checkpoint_falls_back_to_the_previous_one(tmp_path):
    paths = write_tiny_project(tmp_path)
    _train(paths, tiny_params())
    folder = paths.models / "checkpoints"
    data = next(folder.glob("ckpt-8.data-*"))
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])  # torn mid-write

    plan = prepare_training(tiny_params(), paths)
    assert plan.start_step == 6
    assert _checkpoint_steps(paths) == [4, 6]  # the torn one is gone
    _, outcome, _ = _train(paths, tiny_params())
    assert outcome.summary["steps"] == 8 and outcome.summary["resumed_from_step"] == 6
    assert [int(r["step"]) for r in _history(paths)] == [2, 4, 6, 8]


def test_a_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    paths = write_tiny_project(tmp_path)
    params = tiny_params(epochs=2)
    with pytest.raises(Sketch2ColorError, match=r"step 5 \(epoch 2\).*ckpt-4 is kept"):
        _train(paths, params, hooks=EnvironmentFaults({NAN_AT_ENV: "5"}))
    assert _checkpoint_steps(paths) == [2, 4]
    assert json.loads((paths.models / "checkpoints" / LATEST_FILE).read_text())["step"] == 4
    assert [int(r["step"]) for r in _history(paths)] == [2, 4]
    assert not (paths.metrics / "train.json").exists()

    _, outcome, tracker = _train(paths, params)
    assert outcome.summary["resumed_from_step"] == 4 and outcome.summary["steps"] == 8
    assert tracker.steps_of("gen_total") == [6, 8]
    assert [int(r["step"]) for r in _history(paths)] == [2, 4, 6, 8]


# ---------------------------------------------------------------- strategies


def test_auto_strategy_on_one_cpu_is_the_default_and_multi_worker_needs_tf_config(monkeypatch):
    assert make_strategy("auto") is tf.distribute.get_strategy()
    assert make_strategy("one_device").num_replicas_in_sync == 1
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        make_strategy("multi_worker")


MIRRORED_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from pathlib import Path
    from sketch2color.config import params_from_dict
    from sketch2color.paths import ProjectPaths
    from sketch2color.training.callbacks import NullTracker
    from sketch2color.training.loop import run_training
    from sketch2color.training.plan import prepare_training
    params = params_from_dict(json.loads(sys.argv[2]))
    plan = prepare_training(params, ProjectPaths(Path(sys.argv[1])))
    outcome = run_training(plan, NullTracker())
    print("RESULT " + json.dumps({"strategy": type(plan.strategy).__name__, **outcome.summary}))
    """
)


@pytest.mark.slow  # a training process of its own
def test_a_real_mirrored_strategy_over_two_logical_cpus_trains(tmp_path):
    paths = write_tiny_project(tmp_path, train_pairs=16)
    params = tiny_train_params(strategy="mirrored", epochs=1, batch_size=4)
    result = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, str(paths.root), json.dumps(params)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.split("RESULT ", 1)[1])
    assert summary["strategy"] == "MirroredStrategy" and summary["replicas"] == 2
    assert summary["steps"] == 4
    assert all(np.isfinite(summary[k]) for k in ("gen_total", "gen_l1", "disc"))
    assert _checkpoint_steps(paths) == [2, 4]


MULTI_WORKER_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from sketch2color.training.strategy import is_chief, make_strategy
    strategy = make_strategy("multi_worker")  # first: before anything starts TensorFlow's runtime
    from sketch2color.config import params_from_dict
    from sketch2color.paths import ProjectPaths
    from sketch2color.training.callbacks import NullTracker
    from sketch2color.training.loop import run_training
    from sketch2color.training.plan import prepare_training
    params = params_from_dict(json.loads(sys.argv[2]))
    plan = prepare_training(params, ProjectPaths(Path(sys.argv[1])), strategy)
    outcome = run_training(plan, NullTracker())
    plan.store.close()
    print("RESULT " + json.dumps({"chief": is_chief(strategy), **outcome.summary}))
    """
)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.slow  # two training processes
def test_two_workers_train_in_lockstep_and_only_the_chief_writes(tmp_path):
    paths = write_tiny_project(tmp_path, train_pairs=16)
    params = json.dumps(tiny_train_params(strategy="multi_worker", epochs=1, batch_size=4))
    cluster = {"worker": [f"localhost:{port}" for port in _free_ports(2)]}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", MULTI_WORKER_SCRIPT, str(paths.root), params],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={
                **os.environ,
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
            },
        )
        for index in range(2)
    ]
    results = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=300)
            assert worker.returncode == 0, err[-3000:]
            results.append(json.loads(out.split("RESULT ", 1)[1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert [r["chief"] for r in results] == [True, False]
    assert all(r["replicas"] == 2 and r["steps"] == 4 for r in results)
    assert results[0]["gen_total"] == pytest.approx(results[1]["gen_total"])  # one model, two workers
    assert _checkpoint_steps(paths) == [2, 4]  # the chief's; the other worker's went to a temp folder
