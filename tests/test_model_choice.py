"""Colour from any folder: --model, $SKETCH2COLOR_MODEL, the user default, the project, a registered model.

The registered model is logged and registered by the export stage's own code
into a real sqlite MLflow store, and read back from an empty folder outside
any project, as an artist would run ``sketch2color colorize``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch2color.cli import main
from sketch2color.inference.errors import ModelLoadError, NoModelFound
from sketch2color.model_choice import choose_model, find_model_source, read_user_config
from sketch2color.paths import ProjectPaths

from helpers import mlflow_store_with_run
from tiny_generators import RED, save_identity, save_red

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    return {"red": save_red(folder / "red.keras"), "identity": save_identity(folder / "identity.keras")}


@pytest.fixture
def art_folder(tmp_path, monkeypatch) -> Path:
    """An artist's folder, outside any project, holding one sketch; the working directory."""
    folder = tmp_path / "my art"
    folder.mkdir()
    image = np.full((40, 60, 3), 255, np.uint8)
    image[10:12, 5:55] = 0
    Image.fromarray(image).save(folder / "cat.png")
    monkeypatch.chdir(folder)
    return folder


def config_file() -> Path:
    return Path(os.environ["SKETCH2COLOR_CONFIG"])


def colorize_to(out: str, *extra: str) -> int:
    return main(["colorize", "cat.png", "-o", out, "--output", "raw", *extra])


def is_red(path: Path) -> bool:
    return bool((np.asarray(Image.open(path)) == RED).all())


def test_with_no_model_anywhere_the_error_names_each_place_and_how_to_set_one(art_folder, capsys):
    assert colorize_to("out.png") == 1
    error = capsys.readouterr().err
    for place in ("--model", "$SKETCH2COLOR_MODEL", str(config_file()), str(art_folder)):
        assert place in error
    assert "--set-default" in error and "models:/" in error
    assert not Path("out.png").exists()


def test_the_places_are_asked_in_order_and_the_first_that_names_a_model_decides(
    art_folder, models, monkeypatch, capsys
):
    assert main(["model", "--set-default", str(models["identity"])]) == 0
    assert read_user_config(config_file()).model == str(models["identity"])
    assert colorize_to("from_default.png") == 0
    assert not is_red(art_folder / "from_default.png")  # the identity model: the sketch itself

    monkeypatch.setenv("SKETCH2COLOR_MODEL", str(models["red"]))
    assert colorize_to("from_env.png") == 0 and is_red(art_folder / "from_env.png")
    assert "SKETCH2COLOR_MODEL" in capsys.readouterr().err  # the note says where the model came from

    assert colorize_to("explicit.png", "--model", str(models["identity"])) == 0
    assert not is_red(art_folder / "explicit.png")

    monkeypatch.setenv("SKETCH2COLOR_MODEL", str(art_folder / "missing.keras"))
    assert colorize_to("broken.png") == 1  # a named model that is not there is an error, no fall back
    assert "missing.keras" in capsys.readouterr().err and not Path("broken.png").exists()

    monkeypatch.delenv("SKETCH2COLOR_MODEL")
    assert main(["model", "--clear-default"]) == 0
    source, looked = find_model_source(None)
    assert source is None and any("no model = ..." in line for line in looked)


def test_a_relative_default_is_kept_as_an_absolute_path(art_folder, models):
    shutil.copy(models["red"], art_folder / "mine.keras")
    assert main(["model", "--set-default", "mine.keras"]) == 0
    assert read_user_config(config_file()).model == str(art_folder / "mine.keras")
    assert main(["model", "--set-default", "nothing-here.keras"]) == 1


def test_a_bad_user_config_is_named_with_its_key(art_folder, capsys):
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text('modle = "x.keras"\n')
    assert colorize_to("out.png") == 1
    error = capsys.readouterr().err
    assert str(config_file()) in error and "modle" in error and "model, tracking_uri" in error
    config_file().write_text("model = [\n")
    assert colorize_to("out.png") == 1
    assert "not valid TOML" in capsys.readouterr().err
    config_file().write_text("model = 3\n")
    assert colorize_to("out.png") == 1
    assert "model" in capsys.readouterr().err


