"""MLflow tracking against real stores: a temporary sqlite file, and a real server.

Everything is read back with MlflowClient, the way the MLflow UI sees it.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import mlflow
from mlflow import MlflowClient

from bench.served_model import free_port
from sketch2color.config import Params, params_from_dict
from sketch2color.image_io import decode_rgb, encode_rgba
from sketch2color.inference.backends import KerasBackend
from sketch2color.inference.colorizer import color_sketches
from sketch2color.paths import ProjectPaths
from sketch2color.serving import ServingLimits, encode_png
from sketch2color.tracking import (
    RunRecord,
    TrackingUnavailable,
    TrainingRun,
    check_reachable,
    resolve_tracking_uri,
)
from sketch2color.tracking.identity import params_hash
from sketch2color.tracking.store import is_database_locked, retry_when_locked
from sketch2color.training.validation_figure import render_validation_figure

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = "test-sketch2color"
MODEL_NAME = "test-generator"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def isolated_mlflow_state():
    """Restore the environment (MLflow writes MLFLOW_TRACKING_URI and our HTTP
    defaults into it) and end any run a failing test left active."""
    saved = dict(os.environ)
    for name in (
        "DVC_ROOT",
        "DVC_EXP_NAME",
        "DVC_EXP_BASELINE_REV",
        "MLFLOW_RUN_ID",
        "MLFLOW_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_ID",
    ):
        os.environ.pop(name, None)
    yield
    while mlflow.active_run() is not None:
        try:
            mlflow.end_run()
        except Exception:  # noqa: BLE001 - a test's leftover run must not fail the next test
            break
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def sqlite_store(tmp_path: Path, new_mlflow_store) -> str:
    """An empty sqlite store, MLFLOW_TRACKING_URI names it."""
    uri = new_mlflow_store(tmp_path / "store")
    assert uri.startswith("sqlite:////")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    return uri


@pytest.fixture
def paths(tmp_path: Path) -> ProjectPaths:
    root = tmp_path / "project"
    root.mkdir()
    return ProjectPaths(root)


def make_params(**train: object) -> Params:
    return params_from_dict(
        {
            "train": {"experiment_name": EXPERIMENT, "lambda_l1": 100.0, **train},
            "export": {"registered_model_name": MODEL_NAME},
        }
    )


def tiny_generator(size: int = 32):
    import keras

    inputs = keras.Input((size, size, 3))
    outputs = keras.layers.Conv2D(3, 3, padding="same", activation="tanh")(inputs)
    return keras.Model(inputs, outputs, name="tiny_generator")


def picture(seed: int, size: int = 24) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def metric_steps(client: MlflowClient, run_id: str, key: str) -> list[int]:
    return sorted(m.step for m in client.get_metric_history(run_id, key))


# ---------------------------------------------------------------- the URI


def test_default_store_is_an_absolute_sqlite_file_at_the_project_root(paths):
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    assert resolve_tracking_uri(paths) == f"sqlite:///{paths.root}/mlflow.db"
    assert resolve_tracking_uri(paths).startswith("sqlite:////")


def test_dvc_root_wins_so_queued_experiments_share_one_store(paths, tmp_path):
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["DVC_ROOT"] = str(tmp_path)
    assert resolve_tracking_uri(paths) == f"sqlite:///{tmp_path}/mlflow.db"


def test_env_uri_wins_and_relative_sqlite_is_anchored_at_the_root(paths):
    os.environ["MLFLOW_TRACKING_URI"] = "http://tracking.example:5000"
    assert resolve_tracking_uri(paths) == "http://tracking.example:5000"
    os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///stores/mlflow.db"
    assert resolve_tracking_uri(paths) == f"sqlite:///{paths.root}/stores/mlflow.db"


# ---------------------------------------------------------------- a whole run


def test_run_logs_everything_and_export_registers_one_version_per_training(sqlite_store, paths, tmp_path):
    from sketch2color.export.registration import log_and_register

    params = make_params()
    generator = tiny_generator()
    generator_file = tmp_path / "generator.keras"
    generator.save(generator_file)
    example = np.random.default_rng(0).uniform(-1, 1, (32, 32, 3)).astype(np.float32)
    os.environ["DVC_EXP_NAME"] = "exp-alpha"

    run = TrainingRun.start(params, paths, resume_run_id=None)
    run.log_metrics({"g_total": 3.0, "d_loss": 0.7}, step=0)
    run.log_metrics({"g_total": 2.0, "d_loss": 0.6}, step=20)
    run.log_image("validation", picture(1), step=1)
    run.log_image("validation", picture(2), step=2)
    keras_uri = run.log_generator(generator, example)
    run.finish()
    # Training registers nothing; the export stage registers the colorizer to the training's run.
    client = MlflowClient(sqlite_store)
    assert client.search_model_versions(f"name='{MODEL_NAME}'") == []
    _, version = log_and_register(run.run_id, generator_file, "eval", MODEL_NAME, sqlite_store)

    stored = client.get_run(run.run_id)
    assert stored.info.run_name == "exp-alpha"
    assert stored.info.status == "FINISHED"
    assert client.get_experiment(stored.info.experiment_id).name == EXPERIMENT
    tags = stored.data.tags
    assert tags["dvc_exp_name"] == "exp-alpha"
    assert tags["params_hash"] == params_hash(params)
    assert re.fullmatch(r"[0-9a-f]{64}", tags["params_hash"])
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", tags["git_commit"])

    flat = params.to_flat_dict()
    # Every params.yaml key, and the served model's request bounds: export logs them as the colorizer's
    # model_config, which MLflow also records as run params.
    assert set(stored.data.params) == set(flat) | set(ServingLimits().as_config())
    assert stored.data.params["train.lambda_l1"] == "100.0"
    assert stored.data.params["train.experiment_name"] == EXPERIMENT
    assert stored.data.params["fetch.path"] == "null"

    history = client.get_metric_history(run.run_id, "g_total")
    assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [(0, 3.0), (20, 2.0)]
    assert metric_steps(client, run.run_id, "d_loss") == [0, 20]

    images = [Path(a.path).name for a in client.list_artifacts(run.run_id, "images")]
    full_size = sorted(n for n in images if n.endswith(".png"))
    assert len(full_size) == 2
    assert full_size[0].startswith("validation+step+1+")
    assert full_size[1].startswith("validation+step+2+")
    # artifacts live next to the database, not under the test's cwd
    assert stored.info.artifact_uri.startswith((tmp_path / "store" / "mlruns").as_uri())

    assert version == 1
    model_version = client.get_model_version(MODEL_NAME, "1")
    assert model_version.run_id == run.run_id
    record = json.loads(paths.run_record.read_text())
    # The Keras flavour is the network itself ...
    assert record["keras_model_uri"] == keras_uri
    reloaded = mlflow.keras.load_model(keras_uri)
    np.testing.assert_allclose(reloaded(example[None]).numpy(), generator(example[None]).numpy(), atol=1e-6)
    # ... and the registered version is the colorizer: a picture in, a picture of its size out.
    colorizer = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/1")
    sketch = np.full((20, 45, 3), 255, np.uint8)
    out = colorizer.predict(pd.DataFrame({"image": [encode_png(sketch)]}), params={"output": "raw"})
    expected = color_sketches(KerasBackend(generator_file, "eval"), [sketch])[0].picture("raw")
    assert np.array_equal(decode_rgb(base64.b64decode(out["image"][0])), expected)

    assert record["run_id"] == run.run_id
    assert record["experiment_id"] == stored.info.experiment_id
    assert record["experiment_name"] == EXPERIMENT
    assert record["tracking_uri"] == sqlite_store
    assert record["run_name"] == "exp-alpha"
    assert RunRecord.read(paths.run_record) == run.record
    assert run.dropped == 0

    os.environ["DVC_EXP_NAME"] = "exp-beta"
    second = TrainingRun.start(params, paths, resume_run_id=None)
    assert second.run_id != run.run_id
    assert second.log_generator(generator, example) is not None
    second.finish()
    assert log_and_register(second.run_id, generator_file, "eval", MODEL_NAME, sqlite_store)[1] == 2
    assert client.get_model_version(MODEL_NAME, "2").run_id == second.run_id
    assert client.get_run(second.run_id).info.run_name == "exp-beta"


def test_resume_reopens_the_same_run_without_relogging_params(sqlite_store, paths):
    first = TrainingRun.start(make_params(), paths, resume_run_id=None)
    assert first.last_logged_step("g_total") == -1
    for step in range(3):
        first.log_metrics({"g_total": 1.0 / (step + 1)}, step=step)
    first.finish("FAILED")  # as if the stage had died

    # Different params on purpose: re-logging them would change nothing
    # silently, it would make MLflow refuse the changed value.
    resumed = TrainingRun.start(make_params(lambda_l1=50.0), paths, resume_run_id=first.run_id)
    assert resumed.run_id == first.run_id
    assert resumed.record.resumed is True
    assert resumed.last_logged_step("g_total") == 2
    assert resumed.last_logged_step("never_logged") == -1

    client = MlflowClient(sqlite_store)
    assert client.get_run(first.run_id).info.status == "RUNNING"
    resumed.log_metrics({"g_total": 0.2}, step=3)
    resumed.finish()

    stored = client.get_run(first.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params["train.lambda_l1"] == "100.0"
    assert metric_steps(client, first.run_id, "g_total") == [0, 1, 2, 3]
    assert json.loads(paths.run_record.read_text())["resumed"] is True


def test_resume_of_a_run_the_store_lacks_starts_a_new_one(sqlite_store, paths, caplog):
    missing = "0123456789abcdef0123456789abcdef"
    run = TrainingRun.start(make_params(), paths, resume_run_id=missing)
    # a wrong array is the caller's bug: it raises, unlike a tracking fault
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        run.log_image("validation", np.zeros((8, 8, 3), np.float32), step=0)
    run.finish()
    assert run.run_id != missing
    assert run.record.resumed is False
    assert missing in caplog.text
    assert len(MlflowClient(sqlite_store).get_run(run.run_id).data.params) > 0


# ---------------------------------------------------------------- faults


def test_closed_port_fails_fast_naming_the_uri(paths):
    uri = f"http://127.0.0.1:{free_port()}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    with pytest.raises(TrackingUnavailable) as raised:
        TrainingRun.start(make_params(), paths, resume_run_id=None)
    assert uri in str(raised.value)
    assert "does not answer" in str(raised.value)
    assert not paths.run_record.exists()


def test_sqlite_store_in_a_missing_folder_is_refused(tmp_path):
    uri = f"sqlite:///{tmp_path / 'nowhere' / 'mlflow.db'}"
    with pytest.raises(TrackingUnavailable, match="does not exist") as raised:
        check_reachable(uri)
    assert uri in str(raised.value)


def test_lock_errors_are_recognised_and_retried():
    import sqlite3

    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            try:
                raise sqlite3.OperationalError("database is locked")
            except sqlite3.OperationalError as exc:
                raise RuntimeError("store call failed") from exc  # wrapped, as MLflow does
        return "done"

    assert retry_when_locked(flaky, "testing", first_delay_s=0.01) == "done"
    assert len(calls) == 3
    assert not is_database_locked(ValueError("bad key"))
    with pytest.raises(ValueError):
        retry_when_locked(lambda: (_ for _ in ()).throw(ValueError("bad key")), "testing")


CONCURRENT_WRITER = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from sketch2color.config import params_from_dict
    from sketch2color.paths import ProjectPaths
    from sketch2color.tracking import TrainingRun

    go = Path(sys.argv[1])
    Path(sys.argv[2], "ready").touch()
    while not go.exists():
        time.sleep(0.01)
    params = params_from_dict({"train": {"experiment_name": "shared"}})
    run = TrainingRun.start(params, ProjectPaths(Path(sys.argv[2])), resume_run_id=None)
    for step in range(60):
        run.log_metrics({"g_total": float(step), "d_loss": 1.0}, step=step)
    run.finish()
    print(run.run_id, run.dropped)
""")


