"""Logging the colorizer (a picture in, a picture out) to the training's run and registering it.

The export stage does this, not the train stage, for two reasons:

* the picture code (fitting, the line-faithful composition, the fills) is
  then an export dependency, never a training one: an edit to it re-exports
  and registers a new version in seconds, instead of retraining;
* the registered model carries today's picture code, not the code of the day
  the network was trained.

The model is logged as code (MLflow's models-from-code: ``serving_entry.py``
is run when it loads, nothing is unpickled) with only the modules that
serving imports (:func:`serving_modules`), not the whole package: no
training loop, GUI or pipeline travels with it.
"""

from __future__ import annotations

import importlib.metadata
import json
import modulefinder
import shutil
import tempfile
import warnings
from pathlib import Path

from sketch2color.config import InferenceMode
from sketch2color.serving import GENERATOR_ARTIFACT, SETTINGS_ARTIFACT, ServingLimits, signature
from sketch2color.tracking.registry import generator_pip_requirements
from sketch2color.tracking.store import retry_when_locked, store_lock

ARTIFACT_NAME = "colorizer"
ENTRY_MODULE = "serving_entry.py"
PACKAGE = "sketch2color"


def serving_modules() -> list[Path]:
    """The package's files that serving imports, directly or not, relative to the package's parent.

    Python's own :mod:`modulefinder` reads the imports (those inside
    functions too) from the bytecode, starting at the models-from-code entry;
    searching only the package's parent folder keeps it from walking into
    TensorFlow or pandas.
    """
    package = _package_folder()
    finder = modulefinder.ModuleFinder(path=[str(package.parent)])
    finder.run_script(str(package / ENTRY_MODULE))
    files = {
        Path(module.__file__)  # type: ignore[attr-defined]  # set by modulefinder, missing from its stubs
        for name, module in finder.modules.items()
        if name.startswith(PACKAGE)
    }
    files.add(package / ENTRY_MODULE)
    return sorted(path.relative_to(package.parent) for path in files)


def _package_folder() -> Path:
    import sketch2color

    return Path(sketch2color.__file__).parent


def log_colorizer(run_id: str | None, generator_file: Path, mode: InferenceMode):
    """Log the colorizer pyfunc to run ``run_id`` (None: MLflow's active run); its ModelInfo."""
    import mlflow
    from mlflow.models import Model

    package = _package_folder()
    with tempfile.TemporaryDirectory(prefix="sketch2color-colorizer-") as tmp, warnings.catch_warnings():
        code = Path(tmp) / "code"
        for relative in serving_modules():
            (code / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(package.parent / relative, code / relative)
        settings = Path(tmp) / "settings.json"
        settings.write_text(json.dumps({"inference_mode": mode}), encoding="utf-8")
        # MLflow suggests type hints on predict for its own input validation; the signature
        # below already says what the model takes.
        warnings.filterwarnings("ignore", message=".*type hints.*", category=UserWarning)
        return Model.log(
            artifact_path=None,
            name=ARTIFACT_NAME,
            flavor=mlflow.pyfunc,
            run_id=run_id,
            python_model=str(code / PACKAGE / ENTRY_MODULE),
            artifacts={GENERATOR_ARTIFACT: str(generator_file), SETTINGS_ARTIFACT: str(settings)},
            code_paths=[str(code / PACKAGE)],
            signature=signature(),
            # The request bounds, as MLflow's model_config: listed in the MLmodel file, and a
            # deployment overrides them when it serves (MLflow also logs them as run params).
            model_config=ServingLimits().as_config(),
            pip_requirements=generator_pip_requirements() + colorizer_pip_requirements(),
        )


def log_and_register(
    run_id: str, generator_file: Path, mode: InferenceMode, name: str, tracking_uri: str
) -> tuple[str, int]:
    """Log the colorizer to the training's run and register it as a new version of ``name``;
    (model URI, version). Holds the store lock throughout: the next version number is decided
    by the store, and parallel exports race for it."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    with store_lock(tracking_uri):
        info = retry_when_locked(lambda: log_colorizer(run_id, generator_file, mode), "logging the colorizer")
        version = retry_when_locked(
            lambda: mlflow.register_model(info.model_uri, name), f"registering '{name}'"
        )
    return info.model_uri, int(version.version)


def colorizer_pip_requirements() -> list[str]:
    """What the inference layer imports besides TensorFlow (the package itself travels as code)."""
    names = ("opencv-contrib-python-headless", "pillow", "numpy", "pyyaml", "pydantic", "pandas")
    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins
