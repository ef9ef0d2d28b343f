"""Which model a user's tool colours with, from any folder: ``colorize`` and the GUI ask here.

The pipeline's stages know their model (``models/generator.keras``); an
artist running ``sketch2color colorize`` in their own art folder does not,
so the model is looked for in several places (:mod:`.places`) and may be a
file, a folder or a model registered in MLflow (:mod:`.registered`).

* :mod:`.places` - the places looked at, in order, and the user's default (a config file);
* :mod:`.registered` - a ``models:/`` or ``runs:/`` URI, or an MLflow model folder, read through MLflow;
* :func:`choose_model` - a loaded backend from whichever place named the model.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sketch2color.config import InferenceMode
from sketch2color.inference.backends import Backend
from sketch2color.inference.errors import ModelLoadError, NoModelFound, Report
from sketch2color.inference.selection import choose_backend, choose_exported
from sketch2color.model_choice.places import (
    MODEL_ENV,
    ModelSource,
    UserConfig,
    find_model_source,
    how_to_set_a_model,
    read_user_config,
    user_config_file,
    write_user_config,
)
from sketch2color.model_choice.registered import (
    MLMODEL,
    is_model_uri,
    open_model_folder,
    open_registered,
    tracking_uri_for_models,
)
from sketch2color.paths import ProjectPaths

__all__ = [
    "MODEL_ENV",
    "ModelSource",
    "UserConfig",
    "choose_model",
    "find_model_source",
    "open_spec",
    "read_user_config",
    "user_config_file",
    "write_user_config",
]


def choose_model(
    spec: str | Path | None,
    paths: ProjectPaths,
    mode: InferenceMode | None,
    report: Report,
    default_mode: InferenceMode = "eval",
    environ: Mapping[str, str] = os.environ,
) -> Backend:
    """The model named by the first place that names one (``spec`` is ``--model``), loaded."""
    source, looked = find_model_source(spec, environ)
    if source is not None:
        if source.origin != "--model":
            report(f"note: model from {source.origin}: {source.spec}")
        return open_spec(source.spec, paths, mode, report, default_mode, environ)
    try:
        return choose_backend(None, paths, mode, report, default_mode)
    except NoModelFound:  # the formats that were there and failed were reported as they failed
        project = f"the project folder {paths.root}: no usable models/export/ or models/generator.keras"
        places = "; ".join([*looked, project])
        raise NoModelFound(
            f"no model found. Looked at {places}. To use one, {how_to_set_a_model(environ)}"
        ) from None


def open_spec(
    spec: str,
    paths: ProjectPaths,
    mode: InferenceMode | None,
    report: Report,
    default_mode: InferenceMode = "eval",
    environ: Mapping[str, str] = os.environ,
) -> Backend:
    """A model named by a path (file or folder) or a registered model URI."""
    if is_model_uri(spec):
        configured = read_user_config(user_config_file(environ)).tracking_uri
        return open_registered(spec, tracking_uri_for_models(paths, configured, environ), mode, report)
    path = Path(spec).expanduser()
    if not path.is_dir():
        return choose_backend(path, paths, mode, report, default_mode)
    if (path / "saved_model.pb").is_file():
        return choose_backend(path, paths, mode, report, default_mode)
    if (path / MLMODEL).is_file():
        return open_model_folder(path, mode)
    if (path / ProjectPaths.EXPORT_MANIFEST).is_file() or (path / ProjectPaths.GENERATOR).is_file():
        return choose_exported(path, mode, report, default_mode)
    if (path / "models").is_dir():
        return choose_backend(None, ProjectPaths(path), mode, report, default_mode)
    raise ModelLoadError(
        f"{path}: a folder, but no model in it (looked for a SavedModel's saved_model.pb, an MLflow "
        f"model's MLmodel, an export folder's {ProjectPaths.EXPORT_MANIFEST} or {ProjectPaths.GENERATOR}, "
        "and a project's models/)"
    )