def test_parallel_experiments_share_one_fresh_sqlite_store(tmp_path):
    """Two training processes start at the same instant on a store that does not
    exist yet (table creation, experiment creation and metric writes all race)."""
    (tmp_path / "store").mkdir()
    sqlite_store = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = sqlite_store
    go = tmp_path / "go"
    workers = []
    for name in ("exp-a", "exp-b"):
        root = tmp_path / name
        root.mkdir()
        env = {**os.environ, "DVC_EXP_NAME": name, "TF_CPP_MIN_LOG_LEVEL": "2"}
        workers.append(
            subprocess.Popen(
                [sys.executable, "-c", CONCURRENT_WRITER, str(go), str(root)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 240
    while not all((tmp_path / name / "ready").exists() for name in ("exp-a", "exp-b")):
        assert all(w.poll() is None for w in workers), [w.communicate() for w in workers]
        assert time.monotonic() < deadline, "writers did not get ready"
        time.sleep(0.05)
    go.touch()  # both have imported MLflow: release them at the same instant
    results = [w.communicate(timeout=300) for w in workers]
    for worker, (_out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err
        assert "database is locked" not in err
    run_ids = {out.split()[0] for out, _ in results}
    assert [out.split()[1] for out, _ in results] == ["0", "0"]
    assert len(run_ids) == 2

    client = MlflowClient(sqlite_store)
    for run_id in run_ids:
        assert metric_steps(client, run_id, "g_total") == list(range(60))
        assert metric_steps(client, run_id, "d_loss") == list(range(60))
    assert len(client.search_experiments(filter_string="name = 'shared'")) == 1


def test_server_that_goes_away_mid_run_costs_warnings_not_the_training(mlflow_server, paths, caplog):
    url = mlflow_server.url
    os.environ["MLFLOW_TRACKING_URI"] = url
    run = TrainingRun.start(make_params(), paths, resume_run_id=None)
    run.log_metrics({"g_total": 1.0}, step=0)
    run.log_image("validation", picture(3), step=0)
    assert run.dropped == 0

    mlflow_server.stop()
    caplog.clear()
    run.log_metrics({"g_total": 0.5}, step=1)  # fails: warns, pauses
    run.log_metrics({"g_total": 0.4}, step=2)  # paused: dropped at once
    run.log_image("validation", picture(4), step=1)
    assert run.log_generator(tiny_generator(), np.zeros((32, 32, 3), np.float32)) is None
    run.finish()

    assert run.dropped >= 4
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(url in w and "g_total" in w for w in warnings)
    summary = warnings[-1]
    assert "not recorded" in summary and "g_total" in summary and "validation" in summary
    assert "generator" in summary

    # what reached the server before it died is in its store
    stored = MlflowClient(f"sqlite:///{mlflow_server.database}")
    assert metric_steps(stored, run.run_id, "g_total") == [0]


# ---------------------------------------------------------------- validation figure


def test_validation_figure_has_one_titled_row_per_example_and_shows_each_input():
    def solid(rgb: tuple[int, int, int], count: int) -> np.ndarray:
        return np.broadcast_to(np.array(rgb, np.uint8), (count, 16, 16, 3)).copy()

    red, green, blue = (230, 20, 20), (20, 230, 20), (20, 20, 230)
    one = render_validation_figure(solid(red, 1), solid(green, 1), solid(blue, 1), epoch=1)
    three = render_validation_figure(solid(red, 3), solid(green, 3), solid(blue, 3), epoch=7)
    assert one.dtype == np.uint8 and one.ndim == 3 and one.shape[2] == 3
    assert three.shape[1] == one.shape[1]
    assert three.shape[0] > 2 * one.shape[0]

    width = three.shape[1]
    for third, color in enumerate((red, green, blue)):
        strip = three[:, third * width // 3 : (third + 1) * width // 3].reshape(-1, 3)
        matches = {c: int(np.all(strip == c, axis=1).sum()) for c in (red, green, blue)}
        assert matches[color] > 1000
        assert all(n == 0 for c, n in matches.items() if c != color)

    # float inputs in [-1, 1] are shown as images, not as noise
    as_float = (solid(red, 1).astype(np.float32) / 127.5) - 1.0
    from_floats = render_validation_figure(as_float, solid(green, 1), solid(blue, 1), epoch=1)
    np.testing.assert_array_equal(from_floats, one)

    # the title text changes with the epoch
    assert not np.array_equal(
        one, render_validation_figure(solid(red, 1), solid(green, 1), solid(blue, 1), epoch=2)
    )


def test_validation_figure_rejects_mismatched_inputs():
    images = np.zeros((2, 16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match="same number"):
        render_validation_figure(images, images, images[:1], epoch=0)


def test_the_colorizer_of_a_hint_model_takes_an_optional_hints_column(sqlite_store, tmp_path):
    from sketch2color.export.registration import log_colorizer

    from tiny_generators import save_hint_echo

    model = save_hint_echo(tmp_path / "echo.keras")
    mlflow.set_tracking_uri(sqlite_store)
    experiment = MlflowClient(sqlite_store).create_experiment(
        "hints", artifact_location=(tmp_path / "a").as_uri()
    )
    with mlflow.start_run(experiment_id=experiment):
        info = log_colorizer(None, model, "eval")
    colorizer = mlflow.pyfunc.load_model(info.model_uri)
    sketch = np.full((40, 60, 3), 255, np.uint8)
    hints = np.zeros((40, 60, 4), np.uint8)
    hints[10:20, 10:30] = (20, 30, 220, 255)
    request = pd.DataFrame(
        {
            "image": [encode_png(sketch), encode_png(sketch)],
            "hints": [base64.b64encode(encode_rgba(hints)).decode(), None],
        }
    )
    answer = colorizer.predict(request, params={"output": "raw"})
    with_hints, without = (decode_rgb(base64.b64decode(text)) for text in answer["image"])
    assert with_hints.shape == without.shape == (40, 60, 3)
    assert with_hints[12:18, 14:26, 2].mean() > 150 and without.max() < 40  # blue where hinted, else black
    with pytest.raises(
        mlflow.exceptions.MlflowException, match="row 0, column 'hints': has no alpha channel"
    ):
        colorizer.predict(pd.DataFrame({"image": [encode_png(sketch)], "hints": [encode_png(sketch)]}))
