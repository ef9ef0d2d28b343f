"""A registered colorizer (``models:/NAME/VERSION``, ``models:/NAME@ALIAS``, ``runs:/...``) via MLflow.

The registered model is the colorizer pyfunc that export logs
(:mod:`sketch2color.export.registration`): its artifacts hold the Keras
generator and a ``settings.json`` with the inference mode. Only those two
artifacts are used: the pyfunc's own code is never run here (loading it
would put its code folder first on ``sys.path``), and the generator loads
with Keras ``safe_mode`` like any other.

A registered version never changes, so its files are downloaded once, into
the user's cache folder under the store, name and version, and used from
there afterwards; ``latest`` and aliases are resolved against the registry
every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from sketch2color.config import InferenceMode
from sketch2color.inference.backends import KerasBackend
from sketch2color.inference.errors import ModelLoadError, Report
from sketch2color.paths import ProjectPaths

URI_SCHEMES = ("models:/", "runs:/")
MLMODEL = "MLmodel"
_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>[^/]+)|@(?P<alias>[^/]+))/?$")


def is_model_uri(spec: str) -> bool:
    return spec.startswith(URI_SCHEMES)


def tracking_uri_for_models(paths: ProjectPaths, configured: str | None, environ: Mapping[str, str]) -> str:
    """The store a model URI is read from: ``MLFLOW_TRACKING_URI``, else the user config's
    ``tracking_uri``, else the project's own sqlite store when it exists.

    A sqlite file that does not exist is refused rather than passed on: MLflow
    would create an empty store there and then report the model missing.
    """
    from sketch2color.tracking.store import resolve_tracking_uri, sqlite_db_path

    uri = environ.get("MLFLOW_TRACKING_URI", "").strip() or (configured or "").strip()
    if not uri:
        uri = resolve_tracking_uri(paths)
        if not paths.root.joinpath(ProjectPaths.MLFLOW_DB).is_file():
            raise ModelLoadError(
                "no MLflow store to read a registered model from: set MLFLOW_TRACKING_URI "
                "(for example sqlite:////path/to/project/mlflow.db or http://host:5000), or "
                "tracking_uri in the user config, or run from the project folder"
            )
    database = sqlite_db_path(uri)
    if database is not None and not database.is_file():
        raise ModelLoadError(f"the MLflow store {uri} does not exist (no file {database})")
    return uri


def open_registered(
    uri: str,
    tracking_uri: str,
    mode: InferenceMode | None,
    report: Report,
    cache: Path | None = None,
) -> KerasBackend:
    """The generator of the colorizer at ``uri``, in ``mode`` (None: the mode it was exported with)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    try:
        concrete, label = _pin_version(client, uri)
        folder = _download(concrete, tracking_uri, cache or default_cache())
    except MlflowException as exc:
        raise ModelLoadError(f"{uri}: cannot be read from {tracking_uri}: {exc.message}") from None
    if label:
        report(f"note: {uri} is {label}")
    return open_model_folder(folder, mode, uri)


def _pin_version(client, uri: str) -> tuple[str, str]:
    """``uri`` with ``latest`` or an alias replaced by the version number, and a note saying which."""
    match = _MODELS_URI.match(uri)
    if match is None:
        return uri, ""
    name, version, alias = match["name"], match["version"], match["alias"]
    if alias:
        found = client.get_model_version_by_alias(name, alias)
    elif version == "latest":
        versions = client.search_model_versions(
            f"name = '{name}'", order_by=["version_number DESC"], max_results=1
        )
        if not versions:
            raise ModelLoadError(f"{uri}: the registry has no versions of '{name}'")
        found = versions[0]
    else:
        found = client.get_model_version(name, version)
    return f"models:/{name}/{found.version}", f"version {found.version} of {name}"


def default_cache() -> Path:
    from platformdirs import user_cache_path

    return user_cache_path("sketch2color") / "registered"


def _download(uri: str, tracking_uri: str, cache: Path) -> Path:
    """The model's files in the cache, downloaded once per store and pinned URI."""
    import mlflow
    from mlflow.environment_variables import MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR

    from sketch2color.atomic import atomic_directory

    key = hashlib.sha256(f"{tracking_uri}\n{uri}".encode()).hexdigest()[:16]
    folder = cache / key
    if (folder / MLMODEL).is_file():
        return folder
    if not sys.stderr.isatty():  # MLflow's bar, like colorize's own, only for a person: piped, a line a file
        os.environ.setdefault(MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR.name, "false")
    with atomic_directory(folder) as staging:
        mlflow.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=str(staging), tracking_uri=tracking_uri, registry_uri=tracking_uri
        )
        (staging / "source.txt").write_text(f"{uri}\n{tracking_uri}\n", encoding="utf-8")
        _flatten(staging)
    return folder


def _flatten(staging: Path) -> None:
    """download_artifacts puts a runs:/ model in a sub-folder named after it; keep the model at the top."""
    if (staging / MLMODEL).is_file():
        return
    inner = [p for p in staging.iterdir() if (p / MLMODEL).is_file()]
    if len(inner) == 1:
        for item in inner[0].iterdir():
            os.replace(item, staging / item.name)
        inner[0].rmdir()


def open_model_folder(folder: Path, mode: InferenceMode | None, name: str | None = None) -> KerasBackend:
    """An MLflow model folder of the colorizer (its ``MLmodel`` and artifacts) as a backend."""
    from sketch2color.serving import GENERATOR_ARTIFACT, SETTINGS_ARTIFACT

    label = name or str(folder)
    try:
        from mlflow.models import Model

        artifacts = Model.load(str(folder / MLMODEL)).flavors.get("python_function", {}).get("artifacts", {})
    except Exception as exc:  # noqa: BLE001 - a hand-made or damaged MLmodel: say so, do not crash
        raise ModelLoadError(f"{label}: not a readable MLflow model: {type(exc).__name__}: {exc}") from None
    if GENERATOR_ARTIFACT not in artifacts:
        raise ModelLoadError(
            f"{label}: an MLflow model, but not the sketch2color colorizer "
            f"(no '{GENERATOR_ARTIFACT}' artifact; it has: {', '.join(artifacts) or 'none'})"
        )
    generator = _inside(folder, artifacts[GENERATOR_ARTIFACT].get("path", ""), label)
    exported_mode: InferenceMode = "eval"
    if SETTINGS_ARTIFACT in artifacts:
        settings_file = _inside(folder, artifacts[SETTINGS_ARTIFACT].get("path", ""), label)
        try:
            settings = json.loads(settings_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{label}: unreadable {settings_file.name}: {exc}") from None
        if settings.get("inference_mode") in ("eval", "train_dropout"):
            exported_mode = settings["inference_mode"]
    return KerasBackend(generator, mode or exported_mode)


def _inside(folder: Path, relative: str, label: str) -> Path:
    """An artifact path from MLmodel, refused unless it stays inside the model folder."""
    path = (folder / relative).resolve()
    if not relative or not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise ModelLoadError(f"{label}: artifact '{relative}' is missing or outside the model folder")
    return path