def test_a_folder_can_be_an_export_folder_a_project_or_an_mlflow_model(tmp_path, models):
    notes: list[str] = []
    nowhere = ProjectPaths(tmp_path / "nowhere")
    project = ProjectPaths(tmp_path / "project")
    project.models.mkdir(parents=True)
    shutil.copy(models["red"], project.generator)
    assert choose_model(str(project.root), nowhere, None, notes.append).path == project.generator

    export = tmp_path / "copied-export"
    export.mkdir()
    shutil.copy(models["red"], export / ProjectPaths.GENERATOR)
    assert choose_model(str(export), nowhere, None, notes.append).format == "keras"

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelLoadError, match="no model in it"):
        choose_model(str(empty), nowhere, None, notes.append)
    with pytest.raises(NoModelFound, match="no model found"):
        choose_model(None, nowhere, None, notes.append)


@pytest.fixture(scope="module")
def registry(tmp_path_factory, models, new_mlflow_store) -> str:
    """A sqlite MLflow store where export's own code registered the red model as the colorizer."""
    from sketch2color.export.registration import log_and_register

    root = tmp_path_factory.mktemp("store")
    # A new store's Default experiment, where MLflow logs the model, keeps its files in ./mlruns.
    with contextlib.chdir(root):
        uri, _, run_id = mlflow_store_with_run(new_mlflow_store(root), "registered")
        log_and_register(run_id, models["red"], "eval", "sketch2color-generator", uri)
    return uri


def test_a_registered_model_colours_from_an_empty_folder_outside_the_project(
    art_folder, registry, monkeypatch, capsys
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry)
    assert colorize_to("cat_color.png", "--model", "models:/sketch2color-generator/latest") == 0
    err = capsys.readouterr().err
    assert "version 1 of sketch2color-generator" in err and is_red(art_folder / "cat_color.png")
    assert sorted(p.name for p in art_folder.iterdir()) == ["cat.png", "cat_color.png"]  # no mlruns, no db

    # The version's files are kept in the user's cache; the pinned version reads them from there.
    cached = list(Path(os.environ["XDG_CACHE_HOME"]).rglob("*.keras"))
    assert len(cached) == 1
    assert colorize_to("again.png", "--model", "models:/sketch2color-generator/1") == 0
    assert list(Path(os.environ["XDG_CACHE_HOME"]).rglob("*.keras")) == cached

    assert colorize_to("none.png", "--model", "models:/sketch2color-generator/7") == 1
    assert "models:/sketch2color-generator/7" in capsys.readouterr().err
    assert colorize_to("none.png", "--model", "models:/no-such-model/latest") == 1
    assert "no-such-model" in capsys.readouterr().err

    # The downloaded MLflow model folder itself is a model too.
    folder = cached[0].parent.parent
    assert colorize_to("from_folder.png", "--model", str(folder)) == 0 and is_red(
        art_folder / "from_folder.png"
    )


def test_a_registered_model_needs_a_store_that_exists(art_folder, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert colorize_to("out.png", "--model", "models:/sketch2color-generator/latest") == 1
    assert "MLFLOW_TRACKING_URI" in capsys.readouterr().err
    missing = art_folder / "elsewhere" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")
    assert colorize_to("out.png", "--model", "models:/sketch2color-generator/latest") == 1
    assert "does not exist" in capsys.readouterr().err and not missing.exists()


def test_the_user_config_can_name_the_store_for_a_registered_default(art_folder, registry, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config_file().parent.mkdir(parents=True, exist_ok=True)
    config_file().write_text(
        f'model = "models:/sketch2color-generator/latest"\ntracking_uri = "{registry}"\n'
    )
    assert colorize_to("cat_color.png") == 0 and is_red(art_folder / "cat_color.png")


def test_an_mlflow_model_folder_whose_artifacts_point_outside_it_is_refused(tmp_path, models):
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(models["red"], tmp_path / "outside.keras")
    (folder / "MLmodel").write_text(
        "flavors:\n  python_function:\n    artifacts:\n      generator:\n        path: ../outside.keras\n"
    )
    with pytest.raises(ModelLoadError, match="outside the model folder"):
        choose_model(str(folder), ProjectPaths(tmp_path), None, print)
    (folder / "MLmodel").write_text("flavors:\n  python_function:\n    artifacts: {}\n")
    with pytest.raises(ModelLoadError, match="not the sketch2color colorizer"):
        choose_model(str(folder), ProjectPaths(tmp_path), None, print)
    (folder / "MLmodel").write_text(": not yaml [")
    with pytest.raises(ModelLoadError, match="not a readable MLflow model"):
        choose_model(str(folder), ProjectPaths(tmp_path), None, print)
