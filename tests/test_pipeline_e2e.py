"""End to end: real `dvc repro` and `dvc exp run` of the whole pipeline on the tiny profile.

Nothing is mocked: DVC runs the six stage scripts, TensorFlow trains, MLflow
writes a sqlite store inside the disposable project copy.

One `dvc repro` runs per session; each test gets its own copy of that project
(:class:`pipeline_repo.RepoSnapshot`), so a test may commit, edit params.yaml
or run experiments, and any test runs alone or in any order. A bad param is
tested in tests/reliability/test_bad_params.py, on the stage scripts themselves.
"""

import base64
import json
from typing import NamedTuple

import numpy as np
import pytest
from mlflow import MlflowClient

from bench.served_model import Server, free_port, mlflow_serve_command
from sketch2color.data.shards import find_shards, iterate_pairs

from pipeline_repo import PipelineRepo, RepoSnapshot, make_pipeline_repo

pytestmark = pytest.mark.slow

STAGES = ("fetch", "split", "augment", "train", "evaluate", "export", "headline")


def ran(output: str) -> set[str]:
    return {stage for stage in STAGES if f"Running stage '{stage}'" in output}


class FirstRepro(NamedTuple):
    snapshot: RepoSnapshot
    output: str


@pytest.fixture(scope="session")
def first_repro(tmp_path_factory) -> FirstRepro:
    """One full `dvc repro` of the tiny profile in a fresh clone, kept for the tests to copy."""
    repo = make_pipeline_repo(tmp_path_factory.mktemp("e2e") / "project")
    output = repo.dvc("repro").stdout
    return FirstRepro(RepoSnapshot(repo.root), output)


@pytest.fixture
def reproduced(first_repro, tmp_path) -> PipelineRepo:
    """This test's own copy of the reproduced project: files, git history, DVC cache, MLflow store."""
    return first_repro.snapshot.copy(tmp_path / "project")


def test_first_repro_runs_every_stage_and_writes_every_output(first_repro, reproduced):
    assert ran(first_repro.output) == set(STAGES), first_repro.output
    repo = reproduced
    root = repo.root

    assert len(sorted((root / "data" / "raw" / "train").glob("*.png"))) == 24
    manifest = json.loads((root / "data" / "split" / "manifest.json").read_text())
    assert sum(manifest["counts"].values()) == 24 and manifest["skipped"] == []
    augmented = list(iterate_pairs(find_shards(root / "data" / "augmented", "train")))
    assert len(augmented) == 2 * manifest["counts"]["train"]  # originals + 1 copy each
    assert augmented[0].sketch.shape == (32, 32, 3)

    train = json.loads((root / "metrics" / "train.json").read_text())
    assert train["steps"] == train["epochs"] * train["steps_per_epoch"] > 0
    history = (root / "metrics" / "train_history.csv").read_text().splitlines()
    assert history[0].startswith("step,") and len(history) > 2
    evaluation = json.loads((root / "metrics" / "eval.json").read_text())
    assert evaluation["test_images"] == manifest["counts"]["test"]
    assert {"model", "baseline_sketch", "baseline_mean_color"} <= set(evaluation)
    export = json.loads((root / "metrics" / "export.json").read_text())
    assert export["fastest"] in export["formats"]
    for name in (
        "generator.keras",
        "mlflow_run.json",
        "export/savedmodel/saved_model.pb",
        "export/generator_float32.tflite",
    ):
        assert (root / "models" / name).exists(), name
    for name in ("augment_preview.png", "validation.png", "samples.png"):
        assert (root / "metrics" / name).stat().st_size > 0, name

    record = json.loads((root / "models" / "mlflow_run.json").read_text())
    client = MlflowClient(f"sqlite:///{root / 'mlflow.db'}")
    run = client.get_run(record["run_id"])
    assert run.data.params["train.lambda_l1"] == "100.0"
    assert len(client.get_metric_history(run.info.run_id, "gen_l1")) > 0
    assert "eval_model_ssim_mean" in run.data.metrics
    versions = client.search_model_versions("name='sketch2color-generator'")
    assert [v.run_id for v in versions] == [run.info.run_id]


def _invoke(server: Server, body: dict) -> tuple[int, dict]:
    status, answer = server.invoke(body, timeout=120)
    return status, json.loads(answer)


def test_the_registered_model_serves_line_faithful_pictures(reproduced, tmp_path):
    """A real `mlflow models serve` of the registered version on a loopback port: a picture in, one out."""
    from sketch2color.image_io import decode_rgb, encode_rgb
    from sketch2color.inference.backends import KerasBackend
    from sketch2color.inference.colorizer import color_sketches

    repo = reproduced
    sketch = np.full((60, 90, 3), 255, np.uint8)  # not square, not the model's size
    sketch[10:13, 5:85] = sketch[40:43, 5:85] = sketch[10:43, 44:47] = 0
    port = free_port()
    command = mlflow_serve_command("models:/sketch2color-generator/latest", port, workers=1)
    with Server(command, port, tmp_path, repo.env()) as server:
        image = base64.b64encode(encode_rgb(sketch, ".png")).decode()
        status, answer = _invoke(server, {"dataframe_split": {"columns": ["image"], "data": [[image]]}})
        assert status == 200, answer
        served = decode_rgb(base64.b64decode(answer["predictions"][0]["image"]))
        status, answer = _invoke(server, {"inputs": {"image": [image]}, "params": {"output": "raw"}})
        assert status == 200, answer
        served_raw = decode_rgb(base64.b64decode(answer["predictions"][0]["image"]))
        status, answer = _invoke(server, {"inputs": {"image": ["not a picture"]}})
        assert status == 400 and "row 0" in answer["message"], answer

    assert served.shape == served_raw.shape == sketch.shape  # the sketch's own size
    lines = sketch.min(axis=-1) == 0
    assert (served[lines] == 0).all() and not (served_raw[lines] == 0).all()
    # The colours are those colorize paints with the same model, through the same layer.
    local = color_sketches(KerasBackend(repo.root / "models" / "generator.keras", "eval"), [sketch])[0]
    assert np.abs(served.astype(int) - local.picture("line_faithful").astype(int)).max() <= 1
    assert np.abs(served_raw.astype(int) - local.picture("raw").astype(int)).max() <= 1


def test_second_repro_does_nothing(reproduced):
    again = reproduced.dvc("repro")
    assert ran(again.stdout) == set(), again.stdout


def test_exp_run_with_another_lambda_reruns_from_train_and_shows_beside_the_baseline(reproduced):
    repo = reproduced
    repo.git("add", "-A")
    repo.git("commit", "-qm", "baseline results")
    result = repo.dvc("exp", "run", "-n", "l1-50", "-S", "train.lambda_l1=50")
    assert ran(result.stdout) == {"train", "evaluate", "export", "headline"}, result.stdout

    shown = json.loads(repo.dvc("exp", "show", "--json").stdout)
    text = json.dumps(shown)
    assert "l1-50" in text and '"lambda_l1": 50' in text and '"lambda_l1": 100' in text
    # A person reads the comparison in a terminal: the headline scores and the changed param fit 200
    # columns (the changed dependencies' hashes, last, fold into DVC's "…").
    table = repo.dvc("exp", "show", "--only-changed", "--no-pager", COLUMNS="200").stdout.splitlines()
    header = next(line for line in table if "Experiment" in line).split()
    assert max(len(line) for line in table) <= 200, "\n".join(table)
    assert {"dE00", "ssim", "psnr", "img_per_s", "train.lambda_l1"} <= set(header), "\n".join(table)
    client = MlflowClient(f"sqlite:///{repo.root / 'mlflow.db'}")
    runs = client.search_runs(
        [client.get_experiment_by_name("sketch2color").experiment_id],
        order_by=["attributes.start_time ASC"],
    )
    assert [r.data.params["train.lambda_l1"] for r in runs] == ["100.0", "50.0"]
    assert runs[1].info.run_name == "l1-50"  # named after the DVC experiment
    versions = client.search_model_versions("name='sketch2color-generator'")
    assert sorted(int(v.version) for v in versions) == [1, 2]


def test_a_split_param_reruns_split_and_everything_after_it_but_not_fetch(reproduced):
    repo = reproduced
    params = repo.root / "params.yaml"
    params.write_text(params.read_text().replace("val_fraction: 0.1", "val_fraction: 0.2"))
    status = repo.dvc("status", "--json").stdout
    assert set(json.loads(status)) == {"split"}, status
    rerun = repo.dvc("repro")
    assert ran(rerun.stdout) == {"split", "augment", "train", "evaluate", "export", "headline"}, rerun.stdout
    manifest = json.loads((repo.root / "data" / "split" / "manifest.json").read_text())
    assert manifest["counts"]["val"] == 5


def test_openmoji_pairs_run_through_every_stage_with_their_attribution(tmp_path):
    """`dvc repro` of a few dozen OpenMoji emoji at 32 px: real line art, every stage, held out by drawing."""
    repo = make_pipeline_repo(tmp_path / "project")
    params = (repo.root / "params.yaml").read_text()
    params = params.replace("  source: synthetic ", "  source: openmoji  ", 1)
    params = params.replace("    limit: null ", "    limit: 48 ", 1)
    params = params.replace("    size: 512 ", "    size: 64 ", 1)  # rendered halves; the model is 32 px
    repo.set_params(params)
    result = repo.dvc("repro")
    assert ran(result.stdout) == set(STAGES), result.stdout

    root = repo.root
    report = json.loads((root / "data" / "raw" / "fetch_report.json").read_text())
    assert report["source"] == "openmoji" and report["attribution"]["license"] == "CC BY-SA 4.0"
    manifest = json.loads((root / "data" / "split" / "manifest.json").read_text())
    assert manifest["data_source"]["attribution"]["name"] == "OpenMoji"
    assert 30 <= sum(manifest["counts"].values()) <= 48 and manifest["counts"]["test"] > 0
    groups = json.loads((root / "data" / "raw" / "pair_groups.json").read_text())
    splits = {
        pair.name: split
        for split in ("train", "val", "test")
        for pair in iterate_pairs(find_shards(root / "data" / "split", split))
    }
    for group in set(groups.values()):
        assert len({splits[name] for name, g in groups.items() if g == group and name in splits}) <= 1

    evaluation = json.loads((root / "metrics" / "eval.json").read_text())
    assert evaluation["full_resolution"]["sizes"] == ["64x64"]  # the raw halves, not the 32 px model
    assert evaluation["full_resolution"]["line_faithful"]["line_recall"]["mean"] > 0.99
    record = json.loads((root / "models" / "mlflow_run.json").read_text())
    tags = MlflowClient(f"sqlite:///{root / 'mlflow.db'}").get_run(record["run_id"]).data.tags
    assert tags["data.source"] == "openmoji"
    assert tags["data.license"] == "CC BY-SA 4.0" and "OpenMoji" in tags["data.attribution"]
