"""Where ``colorize`` and the GUI find a model, from any folder: the places, in order, and the user default.

An artist runs the tools from their own art folder, not from the project, so
the model is looked for, in order:

1. ``--model`` (or the GUI's "Choose model"): a file, a folder, or a
   registered model URI (``models:/sketch2color-generator/latest``);
2. the environment variable :data:`MODEL_ENV`, the same kinds of value;
3. the user's default: ``model = "..."`` in :func:`user_config_file`
   (``sketch2color model --set-default ...`` writes it);
4. the project folder (the working directory), as the pipeline left it.

The first place that names a model decides; a model named there that cannot
be used is an error, never a quiet fall back to the next place. When no
place names one, the error lists each place and what it held.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from sketch2color.inference.errors import ModelLoadError

MODEL_ENV = "SKETCH2COLOR_MODEL"
CONFIG_ENV = "SKETCH2COLOR_CONFIG"
"""Names another user config file (tests, or several setups side by side)."""
APP_NAME = "sketch2color"
CONFIG_NAME = "config.toml"


class UserConfig(BaseModel):
    """The user's own defaults, from :func:`user_config_file`."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    model: str | None = None
    """A model file or folder, or a registered model URI: the default for every folder."""
    tracking_uri: str | None = None
    """The MLflow store a ``models:/`` URI is read from when ``MLFLOW_TRACKING_URI`` is not set."""


@dataclass(frozen=True)
class ModelSource:
    """A model as named by one of the places: ``spec`` is a path or URI (the project folder, the
    last place, names none: it is searched by its layout)."""

    spec: str
    origin: str


def user_config_file(environ: Mapping[str, str] = os.environ) -> Path:
    """``$SKETCH2COLOR_CONFIG``, else ``config.toml`` in the user's config folder (platformdirs:
    ``~/.config/sketch2color`` on Linux, or under ``$XDG_CONFIG_HOME``)."""
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV]).expanduser()
    from platformdirs import user_config_path

    return user_config_path(APP_NAME) / CONFIG_NAME


def read_user_config(path: Path) -> UserConfig:
    """The user config at ``path`` (an absent file is the empty config); a bad one names the file and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UserConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return UserConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise ModelLoadError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors()
        )
        allowed = ", ".join(UserConfig.model_fields)
        raise ModelLoadError(f"{path}: {problems} (keys allowed: {allowed})") from None


def write_user_config(path: Path, config: UserConfig) -> None:
    """Write ``config`` as TOML (JSON's string escapes are TOML's basic-string ones)."""
    from sketch2color.atomic import write_bytes

    lines = [
        f"{key} = {json.dumps(value)}" for key, value in config.model_dump().items() if value is not None
    ]
    write_bytes(path, ("\n".join(lines) + "\n").encode("utf-8") if lines else b"")


def find_model_source(
    explicit: str | Path | None, environ: Mapping[str, str] = os.environ
) -> tuple[ModelSource | None, list[str]]:
    """The first place that names a model, or None for the project folder; and what each place
    looked at held (for the error when the project folder has none either)."""
    looked: list[str] = []
    if explicit is not None and str(explicit).strip():
        return ModelSource(str(explicit), "--model"), looked
    looked.append("--model: not given")
    from_env = environ.get(MODEL_ENV, "").strip()
    if from_env:
        return ModelSource(from_env, f"${MODEL_ENV}"), looked
    looked.append(f"${MODEL_ENV}: not set")
    config_file = user_config_file(environ)
    config = read_user_config(config_file)
    if config.model:
        return ModelSource(config.model, f"the user default in {config_file}"), looked
    looked.append(f"{config_file}: {'no model = ...' if config_file.is_file() else 'no such file'}")
    return None, looked


def how_to_set_a_model(environ: Mapping[str, str] = os.environ) -> str:
    """The ways to name a model, for every error that found none."""
    return (
        "name one with --model PATH or --model models:/sketch2color-generator/latest, "
        f"or export {MODEL_ENV}=..., or once for every folder: "
        f"`sketch2color model --set-default PATH_OR_URI` (writes {user_config_file(environ)}); "
        "or run `dvc repro` in the project folder"
    )
